"""One `View` per reply, built once: the only place that decides what a reply says and offers.

Every `match` over reply kinds ends with `assert_never`, so a new kind cannot be forgotten. A
button is only offered when it leads somewhere: 更多 when the expert has another answer, 其他专家 /
对比 when `rivals` (computed by the conversation with the same call the tap makes) is not empty.
"""

from __future__ import annotations

from typing import assert_never

from bot.conversation import actions as act
from bot.conversation.commands import Command
from bot.conversation.replies import (
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
    Notice,
    Reply,
    RivalPicker,
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
from bot.views.labels import confidence, labels
from bot.views.model import BLOCKQUOTE, EXPANDABLE, Button, Row, Span, View
from bot.views.text import (
    MAX_PART,
    MAX_SIDE,
    PHONE_SCREEN,
    citation,
    context_line,
    echo,
    highlight,
    lead_passage,
    phone_lines,
    short_question,
    short_role,
)


def build(reply: Reply) -> View:
    """The view of any reply."""
    match reply:
        case Welcome():
            return View("welcome", tuple(_welcome(reply)), _experts_rows(reply.experts, reply.current))
        case Help():
            return View("help", tuple(_help(reply)))
        case About():
            return View("about", tuple(_about(reply)))
        case ExpertList():
            head = f"当前专家：{reply.current.display_name}" if reply.current else "当前：所有专家"
            spans = [Span("专家列表", "b"), Span(f"（{head}）\n"), *_experts_lines(reply.experts, reply.current),
                     Span("\n点按钮选择一位专家，之后你的问题都交给这位专家。")]
            rows = (*_experts_rows(reply.experts, reply.current), (Button("所有专家", act.ALL),))
            return View("experts", tuple(spans), rows)
        case ExpertProfile():
            return _profile(reply)
        case AllExperts():
            return View("all", (Span(f"好的，接下来的问题会交给所有专家（共 {len(reply.experts)} 位）。"),))
        case AnswerReply():
            return _answer(reply)
        case CompareReply():
            return _compare(reply)
        case SmallTalkReply():
            rows = tuple((Button(e, act.ASK, ("", e)),) for e in reply.examples)
            return View("smalltalk", (Span(reply.text),), rows)
        case ComparePicker():
            return _picker(reply)
        case RivalPicker():
            words = labels(reply.english)
            title = Span(words["pick_rival"].format(name=reply.match.persona.display_name), "b")
            picks = [Button(p.display_name, act.VERSUS_PICK, (reply.match.entry.id, p.id)) for p in reply.rivals]
            return View("rivals", (title,), _rows(picks, 3))
        case TopicList():
            return _topics(reply)
        case TopicAnswer():
            shown = reply.matches[reply.index]
            who = f"（{reply.persona.display_name}）" if reply.persona else ""
            more = f" · 第 {reply.index + 1}/{len(reply.matches)} 条" if len(reply.matches) > 1 else ""
            heading = [Span("话题：", "b"), Span(f"{reply.label}{who}{more}\n")]
            pid = reply.persona.id if reply.persona else ""
            pager = _pager(reply.index, len(reply.matches), act.TOPIC, reply.topic, pid)
            rows = (pager, *answer_rows(shown, reply.rivals))
            return View("topic", tuple(heading + match_spans(shown)), _clean(rows))
        case EntryReply():
            return _entry(reply)
        case NoMore():
            return View("nomore", (Span(reply.text),), toast=reply.text)
        case Notice():
            return View("notice", (Span(reply.text),))
        case UnknownExpertReply():
            return _unknown_expert(reply)
        case Usage():
            return View("usage", (Span("用法：", "b"), Span(reply.usage)))
        case EmptyText():
            who = reply.current.display_name if reply.current else "专家们"
            return View("empty", (Span(f"请发一个文字问题，我会找{who}的原话来回答。例如："),
                                  Span("开源大模型怎么看？", "i")))
        case UnknownCommand():
            return View("unknown_command", (Span(f"没有 /{reply.command} 这个命令。\n\n"),
                                            *_command_lines(reply.commands)))
    assert_never(reply)


# ---- building blocks ----


def _rows(buttons: list[Button], per_row: int) -> tuple[Row, ...]:
    return tuple(tuple(buttons[i: i + per_row]) for i in range(0, len(buttons), per_row))


def _clean(rows: tuple[Row, ...]) -> tuple[Row, ...]:
    return tuple(row for row in rows if row)


def _pager(page: int, total: int, action: str, *prefix: str) -> Row:
    """◀ ▶ for paging in place; no arrow where there is nothing on that side."""
    if total <= 1:
        return ()
    arrows = [Button("◀", action, (*prefix, str(page - 1))) if page > 0 else None,
              Button("▶", action, (*prefix, str(page + 1))) if page + 1 < total else None]
    return tuple(b for b in arrows if b is not None)


def _name(persona: Persona, *, short: bool = False) -> list[Span]:
    out = [Span(persona.display_name, "b")]
    role = short_role(persona.role) if short else persona.role
    if role:
        out.append(Span(f" · {role}"))
    return out


def _experts_lines(experts: list[Persona], current: Persona | None = None) -> list[Span]:
    out: list[Span] = []
    for p in experts:
        mark = "✓ " if current is not None and p.id == current.id else "• "
        out += [Span(mark), *_name(p), Span("\n")]
    return out


def _experts_rows(experts: list[Persona], current: Persona | None = None, action: str = act.PICK_EXPERT,
                  *prefix: str) -> tuple[Row, ...]:
    def label(p: Persona) -> str:
        return ("✓ " if current is not None and p.id == current.id else "") + p.display_name

    return _rows([Button(label(p), action, (*prefix, p.id)) for p in experts], 3)


def _topic_rows(items: list[TopicCount], persona: Persona | None, limit: int) -> tuple[Row, ...]:
    pid = persona.id if persona else ""
    return _rows([Button(f"{t.label}（{t.count}）", act.TOPIC, (t.id, pid)) for t in items[:limit]], 2)


def _source_spans(source: Source, english: bool) -> list[Span]:
    """The one-line context under the name: outlet · date, and a link to the original."""
    out = [Span(labels(english)["source"], "i"), Span(context_line(source))]
    if source.url:
        out += [Span(" "), Span(labels(english)["link"], "a", source.url)]
    return out


def _marked(text: str, terms: tuple[str, ...], block: str) -> list[Span]:
    return [Span(piece, "b" if bold else None, block=block) for piece, bold in highlight(text, terms)]


def match_spans(match: Match, *, sure: bool = False, english: bool = False) -> list[Span]:
    """Expert, short role (and how sure, for answers); outlet · date; the interviewer's question in
    one line when it is clean; the matched passage with the matched words bold; then the whole
    answer verbatim in an expandable quote."""
    words = labels(english)
    out = _name(match.persona, short=True)
    if sure:
        out += [Span(" · "), Span(confidence(match.probability, english), "i")]
    out += [Span("\n"), *_source_spans(match.source, english), Span("\n")]
    asked = short_question(match.entry.question)
    if asked:
        out += [Span(words["q"], "b"), Span(asked), Span("\n")]
    answer = match.entry.answer
    used = phone_lines("".join(s.text for s in out))  # the header, so the whole fits one screen
    start, end = lead_passage(match, MAX_PART, PHONE_SCREEN - used - 2)
    whole = start == 0 and end == len(answer)
    out += [Span("…" if start else "", block=BLOCKQUOTE), *_marked(answer[start:end], match.terms, BLOCKQUOTE),
            Span("…" if end < len(answer) else "", block=BLOCKQUOTE), Span("\n")]
    if not whole:
        out += [Span(words["full"], "i"), Span("\n"), Span(answer[:start], block=EXPANDABLE),
                Span(answer[start:end], "b", block=EXPANDABLE), Span(answer[end:], block=EXPANDABLE)]
    return [s for s in out if s.text]


def answer_rows(match: Match, rivals: tuple[Persona, ...], english: bool = False, *,
                more: bool = True) -> tuple[Row, ...]:
    """Under an answer: more from this expert, other experts, compare (each only when it leads
    somewhere), and 分享 (a link to this quote)."""
    words, eid = labels(english), match.entry.id
    buttons = []
    if more and len(match.persona.entries) > 1:
        buttons.append(Button(words["more"].format(name=match.persona.display_name), act.MORE, (eid,)))
    if rivals:
        buttons += [Button(words["others"], act.OTHERS, (eid,)), Button(words["versus"], act.VERSUS, (eid,))]
    buttons.append(Button(words["share"], act.SHARE, (eid,)))
    return _rows(buttons, 2)


def _command_lines(commands: tuple[Command, ...], english: bool = False) -> list[Span]:
    out: list[Span] = [Span("Commands:" if english else "可用命令：", "b"), Span("\n")]
    for command in commands:
        out += [Span(f"/{command.name}"), Span(f" — {command.description(english)}\n")]
    return out


# ---- one function per larger reply kind ----


def _welcome(reply: Welcome) -> list[Span]:
    if reply.english:
        return _welcome_en(reply)
    out = [Span("你好！", "b"),
           Span("我用真实专家公开说过的原话回答你的问题，一字不改，并注明出处。\n"
                "Ask in Chinese or English; answers are the experts' own recorded words.\n\n")]
    out += [Span("专家：", "b"), Span("\n"), *_experts_lines(reply.experts, reply.current)]
    if reply.examples:
        out += [Span("\n试试这些问题：", "b"), Span("\n")]
        for example in reply.examples:
            out += [Span(example, "code"), Span("\n")]
    if reply.current is not None:
        out += [Span("\n已为你打开 "), Span(reply.current.display_name, "b"), Span("：直接发问题就会交给这位专家。\n")]
    out += [Span("\n直接发送问题即可。/experts 选择专家，/compare 对比两位专家，/help 查看全部命令。")]
    return out


def _welcome_en(reply: Welcome) -> list[Span]:
    out = [Span("Hi!", "b"), Span(" I answer with real experts' recorded words, quoted verbatim with the source. "
                                  "Ask in English or Chinese.\n\n"),
           Span("Experts:", "b"), Span("\n"), *_experts_lines(reply.experts, reply.current)]
    if reply.examples:
        out += [Span("\nTry:", "b"), Span("\n")]
        for example in reply.examples:
            out += [Span(example, "code"), Span("\n")]
    if reply.current is not None:
        out += [Span("\nNow talking to "), Span(reply.current.display_name, "b"), Span(": just ask.\n")]
    out += [Span("\nJust send a question. /experts to pick one, /compare to set two side by side, /help for all.")]
    return out


def _help(reply: Help) -> list[Span]:
    if reply.english:
        who = reply.current.display_name if reply.current else "everyone"
        out = [Span("How to use", "b"), Span("\n"),
               Span(f"Send a question (Chinese or English); it goes to: {who}. A name in the question comes first.\n"
                    "In groups, mention me or reply to me.\n\n")]
        return out + _command_lines(reply.commands, english=True)
    who = reply.current.display_name if reply.current else "所有专家"
    out = [Span("使用说明", "b"), Span("\n"),
           Span(f"直接发送问题（中文繁简体或英文），当前提问对象：{who}。问题里点名的专家优先。\n"
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
            out += [Span(f"• {persona.display_name}：{citation(source)}")]
            if source.url:
                out += [Span(" "), Span("原文", "a", source.url)]
            out.append(Span("\n"))
    return out


def _profile(reply: ExpertProfile) -> View:
    p = reply.persona
    out = [*_name(p), Span("\n")]
    if reply.selected:
        out += [Span(f"已选择{p.display_name}：接下来你的问题都会交给{p.display_name}（/all 改回所有专家）。", "i"),
                Span("\n")]
    outlets = "、".join(dict.fromkeys(s.outlet for s in p.sources))
    shown = "、".join(f"{t.label}（{t.count}）" for t in reply.topics[:12]) + ("……" if len(reply.topics) > 12 else "")
    out += [Span(f"\n谈过的话题：{shown}\n"), Span(f"来源：{outlets}（共 {len(p.sources)} 个）")]
    rows = _topic_rows(reply.topics, p, 8)
    extra = [Button(f"拿{p.display_name}对比…", act.CMP_FIRST, (p.id,))]
    if reply.selected:
        extra.append(Button("所有专家", act.ALL))
    return View("profile", tuple(out), rows + _rows(extra, 2))


def _answer(reply: AnswerReply) -> View:
    answer, words = reply.answer, labels(reply.english)
    note = [Span(answer.note, "i"), Span("\n")] if answer.note else []
    if answer.matches:
        top = answer.matches[0]
        spans = note + match_spans(top, sure=True, english=reply.english)
        rows = answer_rows(top, reply.rivals, reply.english)
        rest = [Button(f"{m.persona.display_name}：{short_question(m.entry.question) or m.entry.question}",
                       act.ENTRY, (m.entry.id,)) for m in answer.matches[1:]]
        verdict: tuple[Row, ...] = ()
        if reply.record is not None:  # 👍/👎 under an answer that was recorded (the curator loop is on)
            ref = reply.record
            verdict = ((Button("👍", act.VERDICT, (ref, "1")), Button("👎", act.VERDICT, (ref, "0"))),)
        return View("answer", tuple(spans), _clean(rows + _rows(rest, 1) + verdict))
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
    rows = _rows([Button(words["ask"].format(name=p.display_name), act.ASK, (p.id, answer.query))
                  for p in answer.covered_by[:6]], 3)
    suggestions: list[Button] = []
    for i, label in shown.items():
        s = answer.suggestions[i]
        entry = reply.entry_of.get(s.text)
        if entry is not None:  # a recorded question: its button opens exactly that answer
            suggestions.append(Button(label, act.ENTRY, (entry[0],)))
        elif s.topic:  # a topic's label: its answers
            suggestions.append(Button(s.text, act.TOPIC, (s.topic, s.persona_id or "")))
        else:
            suggestions.append(Button(s.text, act.ASK, (s.persona_id or "", s.text)))
    rows += _rows(suggestions, 1)
    if answer.persona_filter is not None:
        rows += ((Button(words["ask_all"], act.ASK, ("*", answer.query)),),)
    return View("no_answer", tuple(out), rows)


def suggestion_labels(reply: AnswerReply) -> dict[int, str]:
    """Suggestion number -> its label; a recorded question is shown trimmed from its whole text,
    and a label already shown is not repeated."""
    out: dict[int, str] = {}
    for i, suggestion in enumerate(reply.answer.suggestions[:5]):
        found = reply.entry_of.get(suggestion.text)
        label = (short_question(found[1]) or found[1]) if found else suggestion.text
        if label not in out.values():
            out[i] = label
    return out


def _entry(reply: EntryReply) -> View:
    words = labels(reply.english)
    heading: list[Span] = []
    rows: tuple[Row, ...]
    if reply.origin is not None:
        name = reply.match.persona.display_name
        page = words["page"].format(n=reply.page + 1, total=reply.total)
        heading = [Span(f"{words['others_of'].format(name=name)} · {page}", "i"), Span("\n")]
        pager = _pager(reply.page, reply.total, act.MORE, reply.origin)
        rows = (pager, *answer_rows(reply.match, reply.rivals, reply.english, more=False))
    else:
        rows = answer_rows(reply.match, reply.rivals, reply.english)
    return View("entry", tuple(heading + match_spans(reply.match, english=reply.english)), _clean(rows))


def _compare(reply: CompareReply) -> View:
    """Every side on one phone screen: a line per expert (name, how sure) and their key passage,
    as many lines each as the screen allows; each side's whole answer is one tap away (全文)."""
    comparison, words = reply.comparison, labels(reply.english)
    out = [Span(words["compare"], "b"), Span(echo(comparison.query, 30)), Span("\n")]
    per = max(2, (PHONE_SCREEN - 1) // max(1, len(comparison.sides)))  # lines per side
    cut: list[Match] = []  # sides shown in part: their 全文 button shows the rest
    for number, side in zip("①②③④⑤⑥⑦⑧", comparison.sides, strict=False):
        out += [Span(f"{number} "), Span(side.persona.display_name, "b")]
        if not side.matches:
            out += [Span(" · "), Span(words["silent"].format(name=side.persona.display_name), "i"), Span("\n")]
            continue
        match = side.matches[0]
        answer = match.entry.answer
        out += [Span(" · "), Span(confidence(match.probability, reply.english), "i"), Span("\n")]
        start, end = lead_passage(match, MAX_SIDE, per - 1)
        if (start, end) != (0, len(answer)):
            cut.append(match)
        out += [Span("…" if start else "", block=BLOCKQUOTE), *_marked(answer[start:end], match.terms, BLOCKQUOTE),
                Span("…" if end < len(answer) else "", block=BLOCKQUOTE), Span("\n")]
    answered = [s for s in comparison.sides if s.matches]
    whole = [Button(words["whole"].format(name=m.persona.display_name), act.ENTRY, (m.entry.id,)) for m in cut]
    more = [Button(words["more"].format(name=s.persona.display_name), act.MORE, (s.matches[0].entry.id,))
            for s in answered if len(s.persona.entries) > 1]
    return View("compare", tuple(s for s in out if s.text), _rows(whole, 2) + _rows(more, 2))


def _picker(reply: ComparePicker) -> View:
    title = Span("对比两位专家", "b")
    if reply.first is None:
        return View("compare_picker", (title, Span("：先选第一位。")),
                    _experts_rows(reply.experts, None, act.CMP_FIRST))
    if reply.second is None:
        others = [p for p in reply.experts if p.id != reply.first.id]
        return View("compare_picker", (title, Span(f"：① {reply.first.display_name}，再选第二位。")),
                    _experts_rows(others, None, act.CMP_SECOND, reply.first.id))
    a, b = reply.first, reply.second
    head = [title, Span(f"：① {a.display_name} 与 ② {b.display_name}。")]
    restart = ((Button("重新选择", act.CMP_START),),)
    if not reply.topics:
        text = f"两人没有共同谈过的话题。可以直接发送 /compare {a.display_name}和{b.display_name} 你的问题"
        return View("compare_picker", (*head, Span(text)), restart)
    rows = _rows([Button(f"{t.label}（{t.count}）", act.CMP_TOPIC, (a.id, b.id, t.id)) for t in reply.topics[:16]], 2)
    return View("compare_picker", (*head, Span("选一个两人都谈过的话题：")), rows + restart)


def _topics(reply: TopicList) -> View:
    who = reply.persona.display_name if reply.persona else "所有专家"
    pages = -(-len(reply.topics) // TOPIC_PAGE)
    page = f" · 第 {reply.page + 1}/{pages} 页" if pages > 1 else ""
    out = [Span(f"话题（{who}）", "b"), Span(f"{page}\n")]
    shown = reply.topics[reply.page * TOPIC_PAGE: (reply.page + 1) * TOPIC_PAGE]
    for topic in shown:
        english = f" · {topic.label_en}" if topic.label_en and topic.label_en != topic.label else ""
        out += [Span(f"• {topic.label}{english}（{topic.count}）\n")]
    if not reply.topics:
        out.append(Span("还没有话题。"))
    pid = reply.persona.id if reply.persona else ""
    rows = (*_topic_rows(shown, reply.persona, TOPIC_PAGE), _pager(reply.page, pages, act.TOPICS, pid))
    return View("topics", tuple(out), _clean(rows))


def _unknown_expert(reply: UnknownExpertReply) -> View:
    offered = reply.closest or reply.experts
    names = "、".join(p.display_name for p in offered)
    out = [Span(f"没有找到叫「{echo(reply.name, 40)}」的专家。"), Span(f"你是不是要找：{names}？")]
    if not reply.for_compare:
        return View("unknown_expert", tuple(out), _experts_rows(offered))
    first = f"和{reply.first.display_name}" if reply.first else ""
    out.append(Span(f"\n点一位{first}对比（当前专家不变）。"))
    if reply.first is None:
        return View("unknown_expert", tuple(out), _experts_rows(offered, None, act.CMP_FIRST))
    return View("unknown_expert", tuple(out), _experts_rows(offered, None, act.CMP_SECOND, reply.first.id))
