"""Each cleaning rule on the real snippet from the seeds that it exists for."""

from __future__ import annotations

from bot.ingest import clean as c


def test_record_body_drops_title_link_and_machine_summaries() -> None:
    raw = ("标题: 《生成式人工智能》作者丁磊:模型既要大也要深\n链接: https://x\n总结: 界面新闻：问？丁磊：答。举报/反馈\n"
           "关键词: 生成式人工智能, 大模型\nAI技术: 深度学习\n行业: 金融\n重大事件摘要: 这篇文章主要讨论了\n\n1. **大模型**：随着")
    body = c.body_of_record(raw)
    assert body.startswith("界面新闻：问？")
    for junk in ("标题", "链接", "关键词", "AI技术", "行业: ", "重大事件摘要", "这篇文章主要讨论了"):
        assert junk not in body


def test_report_button_glued_to_last_answer() -> None:
    assert c.drop_report_button("与人工智能一起工作。举报/反馈") == "与人工智能一起工作。"


def test_everything_after_the_tags_line_goes() -> None:
    text = "也是一個整個產業生態體系的競爭。\n標(biāo)簽:大模型 我要反饋 \n即刻點擊并下載ABB資料,好禮贏不停~\n西克"
    assert c.drop_after_tags_line(text) == "也是一個整個產業生態體系的競爭。\n"


def test_gbk_shift_repairs_a_character_confirmed_by_its_pinyin() -> None:
    assert c.repair_gbk_shift("最后一個問題?,F(xiàn)在數(shù)字") == "最后一個問題現(xiàn)在數(shù)字"


def test_gbk_shift_repairs_private_use_garble_and_cuts_the_lost_byte() -> None:
    assert c.repair_gbk_shift("通用的方法?;\ue2c4谌A為公司自身") == "通用的方法基于華為公司自身"


def test_gbk_shift_leaves_real_question_marks_alone() -> None:
    text = "有没有本质区别?AlphaGo和ChatGPT?Transformer"
    assert c.repair_gbk_shift(text) == text


def test_broken_entity() -> None:
    assert c.fix_broken_entities("談論很多的?ldquo;規模效應”") == "談論很多的“規模效應”"


def test_pinyin_junk_goes_real_parentheses_stay() -> None:
    assert c.strip_pinyin("原創(chuàng)") == "原創"
    assert c.strip_pinyin("智能網(wǎng)原創(chuàng),轉(zhuǎn)載") == "智能網原創,轉載"
    for real in ("通用人工智能（AGI）", "序列到序列模型(sequence to sequence)", "ChatGPT(资料图)",
                 "通用人工智能(AGI)", "是不是(會有)“涌現”"):
        assert c.strip_pinyin(real) == real
    assert c.strip_pinyin("是不是(會(huì)有)“涌現(xiàn)”") == "是不是(會有)“涌現”"


def test_known_mojibake_repairs_from_the_table() -> None:
    repairs = [c.Repair("因?yàn)橛X(jué)得", "因為覺得"), c.Repair("以O(shè)penAI", "以OpenAI")]
    text = c.apply_repairs("因?yàn)橛X(jué)得這是人工智能的作品,以O(shè)penAI為代表", repairs)
    assert text == "因為覺得這是人工智能的作品,以OpenAI為代表"


def test_leftover_private_use_garble_is_cut() -> None:
    assert c.cut_leftover_garble("它帶\ue746來了") == "它帶來了"


def test_chrome_lines() -> None:
    text = "\n".join([
        "欧美人妻aⅴ中文_日韩av在线高清不卡_激情亚洲六月激情_国产精品视频永久免费视频",
        "siemens x", "原創", "智能網原創,轉載請注明來源", "今日关注", "更多", "發E-mail給: ",
        "| 打印 | 評論 |", "《科學新聞》 (科學新聞2024年4月刊 封面)",
        "作者:沈向洋 來源: 發布時間:2024-9-10 0:8:17", "通用大模型時代的人機關係",
    ])
    assert c.drop_chrome_lines(text) == "通用大模型時代的人機關係"


def test_captions_between_answers() -> None:
    text = "这三点,决定了我们能训练出什么样的模型。\nChatGPT(资料图)\n丁磊新书《生成式人工智能》\n观察者网:问"
    assert c.drop_captions(text) == "这三点,决定了我们能训练出什么样的模型。\n观察者网:问"


def test_editor_note_is_not_the_speakers_words() -> None:
    text = "值得人們在數學方面更進一步地研究!\n(作者系美國國家工程院外籍院士,記者趙廣立根據其在2024全球開發者先鋒大會上的演講整理)"
    assert c.drop_editor_notes(text) == "值得人們在數學方面更進一步地研究!"


def test_no_break_space_indents_and_blank_lines() -> None:
    assert c.normalize_spaces("\xa0\xa0過去幾年,大模型\n\n\xa0\n\xa0\xa0就“大模型”") == "過去幾年,大模型\n就“大模型”"


def test_text_doubling_in_the_source_is_quoted_as_written() -> None:
    text = "但是在在一些特定行業"
    assert c.clean(text) == text
