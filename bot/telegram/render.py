"""Replies as Telegram HTML messages: every corpus and user string escaped, long text split.

A message is built as a list of `Span`s (plain text plus at most one tag), not as an HTML string,
so splitting over Telegram's 4,096-character limit can cut inside a span's text at a sentence end
and close/reopen its tag: no part is ever cut mid-tag or mid-entity, and each part parses alone.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace

from bot.conversation import (
    About,
    AllExperts,
    AnswerReply,
    ComparePicker,
    CompareReply,
    EmptyText,
    EntryReply,
    ExpertList,
    ExpertProfile,
    Help,
    NoMore,
    Reply,
    TopicAnswer,
    TopicList,
    UnknownCommand,
    UnknownExpertReply,
    Usage,
    Welcome,
)
from bot.matching import Match, TopicCount
from bot.model import Persona, Source

MAX_MESSAGE = 4096
MAX_ECHO = 200  # how much of the user's own text a reply quotes back
_SENTENCE_END = re.compile(r"[。！？!?\n；;]|\.(?=\s)")
_RULE = "━━━━━━━━━━"


@dataclass(frozen=True)
class Span:
    """Plain text, optionally wrapped in one tag (b, i, code, blockquote, a)."""

    text: str
    tag: str | None = None
    href: str | None = None

    def html(self) -> str:
        body = html.escape(self.text, quote=False)
        if self.tag is None:
            return body
        if self.tag == "a":
            return f'<a href="{html.escape(self.href or "", quote=True)}">{body}</a>'
        return f"<{self.tag}>{body}</{self.tag}>"


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units; counting them is never less than characters."""
    return len(text.encode("utf-16-le")) // 2


def echo(text: str, limit: int = MAX_ECHO) -> str:
    """The user's text as quoted back: one line, at most `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def render(reply: Reply) -> list[str]:
    """HTML message texts for a reply, in order; the keyboard goes under the last one."""
    return split(spans(reply))


def split(items: list[Span], limit: int = MAX_MESSAGE) -> list[str]:
    """Pack spans into messages of at most `limit` visible UTF-16 units, cutting text at sentence ends."""
    messages: list[list[Span]] = [[]]
    used = 0
    for span in items:
        text = span.text
        while text:
            room = limit - used
            size = utf16_len(text)
            if size <= room:
                messages[-1].append(replace(span, text=text))
                used += size
                break
            cut = _cut_point(text, room)
            if used and (cut == 0 or (size <= limit and cut < len(text) // 2)):
                messages.append([])  # better to start the span afresh than to cut it early
                used = 0
                text = text.lstrip("\n")
                continue
            if cut == 0:
                cut = _hard_cut(text, room)
            messages[-1].append(replace(span, text=text[:cut]))
            messages.append([])
            used = 0
            text = text[cut:].lstrip("\n ")
    rendered = ["".join(s.html() for s in message).strip() for message in messages]
    return [m for m in rendered if m]


def _cut_point(text: str, room: int) -> int:
    """Character index just after the last sentence end that fits in `room` UTF-16 units (0 = none)."""
    window = _prefix_fitting(text, room)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, window)]
    if ends:
        return ends[-1]
    space = text.rfind(" ", 0, window)
    return space + 1 if space > 0 else 0


def _prefix_fitting(text: str, room: int) -> int:
    """How many characters of text fit in `room` UTF-16 units."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > room:
            return i
    return len(text)


def _hard_cut(text: str, room: int) -> int:
    return max(1, _prefix_fitting(text, room))


def truncate(items: list[Span], limit: int = MAX_MESSAGE, tail: str = "……（全文见来源）") -> str:
    """One message no matter what (inline results cannot be split): cut at a sentence end and say so."""
    parts = split(items, limit - utf16_len(tail) - 2)
    if len(parts) == 1:
        return parts[0]
    return parts[0] + "\n" + html.escape(tail)


# ---- building blocks ----


def _name(persona: Persona) -> list[Span]:
    out = [Span(persona.display_name, "b")]
    if persona.role:
        out.append(Span(f" · {persona.role}"))
    return out


def citation(source: Source) -> str:
    """outlet《title》date, as one plain line (used for toasts and inline descriptions too)."""
    nested = source.title.replace("《", "〈").replace("》", "〉")  # 《…〈book〉…》, as Chinese nests them
    title = f"《{nested}》" if source.title else ""
    return " ".join(part for part in (source.outlet, title, source.date) if part)


def _source(source: Source) -> list[Span]:
    out = [Span("来源：", "i"), Span(citation(source))]
    if source.url:
        out += [Span(" "), Span("原文链接", "a", source.url)]
    return out


def match_spans(match: Match, heading: list[Span] | None = None) -> list[Span]:
    """Expert and role, the question they were asked, their words verbatim, the source."""
    out = list(heading or [])
    out += [*_name(match.persona), Span("\n")]
    out += [Span("问：", "b"), Span(match.entry.question), Span("\n")]
    out += [Span(match.entry.answer, "blockquote"), Span("\n")]
    out += _source(match.source)
    return out


def _topic_line(topics: list[TopicCount], limit: int = 12) -> str:
    shown = "、".join(f"{t.label}（{t.count}）" for t in topics[:limit])
    return shown + ("……" if len(topics) > limit else "")


def _experts_lines(experts: list[Persona], current: Persona | None = None) -> list[Span]:
    out: list[Span] = []
    for p in experts:
        mark = "✓ " if current is not None and p.id == current.id else "• "
        out += [Span(mark), *_name(p), Span("\n")]
    return out


# ---- one function per reply type ----


def spans(reply: Reply) -> list[Span]:
    """The spans of a reply; `render` splits them into messages."""
    match reply:
        case Welcome():
            return _welcome(reply)
        case Help():
            return _help(reply)
        case About():
            return _about(reply)
        case ExpertList():
            head = f"当前专家：{reply.current.display_name}" if reply.current else "当前：所有专家"
            return [Span("专家列表", "b"), Span(f"（{head}）\n"), *_experts_lines(reply.experts, reply.current),
                    Span("\n点按钮选择一位专家，之后的问题都交给他/她。")]
        case ExpertProfile():
            return _profile(reply)
        case AllExperts():
            return [Span("好的，接下来的问题会交给所有专家（共 "), Span(str(len(reply.experts))), Span(" 位）。")]
        case AnswerReply():
            return _answer(reply)
        case CompareReply():
            return _compare(reply)
        case ComparePicker():
            return _picker(reply)
        case TopicList():
            return _topics(reply)
        case TopicAnswer():
            who = f"（{reply.persona.display_name}）" if reply.persona else ""
            more = f"，共 {len(reply.matches)} 条" if len(reply.matches) > 1 else ""
            heading = [Span("话题：", "b"), Span(f"{reply.label}{who}{more}\n\n")]
            return match_spans(reply.matches[0], heading)
        case EntryReply():
            return match_spans(reply.match)
        case NoMore():
            return [Span(reply.text)]
        case UnknownExpertReply():
            names = "、".join(p.display_name for p in (reply.closest or reply.experts))
            return [Span(f"没有找到叫「{echo(reply.name, 40)}」的专家。"), Span(f"你是不是要找：{names}？")]
        case Usage():
            return [Span("用法：", "b"), Span(reply.usage)]
        case EmptyText():
            who = reply.current.display_name if reply.current else "专家们"
            return [Span(f"请发一个文字问题，我会找{who}的原话来回答。例如："), Span("开源大模型怎么看？", "i")]
        case UnknownCommand():
            return [Span(f"没有 /{reply.command} 这个命令。\n\n"), *_command_lines(reply.commands)]
    raise TypeError(f"no renderer for {type(reply).__name__}")  # pragma: no cover


def _command_lines(commands: tuple[tuple[str, str], ...]) -> list[Span]:
    out: list[Span] = [Span("可用命令：", "b"), Span("\n")]
    for name, description in commands:
        out += [Span(f"/{name}"), Span(f" — {description}\n")]
    return out


def _welcome(reply: Welcome) -> list[Span]:
    out = [Span("你好！", "b"),
           Span("我用真实专家公开说过的原话回答你的问题，一字不改，并注明出处。\n"
                "Ask in Chinese or English; answers are the experts' own recorded words.\n\n")]
    out += [Span("专家：", "b"), Span("\n"), *_experts_lines(reply.experts, reply.current)]
    if reply.examples:
        out += [Span("\n试试这些问题：", "b"), Span("\n")]
        for example in reply.examples:
            out += [Span(example, "code"), Span("\n")]
    if reply.current is not None:
        out += [Span("\n已为你打开 "), Span(reply.current.display_name, "b"), Span("：直接发问题就会交给他/她。\n")]
    out += [Span("\n直接发送问题即可。/experts 选择专家，/compare 对比两位专家，/help 查看全部命令。")]
    return out


def _help(reply: Help) -> list[Span]:
    who = reply.current.display_name if reply.current else "所有专家"
    out = [Span("使用说明", "b"), Span("\n"),
           Span(f"直接发送问题（中文繁简体或英文），当前提问对象：{who}。\n"
                "群聊里请 @我 或回复我的消息。也可以在任何聊天里输入 @机器人名 加问题。\n\n")]
    return out + _command_lines(reply.commands)


def _about(reply: About) -> list[Span]:
    out = [Span("关于", "b"), Span("\n"),
           Span(f"回答全部来自 {len(reply.experts)} 位专家在 {reply.source_count} 个公开来源"
                f"（采访、圆桌、演讲）中的原话，共 {reply.entry_count} 段问答。\n\n"),
           Span("怎么选出回答：", "b"),
           Span("把你的问题（繁简体统一后）与每段记录的提问、回答和话题做匹配，只在足够贴切时给出原话；"
                "不够贴切就直接告诉你没有，并推荐相近的话题或谈过它的专家。不生成、不改写、不拼接。\n\n"),
           Span("来源：", "b"), Span("\n")]
    for persona in reply.experts:
        for source in persona.sources:
            out += [Span(f"• {persona.display_name}："), *_source(source)[1:], Span("\n")]
    return out


def _profile(reply: ExpertProfile) -> list[Span]:
    p = reply.persona
    out = [*_name(p), Span("\n")]
    if reply.selected:
        out += [Span(f"已选择{p.display_name}：接下来的问题都会交给他/她（/all 改回所有专家）。", "i"), Span("\n")]
    outlets = "、".join(dict.fromkeys(s.outlet for s in p.sources))
    out += [Span(f"\n谈过的话题：{_topic_line(reply.topics)}\n"), Span(f"来源：{outlets}（共 {len(p.sources)} 个）")]
    return out


def _answer(reply: AnswerReply) -> list[Span]:
    answer = reply.answer
    note = [Span(answer.note, "i"), Span("\n\n")] if answer.note else []
    if answer.matches:
        return match_spans(answer.matches[0], note)
    who = answer.persona_filter.display_name if answer.persona_filter else "专家们"
    out = [*note, Span(f"没有找到{who}足够贴切回答这个问题的原话："), Span(echo(answer.query), "i"), Span("\n")]
    if answer.covered_by:
        names = "、".join(p.display_name for p in answer.covered_by)
        out += [Span(f"\n这个话题 {names} 谈过，可以问问他们。\n")]
    if answer.suggestions:
        out += [Span("\n你可以试试：\n")]
        for suggestion in answer.suggestions[:5]:
            out += [Span(f"• {suggestion.text}\n")]
    return out


def _compare(reply: CompareReply) -> list[Span]:
    comparison = reply.comparison
    out = [Span("对比：", "b"), Span(echo(comparison.query)), Span("\n")]
    for number, side in zip("①②③④", comparison.sides, strict=False):
        out += [Span(f"\n{_RULE}\n"), Span(f"{number} ", "b")]
        if side.matches:
            out += match_spans(side.matches[0])
        else:
            out += [*_name(side.persona), Span("\n"), Span(f"{side.persona.display_name}没有谈到这个问题。", "i")]
        out.append(Span("\n"))
    return out


def _picker(reply: ComparePicker) -> list[Span]:
    if reply.first is None:
        return [Span("对比两位专家", "b"), Span("：先选第一位。")]
    if reply.second is None:
        return [Span("对比两位专家", "b"), Span(f"：① {reply.first.display_name}，再选第二位。")]
    out = [Span("对比两位专家", "b"), Span(f"：① {reply.first.display_name} 与 ② {reply.second.display_name}。")]
    if reply.topics:
        return [*out, Span("选一个两人都谈过的话题：")]
    return [*out, Span(f"两人没有共同谈过的话题。可以直接发送 /compare {reply.first.display_name} "
                       f"{reply.second.display_name} 你的问题")]


def _topics(reply: TopicList) -> list[Span]:
    who = reply.persona.display_name if reply.persona else "所有专家"
    out = [Span(f"话题（{who}）", "b"), Span("\n")]
    for topic in reply.topics:
        english = f" · {topic.label_en}" if topic.label_en and topic.label_en != topic.label else ""
        out += [Span(f"• {topic.label}{english}（{topic.count}）\n")]
    if not reply.topics:
        out.append(Span("还没有话题。"))
    return out


def notice(title: str, lines: list[str]) -> list[str]:
    """A bold title and plain lines (operator reports such as /reload)."""
    return split([Span(title, "b"), Span("\n" + "\n".join(lines))])
