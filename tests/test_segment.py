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
