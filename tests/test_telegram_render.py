"""Renderer and keyboards without any network: escaping, splitting, callback data limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from botapi.tg_html import parse_html

from bot.conversation import ChatState, Conversation
from bot.matching import Engine
from bot.paths import default_personas_dir
from bot.telegram import keyboards, render
from bot.telegram.render import split
from bot.views import Span, build
from bot.views import labels as view_labels
from bot.views import text as view_text


@pytest.fixture(scope="module")
def conv(tiny_personas_dir: Path) -> Conversation:
    return Conversation(Engine.load(tiny_personas_dir))


def visible(parts: list[str]) -> list[str]:
    """What Telegram would show for each part (raises like Telegram on bad HTML)."""
    return [parse_html(p).text for p in parts]


def test_short_message_is_one_part_and_escaped() -> None:
    [part] = split([Span("a < b & c", "b"), Span(" <i>not a tag</i>")])
    assert part == "<b>a &lt; b &amp; c</b> &lt;i&gt;not a tag&lt;/i&gt;"


def test_split_at_sentence_ends_and_every_part_parses() -> None:
    sentence = "这是一个很长的句子，用来测试分段。"
    quote = Span(sentence * 600, "blockquote")  # ~10,800 characters
    parts = split([Span("标题", "b"), Span("\n"), quote, Span("\n"), Span("来源", "a", "https://x.y/?a=1&b=2")])
    texts = visible(parts)
    assert len(parts) == 3 and all(len(t) <= 4096 for t in texts)
    assert all(t.endswith("。") for t in texts[:-1])
    assert all(p.count("<blockquote>") == p.count("</blockquote>") == 1 for p in parts)
    assert "".join(texts).count(sentence) == 600


def test_split_counts_utf16_so_emoji_never_overflow() -> None:
    parts = split([Span("😀" * 3000)])  # 6,000 UTF-16 units
    assert len(parts) == 2 and all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert "".join(parts) == "😀" * 3000


def test_split_without_any_boundary_cuts_hard_but_inside_the_tag() -> None:
    parts = split([Span("x" * 5000, "code")])
    assert [len(t) for t in visible(parts)] == [4096, 904]
    assert all(p.startswith("<code>") and p.endswith("</code>") for p in parts)


def test_a_span_that_fits_a_fresh_message_is_not_cut_early() -> None:
    parts = split([Span("a" * 4050), Span("\n"), Span("第一句。第二句。" * 20, "i")])  # < half would fit
    assert len(parts) == 2 and parts[1].startswith("<i>第一句")


def test_truncate_gives_one_valid_message() -> None:
    text = render.truncate([Span("句子。" * 3000, "blockquote")])
    assert len(parse_html(text).text) <= 4096 and text.endswith("……（全文见来源）")


@pytest.mark.parametrize(
    "command",
    ["/start", "/help", "/about", "/experts", "/expert 丁磊", "/all", "/topics", "/topics 丁磊",
     "/ask 丁磊 开源会不会影响商业化", "/ask 丁磊 算力", "/compare 丁磊 沈向洋 监管", "/compare",
     "/compare 丁磊 沈向洋",
     "/expert 马云", "/ask", "🙂", "/nope", "xyzzy plugh"],
)
def test_every_reply_renders_valid_html_and_short_callback_data(conv: Conversation, command: str) -> None:
    reply = conv.handle(command, ChatState("ding-lei"))
    parts = render.render(reply)
    assert parts and all(0 < len(t) <= 4096 for t in visible(parts))
    markup = keyboards.markup(build(reply), {}, "PersonaTestBot")
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            assert button.url or (button.callback_data and keyboards.decode(str(button.callback_data)))


def test_real_personas_render_and_fit_callback_limits() -> None:
    conv = Conversation(Engine.load(default_personas_dir()))
    stash: dict[str, str] = {}
    for persona in conv.engine.personas:
        assert visible(render.render(conv.select(persona.id, ChatState())))
        for entry in persona.entries:
            reply = conv.entry(entry.id)
            assert all(len(t) <= 4096 for t in visible(render.render(reply)))
            markup = keyboards.markup(build(reply), stash, "PersonaTestBot")
            assert markup is not None  # at least 分享
            data = [b.callback_data for row in markup.inline_keyboard for b in row if b.callback_data]
            assert all(len(str(d).encode()) <= 64 for d in data)
    a, b = conv.engine.personas[0], conv.engine.personas[1]
    picker = conv.compare_pick(a.id, b.id)
    assert keyboards.markup(build(picker), stash) is not None


def test_stash_keeps_recent_texts_only() -> None:
    stash: dict[str, str] = {}
    keys = [keyboards.stash_text(stash, f"问题 {i}") for i in range(keyboards.STASH_SIZE + 5)]
    assert len(stash) == keyboards.STASH_SIZE and keys[0] not in stash and stash[keys[-1]].endswith(str(204))


# ---- short replies: the matched passage first, a short header, the question trimmed ----

phone_lines = view_text.phone_lines


def test_phone_lines_count_width_and_newlines() -> None:
    assert phone_lines("中" * 20) == 1 and phone_lines("中" * 21) == 2 and phone_lines("a" * 41) == 2
    assert phone_lines("a\nb\n") == 3


def before_expandable(part: str) -> str:
    """The visible text above the first expandable quote (all of it when there is none)."""
    parsed = parse_html(part)
    folded = [e for e in parsed.entities if e["type"] == "expandable_blockquote"]
    if not folded:
        return parsed.text
    cut = folded[0]["offset"]  # UTF-16 units; the corpus is in the BMP, so characters
    return parsed.text[:cut]


@pytest.mark.parametrize(
    ("question", "shown"),
    [
        ("好,第三個好我們再問4位嘉賓最后一個問題,在這個過程中,怎么來看大模型?", "…在這個過程中,怎么來看大模型?"),
        ("你在书中强调要有数据化驱动的思维。如何看待AI与数字鸿沟之间的关系？", "如何看待AI与数字鸿沟之间的关系？"),
        ("AI 监管应该怎么做？", "AI 监管应该怎么做？"),
        ("通用大模型時代的人機關系", None),  # a speech title asks nothing: hidden
        ("歡迎大家來到圓桌對話環節!首先請4位嘉賓分別用一個關鍵詞來分享。", None),
    ],
)
def test_interviewer_question_trimmed_to_its_last_question(question: str, shown: str | None) -> None:
    assert view_text.short_question(question) == shown


def test_long_question_is_one_line_of_its_last_clauses() -> None:
    long = "之前看到一种说法,AI 1.0时代是在海量数据库中做快速比对,而ChatGPT的突破之处在于,它可以基于大数据集自己生成内容,您如何看待此种说法和它的前提以及未来可能的发展?"
    shown = view_text.short_question(long)
    assert shown is not None and shown.startswith("…") and view_text.width(shown) <= view_text.MAX_QUESTION
    assert view_text.phone_lines("问：" + shown) == 1  # one phone line
    assert long.endswith(shown[1:])


def test_full_roles_are_simplified_beside_simplified_names(conv: Conversation) -> None:
    from bot.conversation import ExpertProfile

    persona = conv.engine.personas[0].model_copy(update={"role": "美國國家工程院外籍院士，香港科技大學校董會主席"})
    shown = build(ExpertProfile(persona, [], selected=True)).plain()
    assert "美国国家工程院外籍院士，香港科技大学校董会主席" in shown and "美國" not in shown


def test_role_is_short_and_simplified() -> None:
    assert view_text.short_role("某知名985高校教授（化名），多年从事机器学习研究") == "某知名985高校教授"
    assert view_text.short_role("美國國家工程院外籍院士") == "美国国家工程院外籍院士"
    assert view_text.short_question("（笑）那您怎么看？") is None  # transcript noise: not shown
    assert len(view_text.short_role("很长" * 40)) == view_text.MAX_ROLE


def test_confidence_in_words_from_the_probability() -> None:
    confidence = view_labels.confidence
    assert confidence(0.97) == "很接近" and confidence(0.7) == "比较接近" and confidence(0.4) == "可能相关"
    assert confidence(0.97, english=True) == "close match"


def _real_answers() -> list[tuple[str, object]]:
    conv = Conversation(Engine.load(default_personas_dir()))
    questions = [e.question for p in conv.engine.personas for e in p.entries]
    questions += ["AI会取代人吗", "算力重要吗", "数据是壁垒吗", "中国大模型和美国差距多大", "大模型会不会有泡沫",
                  "大家怎么看开源", "大家怎么看大模型", "丁磊和沈为怎么看算力"]  # comparisons: one screen too
    return [(q, conv.handle(q, ChatState())) for q in questions]


@pytest.fixture(scope="module")
def real_answers() -> list[tuple[str, object]]:
    return _real_answers()


def test_real_answers_lead_with_a_verbatim_passage_and_fit_a_phone_screen(real_answers: list) -> None:
    from bot.conversation import AnswerReply, CompareReply

    led = 0
    for question, reply in real_answers:
        if not isinstance(reply, AnswerReply | CompareReply):
            continue
        parts = render.render(reply)
        shown = before_expandable(parts[0])
        assert phone_lines(shown) <= 15, (question, shown)  # compare cards too: one screen
        matches = reply.answer.matches[:1] if isinstance(reply, AnswerReply) else [
            s.matches[0] for s in reply.comparison.sides if s.matches]
        parsed = parse_html(parts[0])
        quotes = [parsed.text[e["offset"]: e["offset"] + e["length"]] for e in parsed.entities
                  if e["type"] == "blockquote"]
        bold = [parsed.text[e["offset"]: e["offset"] + e["length"]] for e in parsed.entities if e["type"] == "bold"]
        for match in matches:
            if match.span is None:
                continue
            led += 1
            passage = match.entry.answer[match.span[0]: match.span[1]]
            shown = next((q.strip("…") for q in quotes if q.strip("…") and q.strip("…") in passage), "")
            assert passage.startswith(shown) and shown, (question, quotes)  # the matched part, verbatim
            names = {m.persona.display_name for m in matches} | {"问：", "Compare: ", "对比："}
            assert all(b in names or any(b in m.entry.answer for m in matches) for b in bold), bold
    assert led >= 2  # the corpus has long answers: the passage rule is exercised


def test_every_button_on_real_answers_is_encodable_and_none_is_a_source_toast(real_answers: list) -> None:
    for _question, reply in real_answers:
        markup = keyboards.markup(build(reply), {})  # type: ignore[arg-type]
        for row in markup.inline_keyboard if markup else ():
            for button in row:
                decoded = keyboards.decode(str(button.callback_data))
                assert decoded is not None  # no source button: that toast repeated what is on screen


def test_suggestion_buttons_open_exactly_the_question_on_their_label() -> None:
    from bot.conversation import AnswerReply

    conv = Conversation(Engine.load(default_personas_dir()))
    opened = 0
    for question in ["大模型的商业化前景", "大模型生态怎么搭", "开源大模型怎么看", "芯片被卡脖子怎么办"]:
        reply = conv.handle(question, ChatState())
        if not isinstance(reply, AnswerReply) or reply.answer.matches:
            continue
        markup = keyboards.markup(build(reply), {})
        for row in markup.inline_keyboard if markup else ():
            for button in row:
                decoded = keyboards.decode(str(button.callback_data))
                assert decoded is not None
                if decoded[0] == keyboards.ENTRY:
                    match = conv.engine.entry(decoded[1][0])
                    assert match is not None
                    label = button.text.rstrip("…").lstrip("…")
                    assert label in match.entry.question, (button.text, match.entry.question)
                    opened += 1
    assert opened >= 1


def test_topics_page_with_arrows_on_the_real_corpus() -> None:
    from bot.conversation import TOPIC_PAGE, TopicList

    conv = Conversation(Engine.load(default_personas_dir()))
    first = conv.handle("/topics", ChatState())
    assert isinstance(first, TopicList) and len(first.topics) > TOPIC_PAGE
    markup = keyboards.markup(build(first), {})
    assert markup is not None
    arrows = [b for row in markup.inline_keyboard for b in row if b.text in "◀▶"]
    assert [b.text for b in arrows] == ["▶"]
    _action, args = keyboards.decode(str(arrows[0].callback_data)) or ("", [])
    second = conv.topics_page(args[0] or None, int(args[1]))
    assert isinstance(second, TopicList) and second.page == 1
    shown = set()
    for page in range(-(-len(first.topics) // TOPIC_PAGE)):
        text = visible(render.render(conv.topics_page(None, page)))[0]
        shown |= {t.id for t in first.topics if f"• {t.label}" in text}
    assert shown == {t.id for t in first.topics}  # every topic is on some page
