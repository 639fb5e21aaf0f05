"""The views of answers: one recorded answer (name, how sure, context, the matched passage with the
query's words bold, the whole answer folded), a no-answer with what to try, a comparison that fits
one screen, and the buttons under them (each shown only when it leads somewhere)."""

from __future__ import annotations

from bot.conversation import actions as act
from bot.conversation.replies import AnswerReply, CompareReply, EntryReply
from bot.matching import Match
from bot.model import Persona, Source
from bot.views.labels import confidence, labels
from bot.views.model import BLOCKQUOTE, EXPANDABLE, Button, Row, Span, View
from bot.views.parts import button_rows, name_spans, non_empty, pager_row
from bot.views.text import (
    MAX_PART,
    MAX_SIDE,
    PHONE_SCREEN,
    context_line,
    echo,
    highlight,
    lead_passage,
    phone_lines,
    short_question,
)


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
    out = name_spans(match.persona, short=True)
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
    return button_rows(buttons, 2)


def answer_view(reply: AnswerReply) -> View:
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
        return View("answer", tuple(spans), non_empty(rows + button_rows(rest, 1) + verdict))
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
    rows = button_rows([Button(words["ask"].format(name=p.display_name), act.ASK, (p.id, answer.query))
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
    rows += button_rows(suggestions, 1)
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


def entry_view(reply: EntryReply) -> View:
    words = labels(reply.english)
    heading: list[Span] = []
    rows: tuple[Row, ...]
    if reply.origin is not None:
        name = reply.match.persona.display_name
        page = words["page"].format(n=reply.page + 1, total=reply.total)
        heading = [Span(f"{words['others_of'].format(name=name)} · {page}", "i"), Span("\n")]
        pager = pager_row(reply.page, reply.total, act.MORE, reply.origin)
        rows = (pager, *answer_rows(reply.match, reply.rivals, reply.english, more=False))
    else:
        rows = answer_rows(reply.match, reply.rivals, reply.english)
    return View("entry", tuple(heading + match_spans(reply.match, english=reply.english)), non_empty(rows))


def compare_view(reply: CompareReply) -> View:
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
    return View("compare", tuple(s for s in out if s.text), button_rows(whole, 2) + button_rows(more, 2))
