"""Small pieces every view is made of: button rows, ◀ ▶ pagers, an expert's name line, lists of
experts and topics as text and as buttons."""

from __future__ import annotations

from bot.conversation import actions as act
from bot.matching import TopicCount
from bot.model import Persona
from bot.views.model import Button, Row, Span
from bot.views.text import short_role, simplified


def button_rows(buttons: list[Button], per_row: int) -> tuple[Row, ...]:
    return tuple(tuple(buttons[i: i + per_row]) for i in range(0, len(buttons), per_row))


def non_empty(rows: tuple[Row, ...]) -> tuple[Row, ...]:
    return tuple(row for row in rows if row)


def pager_row(page: int, total: int, action: str, *prefix: str) -> Row:
    """◀ ▶ for paging in place; no arrow where there is nothing on that side."""
    if total <= 1:
        return ()
    arrows = [Button("◀", action, (*prefix, str(page - 1))) if page > 0 else None,
              Button("▶", action, (*prefix, str(page + 1))) if page + 1 < total else None]
    return tuple(b for b in arrows if b is not None)


def name_spans(persona: Persona, *, short: bool = False) -> list[Span]:
    out = [Span(persona.display_name, "b")]
    role = short_role(persona.role) if short else simplified(persona.role)
    if role:
        out.append(Span(f" · {role}"))
    return out


def experts_lines(experts: list[Persona], current: Persona | None = None) -> list[Span]:
    out: list[Span] = []
    for p in experts:
        mark = "✓ " if current is not None and p.id == current.id else "• "
        out += [Span(mark), *name_spans(p), Span("\n")]
    return out


def experts_rows(experts: list[Persona], current: Persona | None = None, action: str = act.PICK_EXPERT,
                  *prefix: str) -> tuple[Row, ...]:
    def label(p: Persona) -> str:
        return ("✓ " if current is not None and p.id == current.id else "") + p.display_name

    return button_rows([Button(label(p), action, (*prefix, p.id)) for p in experts], 3)


def topic_rows(items: list[TopicCount], persona: Persona | None, limit: int) -> tuple[Row, ...]:
    pid = persona.id if persona else ""
    return button_rows([Button(f"{t.label}（{t.count}）", act.TOPIC, (t.id, pid)) for t in items[:limit]], 2)
