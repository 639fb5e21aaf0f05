"""Replies as Telegram HTML messages: every corpus and user string escaped, long text split.

A message is built as a list of `Span`s (plain text plus at most one tag), not as an HTML string,
so splitting over Telegram's 4,096-character limit can cut inside a span's text at a sentence end
and close/reopen its tag: no part is ever cut mid-tag or mid-entity, and each part parses alone.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import assert_never

import opencc

from bot.conversation import (
    TOPIC_PAGE,
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
    SmallTalkReply,
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
MAX_ROLE = 24  # the role line under a name: one phone line
MAX_QUESTION = 40  # the interviewer's question, shortened to at most two phone lines
MAX_PART = 220  # the matched passage shown before the expandable full answer: about six phone lines
MAX_SIDE = 100  # a compare card's passage per side: several sides must fit one screen
MAX_TITLE = 24  # a source's title in the one-line citation
_SENTENCE_END = re.compile(r"[。！？!?\n；;]|\.(?=\s)")
_QUESTION = re.compile(r"[^。！？!?；;\n]*[？?]")
_CLAUSE = re.compile(r"[^，,、：:]+[，,、：:]*")
# A host's lead-in before the question ("好,", "第三個好我們再問4位嘉賓最后一個問題,"): a clause that
# ends in a comma and is a filler word or announces the question rather than asks it.
_LEAD_IN = re.compile(r"^(?:(?:好|好的|那|那么|那麼|嗯|ok|OK)|.*(?:问题|問題|嘉宾|嘉賓).*)[，,：:]\s*$")
_SENTENCES = re.compile(r"[^。！？!?；;]+[。！？!?；;]*")
_RULE = "━━━━━━━━━━"
EXPANDABLE = "blockquote expandable"

# Chrome (labels, buttons) in the asker's language; the quotes themselves are never translated.
LABELS: dict[str, dict[str, str]] = {
    "zh": {"q": "问：", "source": "来源：", "link": "原文链接", "full": "全文 ▾", "sure": "很有把握",
           "likely": "比较有把握", "maybe": "可能相关", "compare": "对比：", "silent": "{name}没有谈到这个问题。",
           "none": "没有找到{who}足够贴切回答这个问题的原话：", "everyone": "专家们",
           "covered": "这个话题 {names} 谈过，可以问问他们。", "try": "你可以试试：",
           "more": "更多{name}的观点", "next": "{name}的下一条 ▶", "others": "其他专家怎么看", "versus": "对比",
           "ask": "问{name}", "ask_all": "问所有专家", "whole": "{name}：全文"},
    "en": {"q": "Q: ", "source": "Source: ", "link": "original", "full": "Full answer ▾", "sure": "close match",
           "likely": "likely match", "maybe": "possibly related", "compare": "Compare: ",
           "silent": "{name} said nothing on this.", "none": "No recorded words of {who} answer this closely enough: ",
           "everyone": "the experts", "covered": "{names} spoke about this: ask them.", "try": "You could try:",
           "more": "More from {name}", "next": "Next from {name} ▶", "others": "Other experts", "versus": "Compare",
           "ask": "Ask {name}", "ask_all": "Ask everyone", "whole": "{name}: full answer"},
}
# How sure the engine is (Match.score, 0-100; only confident matches are shown at all) in words.
SURE_AT, LIKELY_AT = 90.0, 75.0


def labels(english: bool) -> dict[str, str]:
    return LABELS["en" if english else "zh"]


@dataclass(frozen=True)
class Span:
    """Plain text, optionally wrapped in one tag (b, i, code, blockquote, a).

    `block` puts consecutive spans in one container ("blockquote" or EXPANDABLE), so a quote can
    hold a bold passage; a split closes the container at the cut and reopens it in the next part."""

    text: str
    tag: str | None = None
    href: str | None = None
    block: str | None = None

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
    rendered = [_join(message).strip() for message in messages]
    return [m for m in rendered if m]


def _join(message: list[Span]) -> str:
    """A message's HTML: spans in order, consecutive spans of one `block` inside one container."""
    out: list[str] = []
    opened: str | None = None
    for span in message:
        if span.block != opened:
            if opened:
                out.append(f"</{opened.split()[0]}>")
            if span.block:
                out.append(f"<{span.block}>")
            opened = span.block
        out.append(span.html())
    if opened:
        out.append(f"</{opened.split()[0]}>")
    return "".join(out)


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


@lru_cache(maxsize=1)
def _simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def short_role(role: str) -> str:
    """The role's first clause, in Simplified like the name beside it, cut to one phone line."""
    first = re.split(r"[，,、;；（(]", role.strip(), maxsplit=1)[0].strip()
    first = str(_simplified().convert(first))
    return first if len(first) <= MAX_ROLE else first[: MAX_ROLE - 1] + "…"


def _name(persona: Persona, *, short: bool = False) -> list[Span]:
    out = [Span(persona.display_name, "b")]
    role = short_role(persona.role) if short else persona.role
    if role:
        out.append(Span(f" · {role}"))
    return out


def short_question(question: str, limit: int = MAX_QUESTION) -> str | None:
    """The interviewer's question as shown: its last sentence that ends in a question mark, cut to
    its last clauses within `limit`; None when it asks nothing (a speech title, "好,第三個…").

    Transcripts keep the host's preamble ("好,第三個好我們再問4位嘉賓…"): the question is at the end."""
    found = [m.group().strip() for m in _QUESTION.finditer(question) if m.group().strip(" ?？")]
    if not found:
        return None
    clauses = [c.group() for c in _CLAUSE.finditer(found[-1].lstrip("，,、：: "))]
    trimmed = bool(clauses) and _LEAD_IN.match(clauses[0]) is not None
    while len(clauses) > 1 and _LEAD_IN.match(clauses[0]):
        clauses.pop(0)
    last = "".join(clauses)
    if len(last) <= limit:
        return ("…" if trimmed else "") + last
    kept = ""
    for clause in reversed(clauses):
        if len(clause) + len(kept) > limit - 1:
            break
        kept = clause + kept
    return "…" + (kept or last[-(limit - 1):]).lstrip("，,、：: ")


def confidence(score: float, english: bool = False) -> str:
    """How sure the engine is, in a few words."""
    words = labels(english)
    return words["sure"] if score >= SURE_AT else words["likely"] if score >= LIKELY_AT else words["maybe"]


def citation(source: Source) -> str:
    """outlet《title》date, as one plain line (used for toasts and inline descriptions too)."""
    nested = source.title.replace("《", "〈").replace("》", "〉")  # 《…〈book〉…》, as Chinese nests them
    title = f"《{nested}》" if source.title else ""
    return " ".join(part for part in (source.outlet, title, source.date) if part)


def short_citation(source: Source) -> str:
    """outlet《title》date with a long title cut: the reply's one context line."""
    title = source.title if len(source.title) <= MAX_TITLE else source.title[: MAX_TITLE - 1] + "…"
    return citation(source.model_copy(update={"title": title}))


def _source(source: Source, english: bool = False, *, short: bool = False) -> list[Span]:
    words = labels(english)
    out = [Span(words["source"], "i"), Span(short_citation(source) if short else citation(source))]
    if source.url:
        out += [Span(" "), Span(words["link"], "a", source.url)]
    return out


def lead_passage(match: Match, limit: int = MAX_PART) -> tuple[str, str, str] | None:
    """(before, passage, after) of the answer, the passage being the matched part, cut at a sentence
    end to MAX_PART; None when there is no part (short answer, or the question itself matched).
    The passage is always a verbatim substring of the answer."""
    answer, part = match.entry.answer, match.part
    if not part or part not in answer or len(part) >= len(answer):
        return None
    start = answer.index(part)
    if len(part) > limit:
        cut = 0
        for m in _SENTENCES.finditer(part):
            if m.end() > limit:
                break
            cut = m.end()
        part = part[: cut or limit]
    return answer[:start], part, answer[start + len(part):]


def match_spans(match: Match, heading: list[Span] | None = None, *, sure: bool = False,
                english: bool = False, compact: bool = False) -> list[Span]:
    """Expert and a short role, the question shortened, the matched passage first, the whole answer
    verbatim (expandable when long), the source. `sure`: say how sure the engine is (answers only).
    `compact` (a compare card): the passage without the whole answer, which a 全文 button opens."""
    words = labels(english)
    out = list(heading or [])
    out += _name(match.persona, short=True)
    if sure:
        out += [Span(" · "), Span(confidence(match.score, english), "i")]
    out.append(Span("\n"))
    asked = short_question(match.entry.question)
    if asked:
        out += [Span(words["q"], "b"), Span(asked), Span("\n")]
    answer = match.entry.answer
    lead = lead_passage(match, MAX_SIDE if compact else MAX_PART)
    if lead is not None:
        before, passage, after = lead
        out += [Span("…" if before else "", block="blockquote"), Span(passage, "b", block="blockquote"),
                Span("…" if after else "", block="blockquote"), Span("\n")]
        if not compact:
            out += [Span(words["full"], "i"), Span("\n")]
            out += [Span(before, block=EXPANDABLE), Span(passage, "b", block=EXPANDABLE),
                    Span(after, block=EXPANDABLE), Span("\n")]
    elif len(answer) > MAX_PART:
        out += [Span(answer, block=EXPANDABLE), Span("\n")]
    else:
        out += [Span(answer, "blockquote"), Span("\n")]
    out += _source(match.source, english, short=True)
    return [s for s in out if s.text]


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
            more = f" · 第 {reply.index + 1}/{len(reply.matches)} 条" if len(reply.matches) > 1 else ""
            heading = [Span("话题：", "b"), Span(f"{reply.label}{who}{more}\n\n")]
            return match_spans(reply.matches[reply.index], heading)
        case EntryReply():
            heading = []
            if reply.origin is not None:
                name = reply.match.persona.display_name
                heading = [Span(f"{name}的其他回答 · 第 {reply.page + 1}/{reply.total} 条", "i"), Span("\n\n")]
            return match_spans(reply.match, heading)
        case SmallTalkReply():
            return [Span(reply.text)]
        case NoMore():
            return [Span(reply.text)]
        case UnknownExpertReply():
            names = "、".join(p.display_name for p in (reply.closest or reply.experts))
            out = [Span(f"没有找到叫「{echo(reply.name, 40)}」的专家。"), Span(f"你是不是要找：{names}？")]
            if reply.for_compare:
                first = f"和{reply.first.display_name}" if reply.first else ""
                out.append(Span(f"\n点一位{first}对比（当前专家不变）。"))
            return out
        case Usage():
            return [Span("用法：", "b"), Span(reply.usage)]
        case EmptyText():
            who = reply.current.display_name if reply.current else "专家们"
            return [Span(f"请发一个文字问题，我会找{who}的原话来回答。例如："), Span("开源大模型怎么看？", "i")]
        case UnknownCommand():
            return [Span(f"没有 /{reply.command} 这个命令。\n\n"), *_command_lines(reply.commands)]
    assert_never(reply)


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
    answer, words = reply.answer, labels(reply.english)
    note = [Span(answer.note, "i"), Span("\n\n")] if answer.note else []
    if answer.matches:
        return match_spans(answer.matches[0], note, sure=True, english=reply.english)
    who = answer.persona_filter.display_name if answer.persona_filter else words["everyone"]
    out = [*note, Span(words["none"].format(who=who)), Span(echo(answer.query, 80), "i"), Span("\n")]
    if answer.covered_by:
        names = "、".join(p.display_name for p in answer.covered_by)
        out += [Span("\n" + words["covered"].format(names=names) + "\n")]
    shown = suggestion_labels(reply)
    if shown:
        out += [Span(f"\n{words['try']}\n")]
        for label in shown.values():
            out += [Span(f"• {label}\n")]
    return out


def suggestion_label(text: str) -> str:
    """A suggested question as shown (its real question, without the transcript's preamble)."""
    return short_question(text) or text


def suggestion_labels(reply: AnswerReply) -> dict[int, str]:
    """Suggestion number -> its label; a recorded question is shown trimmed from its whole text,
    and a label already shown is not repeated."""
    out: dict[int, str] = {}
    for i, suggestion in enumerate(reply.answer.suggestions[:5]):
        found = reply.entry_of.get(suggestion.text)
        label = suggestion_label(found[1]) if found else suggestion.text
        if label not in out.values():
            out[i] = label
    return out


def _compare(reply: CompareReply) -> list[Span]:
    comparison, words = reply.comparison, labels(reply.english)
    out = [Span(words["compare"], "b"), Span(echo(comparison.query)), Span("\n")]
    for number, side in zip("①②③④⑤⑥⑦⑧", comparison.sides, strict=False):
        out += [Span(f"\n{_RULE}\n"), Span(f"{number} ", "b")]
        if side.matches:
            out += match_spans(side.matches[0], sure=True, english=reply.english, compact=True)
        else:
            out += [*_name(side.persona, short=True), Span(" · "),
                    Span(words["silent"].format(name=side.persona.display_name), "i")]
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
    pages = -(-len(reply.topics) // TOPIC_PAGE)
    page = f" · 第 {reply.page + 1}/{pages} 页" if pages > 1 else ""
    out = [Span(f"话题（{who}）", "b"), Span(f"{page}\n")]
    for topic in reply.topics[reply.page * TOPIC_PAGE : (reply.page + 1) * TOPIC_PAGE]:
        english = f" · {topic.label_en}" if topic.label_en and topic.label_en != topic.label else ""
        out += [Span(f"• {topic.label}{english}（{topic.count}）\n")]
    if not reply.topics:
        out.append(Span("还没有话题。"))
    return out


def notice(title: str, lines: list[str]) -> list[str]:
    """A bold title and plain lines (operator reports such as /reload)."""
    return split([Span(title, "b"), Span("\n" + "\n".join(lines))])
