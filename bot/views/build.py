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
from bot.views.answers import answer_rows, answer_view, compare_view, entry_view, match_spans
from bot.views.labels import labels
from bot.views.model import Button, Span, View
from bot.views.parts import button_rows, experts_lines, experts_rows, name_spans, non_empty, pager_row, topic_rows
from bot.views.text import (
    citation,
    echo,
)


def build(reply: Reply) -> View:
    """The view of any reply."""
    match reply:
        case Welcome():
            return View("welcome", tuple(_welcome(reply)), experts_rows(reply.experts, reply.current))
        case Help():
            return View("help", tuple(_help(reply)))
        case About():
            return View("about", tuple(_about(reply)))
        case ExpertList():
            head = f"当前专家：{reply.current.display_name}" if reply.current else "当前：所有专家"
            spans = [Span("专家列表", "b"), Span(f"（{head}）\n"), *experts_lines(reply.experts, reply.current),
                     Span("\n点按钮选择一位专家，之后你的问题都交给这位专家。")]
            rows = (*experts_rows(reply.experts, reply.current), (Button("所有专家", act.ALL),))
            return View("experts", tuple(spans), rows)
        case ExpertProfile():
            return _profile(reply)
        case AllExperts():
            return View("all", (Span(f"好的，接下来的问题会交给所有专家（共 {len(reply.experts)} 位）。"),))
        case AnswerReply():
            return answer_view(reply)
        case CompareReply():
            return compare_view(reply)
        case SmallTalkReply():
            rows = tuple((Button(e, act.ASK, ("", e)),) for e in reply.examples)
            return View("smalltalk", (Span(reply.text),), rows)
        case ComparePicker():
            return _picker(reply)
        case RivalPicker():
            words = labels(reply.english)
            title = Span(words["pick_rival"].format(name=reply.match.persona.display_name), "b")
            picks = [Button(p.display_name, act.VERSUS_PICK, (reply.match.entry.id, p.id)) for p in reply.rivals]
            return View("rivals", (title,), button_rows(picks, 3))
        case TopicList():
            return _topics(reply)
        case TopicAnswer():
            shown = reply.matches[reply.index]
            who = f"（{reply.persona.display_name}）" if reply.persona else ""
            more = f" · 第 {reply.index + 1}/{len(reply.matches)} 条" if len(reply.matches) > 1 else ""
            heading = [Span("话题：", "b"), Span(f"{reply.label}{who}{more}\n")]
            pid = reply.persona.id if reply.persona else ""
            pager = pager_row(reply.index, len(reply.matches), act.TOPIC, reply.topic, pid)
            rows = (pager, *answer_rows(shown, reply.rivals))
            return View("topic", tuple(heading + match_spans(shown)), non_empty(rows))
        case EntryReply():
            return entry_view(reply)
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
    out += [Span("专家：", "b"), Span("\n"), *experts_lines(reply.experts, reply.current)]
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
           Span("Experts:", "b"), Span("\n"), *experts_lines(reply.experts, reply.current)]
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
    out = [*name_spans(p), Span("\n")]
    if reply.selected:
        out += [Span(f"已选择{p.display_name}：接下来你的问题都会交给{p.display_name}（/all 改回所有专家）。", "i"),
                Span("\n")]
    outlets = "、".join(dict.fromkeys(s.outlet for s in p.sources))
    shown = "、".join(f"{t.label}（{t.count}）" for t in reply.topics[:12]) + ("……" if len(reply.topics) > 12 else "")
    out += [Span(f"\n谈过的话题：{shown}\n"), Span(f"来源：{outlets}（共 {len(p.sources)} 个）")]
    rows = topic_rows(reply.topics, p, 8)
    extra = [Button(f"拿{p.display_name}对比…", act.CMP_FIRST, (p.id,))]
    if reply.selected:
        extra.append(Button("所有专家", act.ALL))
    return View("profile", tuple(out), rows + button_rows(extra, 2))


def _picker(reply: ComparePicker) -> View:
    title = Span("对比两位专家", "b")
    if reply.first is None:
        return View("compare_picker", (title, Span("：先选第一位。")),
                    experts_rows(reply.experts, None, act.CMP_FIRST))
    if reply.second is None:
        others = [p for p in reply.experts if p.id != reply.first.id]
        return View("compare_picker", (title, Span(f"：① {reply.first.display_name}，再选第二位。")),
                    experts_rows(others, None, act.CMP_SECOND, reply.first.id))
    a, b = reply.first, reply.second
    head = [title, Span(f"：① {a.display_name} 与 ② {b.display_name}。")]
    restart = ((Button("重新选择", act.CMP_START),),)
    if not reply.topics:
        text = f"两人没有共同谈过的话题。可以直接发送 /compare {a.display_name}和{b.display_name} 你的问题"
        return View("compare_picker", (*head, Span(text)), restart)
    topics = [Button(f"{t.label}（{t.count}）", act.CMP_TOPIC, (a.id, b.id, t.id)) for t in reply.topics[:16]]
    rows = button_rows(topics, 2)
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
    rows = (*topic_rows(shown, reply.persona, TOPIC_PAGE), pager_row(reply.page, pages, act.TOPICS, pid))
    return View("topics", tuple(out), non_empty(rows))


def _unknown_expert(reply: UnknownExpertReply) -> View:
    offered = reply.closest or reply.experts
    names = "、".join(p.display_name for p in offered)
    out = [Span(f"没有找到叫「{echo(reply.name, 40)}」的专家。"), Span(f"你是不是要找：{names}？")]
    if not reply.for_compare:
        return View("unknown_expert", tuple(out), experts_rows(offered))
    first = f"和{reply.first.display_name}" if reply.first else ""
    out.append(Span(f"\n点一位{first}对比（当前专家不变）。"))
    if reply.first is None:
        return View("unknown_expert", tuple(out), experts_rows(offered, None, act.CMP_FIRST))
    return View("unknown_expert", tuple(out), experts_rows(offered, None, act.CMP_SECOND, reply.first.id))
