"""Speaker turns: labels in run-on text, title lines, scraper copies, round-table pairing."""

from __future__ import annotations

from bot.ingest.segment import drop_repeats, pair_interview, split_speech, split_turns


def test_run_on_labels_with_full_and_half_width_colons() -> None:
    text = "导语。界面新闻：问题一？丁磊：答案一。白马商评:问题二？沈为:答案二，走向失控？这个问题是大家担心的。"
    pre, turns = split_turns(text, ["界面新闻", "丁磊", "白马商评", "沈为"])
    assert pre == "导语。"
    said = [(t.label, text[t.start : t.end]) for t in turns]
    assert said[-1] == ("沈为", "答案二，走向失控？这个问题是大家担心的。")
    assert [label for label, _ in said] == ["界面新闻", "丁磊", "白马商评", "沈为"]


def test_a_fake_label_inside_a_title_is_not_a_turn() -> None:
    text = "专访《生成式人工智能》作者丁磊:中国大模型厂商赶超美国\n观察者网:问？\n丁磊:答。"
    _, turns = split_turns(text, ["观察者网", "丁磊"])
    assert [t.label for t in turns] == ["观察者网", "丁磊"]


def test_space_before_colon_and_a_title_line_naming_the_speaker() -> None:
    text = "安筱鵬:安筱鵬 阿里雲智能集團副總裁\n安筱鵬:問題?\n杜夏威 :回答一。\n杜夏威:回答二。"
    _, turns = split_turns(text, ["安筱鵬", "杜夏威"])
    assert [(t.label, text[t.start : t.end]) for t in turns] == [
        ("安筱鵬", "問題?"), ("杜夏威", "回答一。"), ("杜夏威", "回答二。")]


def test_scraper_copies_are_kept_once_and_the_glued_intro_is_cut() -> None:
    intro = "2022年末，ChatGPT3.5的出现迅速引发了广泛探讨。"
    text = (intro + "界面新闻：第一个问题是什么？丁磊：第一段回答的内容。第二句回答内容。" + intro
            + "以下为专访摘要：界面新闻：第一个问题是什么？丁磊：第一段回答的内容。丁磊：第一段回答的内容。第二句回答内容。 第二句回答内容。")
    pre, turns = split_turns(text, ["界面新闻", "丁磊"])
    kept = drop_repeats(text, pre, turns)
    assert [(t.label, text[t.start : t.end]) for t in kept] == [
        ("界面新闻", "第一个问题是什么？"), ("丁磊", "第一段回答的内容。第二句回答内容。")]


def test_round_table_guests_answer_the_moderators_question_and_his_conclusion_is_his() -> None:
    text = "主持:第一問?\n馬超:第一位的回答。\n杜夏威:第二位的回答。\n主持:根據討論,結論是:革命。\n第二段結論。"
    _, turns = split_turns(text, ["主持", "馬超", "杜夏威"])
    pairs = pair_interview(text, turns, {"主持": "moderator", "馬超": "expert", "杜夏威": "expert"})
    assert [(e.speaker, e.question, e.answer) for e in pairs] == [
        ("馬超", "第一問?", "第一位的回答。"), ("杜夏威", "第一問?", "第二位的回答。"),
        ("主持", "根據討論,結論是", "根據討論,結論是:革命。\n第二段結論。")]


def test_speech_keeps_each_section_whole_under_its_heading() -> None:
    points = "首先,要重新思考人機關係。\n其次,大模型將橫掃所有垂直行業。\n再次,算力是門檻。"
    text = f"通用大模型時代的人機關係\n過去幾年,大模型發展非常迅猛。\n對於人工智能發展的幾點思考\n{points}\n空標題"
    entries = split_speech(text, "沈向洋")
    assert [e.question for e in entries] == ["通用大模型時代的人機關係", "對於人工智能發展的幾點思考"]
    assert entries[1].answer == points  # the enumeration is one unit, quoted whole


# Labels found, not spelled: Markdown bold, brackets, spaces, either colon (WeChat exports).


def test_a_label_is_found_whatever_surrounds_it() -> None:
    from bot.ingest.segment import bare_label

    written = ["**「暗涌」：**问一？", "**「****暗涌」：** 问二？", "****「暗涌」：****问三？", "「暗涌」**：**问四？",
               "**「暗涌」**：问五？", "**暗涌:**问六？", "【暗涌】：问七？"]
    text = "\n".join(w + "\n**梁文锋：**答。" for w in written)
    for declared in (["「暗涌」", "**梁文锋"], ["暗涌", "梁文锋"]):
        _, turns = split_turns(text, declared)
        assert [(t.label, text[t.start : t.end]) for t in turns[::2]] == [("暗涌", f"问{n}？") for n in "一二三四五六七"]
        assert {text[t.start : t.end] for t in turns[1::2]} == {"答。"}
    assert bare_label("**「暗涌」：**") == "暗涌"


def test_latin_labels_only_start_a_line_and_may_be_numbered() -> None:
    text = "Q1: What is plan A?\nA: Plan A: train it. A: is not a turn here.\nQ2：第二问？\nA：AI的回答。"
    _, turns = split_turns(text, ["Q", "A"])
    assert [(t.label, text[t.start : t.end]) for t in turns] == [
        ("Q", "What is plan A?"), ("A", "Plan A: train it. A: is not a turn here."), ("Q", "第二问？"), ("A", "AI的回答。")]


def test_a_section_heading_ends_the_answer_and_becomes_its_context_never_a_question() -> None:
    text = "01 做AGI\n暗涌：问一？\n梁文锋：答一。\n02 开源\n暗涌：问二？\n梁文锋：答二。\n尾声"
    stops = {"01 做AGI", "02 开源", "尾声"}
    _, turns = split_turns(text, ["暗涌", "梁文锋"], stops)
    from bot.ingest.segment import stop_offsets

    pairs = pair_interview(text, turns, {"暗涌": "interviewer", "梁文锋": "expert"}, stop_offsets(text, stops))
    assert [(e.section, e.question, e.answer) for e in pairs] == [("01 做AGI", "问一？", "答一。"), ("02 开源", "问二？", "答二。")]


def test_plain_text_headings_sit_between_an_answer_and_the_next_question() -> None:
    from bot.ingest.segment import plain_headings

    text = "标题行\n问：一？\n答：一。\n大模型的落地\n问：二？\n答：二，还有\n补充说明\n答：三。"
    assert plain_headings(text, ["问", "答"], ["问"]) == {"大模型的落地"}


def test_label_candidates_with_counts() -> None:
    from bot.ingest.segment import label_candidates

    text = ("2023-07-26 14:59\n**「暗涌」：**问？\n**梁文锋：**答。比如：一个例子。\n「暗涌」：问？\n梁文锋：答。\n"
            "https://example.org\n梁文锋：又答。")
    assert label_candidates(text) == [("梁文锋", 3), ("暗涌", 2)]


def test_sentences_in_no_turn_are_reported() -> None:
    from bot.ingest.segment import unattributed

    text = "这是导语。记者写的。\n问：一？\n答：一。\n01 小标题\n这一句没有人说。"
    _, turns = split_turns(text, ["问", "答"], {"01 小标题"})
    assert unattributed(text, ["问", "答"], turns, {"01 小标题"}) == ["这是导语。", "记者写的。", "这一句没有人说。"]


def test_a_speech_uses_the_headings_its_markup_marks() -> None:
    text = "開場\n第一段話，不長\n第二節\n第二段話。"
    assert [e.question for e in split_speech(text, "沈向洋", headings={"開場", "第二節"})] == ["開場", "第二節"]
