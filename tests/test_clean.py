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


# Article furniture of scraped WeChat/blog pages (tests/fixtures/ingest/ has them in place).


def test_image_lines_and_placeholders() -> None:
    text = "答案一。\n![图片](https://mmbiz.qpic.cn/a/640?wx_fmt=png)\n[图片]\n![](x.png) ![](y.png)\n答案二。"
    assert c.drop_image_lines(text) == "答案一。\n答案二。"


def test_link_lines_only_when_the_line_is_nothing_but_links() -> None:
    text = "https://example.org/a\n[推荐一](https://a) | [推荐二](https://b)\n详见https://x.org的说明。"
    assert c.drop_link_lines(text) == "详见https://x.org的说明。"


def test_credits_with_a_bar_or_colon_but_a_label_with_a_colon_stays() -> None:
    text = "\n".join(["文丨于丽丽 编辑丨刘旌", "图片来源丨视觉中国", "排版｜小林", "题图：IC photo", "作者|张三",
                      "记者：你怎么看开源？", "作者：我写这本书是为了回答一个问题。", "编辑丨他说，这是最重要的一点。"])
    assert c.drop_credits(text).split("\n") == ["记者：你怎么看开源？", "作者：我写这本书是为了回答一个问题。",
                                                "编辑丨他说，这是最重要的一点。"]


def test_account_boilerplate_but_not_words_that_contain_its_words() -> None:
    junk = ["点击上方蓝字关注我们", "原创内容，未经授权禁止转载", "扫码关注白马商评公众号", "点个“在看”，分享给朋友",
            "原创 于丽丽 暗涌Waves 2023-05-23 17:00", "关注公众号，后台回复“大模型”获取报告"]
    kept = ["现在看来，大模型的门槛还在提高。", "我们在公众号上写过很多次这个观点，也收到过很多反馈，这里不再重复展开讲了。"]
    assert c.drop_account_boilerplate("\n".join(junk + kept)).split("\n") == kept


def test_contact_notes() -> None:
    junk = ["欢迎添加作者微信 guancha_ai 交流，请备注姓名、公司和职位。", "本文作者微信：baima_sp，欢迎交流。",
            "商务合作请联系：bd@example.org", "扫码进读者群"]
    kept = ["微信改变了人们的沟通方式，大模型也会。"]
    assert c.drop_contact_notes("\n".join(junk + kept)).split("\n") == kept


def test_footer_is_cut_from_its_marker_to_the_end_only_in_the_second_half() -> None:
    body = "\n".join(f"第{i}段回答，内容足够长。" for i in range(6))
    log: list[c.Dropped] = []
    assert c.drop_footer(body + "\n**— END —**\n往期推荐\n观察者网，一个有立场的新闻平台。", log) == body
    assert [d.line for d in log] == ["**— END —**", "往期推荐", "观察者网，一个有立场的新闻平台。"]
    early = "推荐阅读\n" + body
    assert c.drop_footer(early) == early


def test_a_pull_quote_repeating_a_longer_line_goes_the_line_it_repeats_stays() -> None:
    answer = "梁文锋：我们不会闭源。我们认为先有一个强大的技术生态更重要。这是我们的判断。"
    text = "\n".join(["> “我们认为先有一个强大的技术生态更重要。”", answer, "**我们认为先有一个强大的技术生态更重要。**——梁文锋"])
    assert c.drop_pull_quotes(text) == answer
    # Too short to tell, or a turn of its own: stays.
    assert c.drop_pull_quotes("是的。\n我说是的。他说是的。") == "是的。\n我说是的。他说是的。"
    turn = "丁磊：我认为可以这么理解。\n丁磊：我认为可以这么理解。这是另一句话。"
    assert c.drop_pull_quotes(turn) == turn


def test_clean_logs_every_dropped_line_under_its_rule() -> None:
    log: list[c.Dropped] = []
    text = c.clean("排版丨小林\n记者：问？\n![图片](x.png)\n答：答案。\n欢迎添加作者微信 abc 交流", log=log)
    assert text == "记者：问？\n答：答案。"
    assert [(d.rule, d.line) for d in log] == [
        ("drop_image_lines", "![图片](x.png)"), ("drop_credits", "排版丨小林"),
        ("drop_contact_notes", "欢迎添加作者微信 abc 交流")]


def test_junk_in_is_the_cleaning_rules_applied_to_a_quote() -> None:
    assert c.junk_in("开源降低了门槛。\n算力很贵。") == []
    assert c.junk_in("开源降低了门槛。\n图片来源丨视觉中国") == [("drop_credits", "图片来源丨视觉中国")]


def test_no_new_rule_fires_on_the_seed_sources() -> None:
    """The seeds' output must not move: the furniture rules find nothing in them."""
    from pathlib import Path

    from bot.ingest.build import load_repairs, load_sources

    corpus = Path(__file__).resolve().parents[1] / "corpus"
    repairs = load_repairs(corpus)
    new = {"drop_image_lines", "drop_link_lines", "drop_credits", "drop_account_boilerplate", "drop_contact_notes",
           "drop_footer", "drop_pull_quotes"}
    for spec in load_sources(corpus):
        if not spec.file.startswith(("000_", "001_", "002_", "003_", "004_")):
            continue
        log: list[c.Dropped] = []
        c.clean((corpus / "raw" / spec.file).read_text(encoding="utf-8"), repairs.get(spec.source.id, []), log)
        assert [d for d in log if d.rule in new] == [], spec.file


def test_symbol_lines_and_wechat_buttons_but_not_the_readers_rule_line() -> None:
    from bot.ingest.readers.model import BREAK

    text = f"答案。\n▼\n· · ·\n{BREAK}\n赞\n在看\n点击“阅读原文”\n图丨梁文锋\n现在看来还早。"
    assert c.clean(text) == f"答案。\n{BREAK}\n现在看来还早。"


def test_wechat_reader_leftovers_end_the_page() -> None:
    body = "\n".join(f"第{i}段回答，内容足够长。" for i in range(6))
    assert c.drop_footer(body + "\n继续滑动看下一个\n暗涌Waves\n向上滑动看下一个") == body
