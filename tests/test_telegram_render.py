"""Renderer and keyboards without any network: escaping, splitting, callback data limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from botapi.tg_html import parse_html

from bot.conversation import ChatState, Conversation
from bot.matching import Engine
from bot.paths import default_personas_dir
from bot.telegram import keyboards, render
from bot.telegram.render import Span, split


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
    markup = keyboards.for_reply(reply, {})
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
            markup = keyboards.for_reply(reply, stash)
            assert markup is not None
            data = [b.callback_data for row in markup.inline_keyboard for b in row if b.callback_data]
            assert data and all(len(str(d).encode()) <= 64 for d in data)
    a, b = conv.engine.personas[0], conv.engine.personas[1]
    picker = conv.compare_pick(a.id, b.id)
    assert keyboards.for_reply(picker, stash) is not None


def test_stash_keeps_recent_texts_only() -> None:
    stash: dict[str, str] = {}
    keys = [keyboards.stash_text(stash, f"问题 {i}") for i in range(keyboards.STASH_SIZE + 5)]
    assert len(stash) == keyboards.STASH_SIZE and keys[0] not in stash and stash[keys[-1]].endswith(str(204))
