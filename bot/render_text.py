"""Plain-text rendering of engine results for the terminal (CLI `ask`, `compare`, `chat`)."""

from __future__ import annotations

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
    SmallTalkReply,
    TopicAnswer,
    TopicList,
    UnknownCommand,
    UnknownExpertReply,
    Usage,
    Welcome,
)
from bot.matching import Answer, Comparison, Engine, Match


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
        lines.append(f"共 {len(p.entries)} 段回答。可以问问 TA 关于这些话题的看法：")
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


def render_reply(reply: Reply, engine: Engine) -> str:
    """Any conversation reply as terminal text (the chat's counterpart of telegram/render.py)."""
    match reply:
        case Welcome(experts=experts, examples=examples, current=current):
            lines = ["欢迎！这里能问到这些专家在访谈和演讲里的原话，并附出处：",
                     *(f"  · {p.display_name}（{p.role}）" for p in experts), "", "可以这样问：",
                     *(f"  {e}" for e in examples), "", "输入 /help 查看全部命令，/quit 退出。"]
            if current:
                lines.insert(0, f"当前专家：{current.display_name}")
            return "\n".join(lines)
        case Help(commands=commands, current=current):
            head = f"当前专家：{current.display_name}\n" if current else "当前：向所有专家提问\n"
            listed = "\n".join(f"/{name}  {text}" for name, text in commands)
            return head + listed + "\n直接输入一句话就是提问；/quit 退出。"
        case About(experts=experts, entry_count=entries, source_count=sources):
            return (f"{len(experts)} 位专家，{entries} 段原话，来自 {sources} 篇访谈、圆桌和演讲。\n"
                    "回答一律引用专家原话，不改一字，并注明出处；找不到有把握的回答时会直说，并推荐相近的话题。")
        case ExpertList(experts=experts, current=current):
            rows = [f"{'→' if current and p.id == current.id else ' '} {p.display_name}（{p.pinyin}）"
                    f"：{p.role}，{len(p.entries)} 段回答" for p in experts]
            return "\n".join(rows) + "\n用 /expert 名字 选定一位专家。"
        case ExpertProfile(persona=p, topics=topics, selected=selected):
            head = f"已选定 {p.display_name}，接下来的问题都问 TA（/all 恢复为所有专家）。\n" if selected else ""
            cited = "；".join(s.citation for s in p.sources)
            covered = "、".join(f"{t.label}（{t.count}）" for t in topics)
            return head + f"{p.display_name}（{p.pinyin}）：{p.role}\n来源：{cited}\n话题：{covered}"
        case AllExperts():
            return "好的，接下来的问题会问所有专家。"
        case AnswerReply(answer=answer):
            return render_answer(answer)
        case CompareReply(comparison=comparison):
            return render_comparison(comparison, engine)
        case SmallTalkReply(text=text, examples=examples):
            return "\n".join([text, *(f"  {e}" for e in examples)])
        case ComparePicker(experts=experts):
            return "对比两位专家：/compare 专家A 专家B 问题\n专家：" + "、".join(p.display_name for p in experts)
        case TopicList(topics=topics, persona=persona):
            who = f"{persona.display_name}的话题" if persona else "全部话题"
            return who + "：\n" + "\n".join(f"  {t.label}（{t.label_en}）：{t.count}" for t in topics)
        case TopicAnswer(label=label, matches=matches):
            return f"话题：{label}\n\n" + "\n\n".join(render_match(m, i) for i, m in enumerate(matches[:3], 1))
        case EntryReply(match=match):
            return render_match(match)
        case NoMore(text=text):
            return text
        case UnknownExpertReply(name=name, closest=closest, experts=experts):
            close = "、".join(p.display_name for p in closest)
            return (f"不认识“{name}”这位专家。" + (f"您是不是要找：{close}？" if close else "")
                    + "\n可选的专家：" + "、".join(p.display_name for p in experts))
        case Usage(usage=usage):
            return f"用法：{usage}"
        case EmptyText():
            return "请输入一个问题，例如：大模型的核心壁垒是什么？"
        case UnknownCommand(command=command):
            return f"没有 /{command} 这个命令。输入 /help 查看全部命令。"
    return str(reply)
