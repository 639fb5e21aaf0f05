"""Terminal text: engine results for `ask` and `compare`, and views for `chat`.

The chat renders the same views as Telegram (bot/views): the same short answer, the matched words
marked with **, quotes indented with "│", and the buttons as numbered choices the user can type.
"""

from __future__ import annotations

from bot.conversation import Reply
from bot.matching import Answer, Comparison, Engine, Match
from bot.views import EXPANDABLE, View, build


def render_match(match: Match, rank: int | None = None) -> str:
    src = match.source
    head = f"{rank}. " if rank is not None else ""
    lines = [
        f"{head}{match.persona.display_name}（{match.persona.role}）  score {match.score:.0f}",
        f"问：{match.entry.question}",
        f"答：{match.entry.answer}",
        "出处：" + src.citation + (f"  {src.url}" if src.url else ""),
    ]
    return "\n".join(lines)


def render_answer(result: Answer) -> str:
    if result.matches:
        return "\n\n".join(render_match(m, i) for i, m in enumerate(result.matches, start=1))
    lines: list[str] = []
    if result.note:
        lines.append(result.note)
    if result.profile is not None:
        p = result.profile
        lines.append(f"{p.display_name}（{p.pinyin}）：{p.role}")
        lines.append("来源：" + "；".join(s.citation for s in p.sources))
        lines.append(f"共 {len(p.entries)} 段回答。可以问问关于这些话题的看法：")
    else:
        who = f"{result.persona_filter.display_name}" if result.persona_filter else "专家们"
        lines.append(f"抱歉，{who}的记录里没有能可靠回答这个问题的内容。")
        if result.covered_by:
            lines.append("谈过这个话题的是：" + "、".join(p.display_name for p in result.covered_by) + "。")
    if result.suggestions:
        lines.append("试试这些：" if result.profile is None else "")
        lines += [f"  · {s.text}" for s in result.suggestions]
    return "\n".join(line for line in lines if line)


def render_comparison(result: Comparison, engine: Engine) -> str:
    topic = f"话题：{engine.topic_label(result.topic)}\n\n" if result.topic else ""
    blocks = []
    for side in result.sides:
        if side.matches:
            blocks.append(f"【{side.persona.display_name}】\n" + render_match(side.matches[0]))
        else:
            blocks.append(f"【{side.persona.display_name}】\n没有谈过这个话题的记录。")
    return topic + "\n\n".join(blocks)


def render_view(view: View) -> str:
    """A view as terminal text: the same parts as Telegram's message, buttons as [n] choices."""
    out: list[str] = []
    block: str | None = None
    for span in view.spans:
        if span.block != block:
            if span.block == EXPANDABLE:
                out.append("\n")
            block = span.block
        text = f"**{span.text}**" if span.tag == "b" and span.block else span.text
        if span.tag == "a" and span.href:
            text = f"{span.text} <{span.href}>"
        if span.block:
            text = text.replace("\n", "\n│ ")
            if not out or out[-1].endswith("\n"):
                text = "│ " + text
        out.append(text)
    lines = "".join(out).rstrip("\n")
    choices = [f"[{i}] {b.label}" for i, b in enumerate(view.buttons, 1)]
    if choices:
        lines += "\n\n" + "\n".join(choices)
    return lines


def render_reply(reply: Reply) -> str:
    """Any conversation reply as terminal text."""
    return render_view(build(reply))
