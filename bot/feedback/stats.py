"""`persona-bot stats`: what users asked over a period, as numbers, JSON, or one HTML page.

Questions asked, the share answered, the 👍 share of all verdicts, questions by language, the
most asked experts (the one a question was put to, else the one who answered it) and topics (of
the answer given), the most frequent unanswered groups (grouped as in review), and a per-day
series. The HTML page draws the same as inline SVG bars: one file, no script, no dependency.
"""

from __future__ import annotations

import html
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.feedback.review import group_questions
from bot.feedback.store import Stored

DAY = 86400


@dataclass
class Stats:
    since: float
    until: float
    asked: int = 0
    answered: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    languages: list[tuple[str, int]] = field(default_factory=list)
    experts: list[tuple[str, int]] = field(default_factory=list)
    topics: list[tuple[str, int]] = field(default_factory=list)
    unanswered: list[tuple[str, int]] = field(default_factory=list)  # (most frequent phrasing, count)
    days: list[tuple[str, int, int]] = field(default_factory=list)  # (YYYY-MM-DD, asked, answered)

    @property
    def answered_share(self) -> float | None:
        return self.answered / self.asked if self.asked else None

    @property
    def thumbs_up_share(self) -> float | None:
        votes = self.thumbs_up + self.thumbs_down
        return self.thumbs_up / votes if votes else None

    def to_json(self) -> dict[str, Any]:
        def pairs(items: list[tuple[str, int]], name: str) -> list[dict[str, Any]]:
            return [{name: k, "count": n} for k, n in items]

        return {
            "since": _day(self.since), "until": _day(self.until - 1),
            "asked": self.asked, "answered": self.answered,
            "answered_share": _round(self.answered_share),
            "thumbs_up": self.thumbs_up, "thumbs_down": self.thumbs_down,
            "thumbs_up_share": _round(self.thumbs_up_share),
            "languages": pairs(self.languages, "language"),
            "experts": pairs(self.experts, "expert"),
            "topics": pairs(self.topics, "topic"),
            "unanswered": pairs(self.unanswered, "text"),
            "days": [{"day": d, "asked": a, "answered": n} for d, a, n in self.days],
        }


def compute(questions: Sequence[Stored], since: float, until: float, top: int = 10,
            expert_name: Callable[[str], str] = str, topic_name: Callable[[str], str] = str) -> Stats:
    """Stats over questions asked in [since, until); names turn ids into what a person reads."""
    qs = [q for q in questions if since <= q.asked_at < until]
    stats = Stats(since, until, asked=len(qs), answered=sum(q.answered for q in qs),
                  thumbs_up=sum(q.thumbs_up for q in qs), thumbs_down=sum(q.thumbs_down for q in qs))
    stats.languages = Counter(q.language for q in qs).most_common()
    experts: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    for q in qs:
        given = [c for c in q.candidates if c.shown]
        who = q.expert or (given[0].persona_id if given else None)
        if who:
            experts[expert_name(who)] += 1
        if given and given[0].topic:
            topics[topic_name(given[0].topic)] += 1
    stats.experts = experts.most_common(top)
    stats.topics = topics.most_common(top)
    stats.unanswered = [(g.text, g.count) for g in group_questions([q for q in qs if not q.answered])[:top]]
    per_day: dict[str, list[int]] = {}
    for q in qs:
        counts = per_day.setdefault(_day(q.asked_at), [0, 0])
        counts[0] += 1
        counts[1] += int(q.answered)
    day = since - since % DAY
    while day < until:  # every day of the period, quiet ones too
        name = _day(day)
        asked, answered = per_day.get(name, [0, 0])
        stats.days.append((name, asked, answered))
        day += DAY
    return stats


def render_text(stats: Stats) -> str:
    lines = [f"{_day(stats.since)} – {_day(stats.until - 1)}",
             f"questions asked:   {stats.asked}",
             f"answered:          {stats.answered} ({_pct(stats.answered_share)})",
             f"👍 / 👎:            {stats.thumbs_up} / {stats.thumbs_down} ({_pct(stats.thumbs_up_share)} 👍)"]
    sections = [("languages", stats.languages), ("most asked experts", stats.experts),
                ("most asked topics (answered questions)", stats.topics),
                ("most frequent unanswered", stats.unanswered)]
    for title, items in sections:
        lines += ["", f"{title}:"] + [f"  {n:5d}  {k}" for k, n in items] if items else ["", f"{title}: none"]
    return "\n".join(lines)


def render_html(stats: Stats) -> str:
    """One self-contained page: the figures, a per-day chart and bar charts, all text escaped."""
    esc = html.escape
    head = (f"<p>{esc(_day(stats.since))} – {esc(_day(stats.until - 1))}: <b>{stats.asked}</b> questions, "
            f"<b>{_pct(stats.answered_share)}</b> answered, <b>{_pct(stats.thumbs_up_share)}</b> 👍 "
            f"({stats.thumbs_up} 👍 / {stats.thumbs_down} 👎)</p>")
    parts = [
        "<!doctype html><html lang=zh><meta charset=utf-8><title>persona-bot stats</title>",
        "<style>body{font:14px system-ui,sans-serif;max-width:860px;margin:2em auto;color:#222}"
        "h2{font-size:16px;margin-top:2em}svg text{font:12px system-ui,sans-serif}"
        ".a{fill:#3b7dd8}.u{fill:#e0a030}</style>",
        "<h1>persona-bot: questions asked</h1>", head,
        "<h2>Per day <small>(<span style=color:#3b7dd8>answered</span>, "
        "<span style=color:#e0a030>unanswered</span>)</small></h2>", _days_svg(stats.days),
        "<h2>Most asked experts</h2>", _bars_svg(stats.experts),
        "<h2>Most asked topics (answered questions)</h2>", _bars_svg(stats.topics),
        "<h2>Most frequent unanswered questions</h2>", _bars_svg(stats.unanswered),
        "<h2>Languages</h2>", _bars_svg(stats.languages),
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _days_svg(days: list[tuple[str, int, int]]) -> str:
    if not days:
        return "<p>none</p>"
    width, height, pad = 820, 160, 20
    step = (width - 2 * pad) / len(days)
    peak = max((a for _, a, _ in days), default=0) or 1
    bars = []
    for i, (name, asked, answered) in enumerate(days):
        x = pad + i * step
        h_all = (height - 2 * pad) * asked / peak
        h_ans = (height - 2 * pad) * answered / peak
        y0 = height - pad
        bars.append(f'<rect class=u x="{x:.1f}" y="{y0 - h_all:.1f}" width="{max(step - 2, 1):.1f}" '
                    f'height="{h_all - h_ans:.1f}"><title>{html.escape(name)}: {asked} asked</title></rect>')
        bars.append(f'<rect class=a x="{x:.1f}" y="{y0 - h_ans:.1f}" width="{max(step - 2, 1):.1f}" '
                    f'height="{h_ans:.1f}"><title>{html.escape(name)}: {answered} answered</title></rect>')
    labels = (f'<text x="{pad}" y="{height - 4}">{html.escape(days[0][0])}</text>'
              f'<text x="{width - pad}" y="{height - 4}" text-anchor="end">{html.escape(days[-1][0])}</text>'
              f'<text x="{pad}" y="12">{peak}</text>')
    return f'<svg width="{width}" height="{height}" role="img">{"".join(bars)}{labels}</svg>'


def _bars_svg(items: list[tuple[str, int]]) -> str:
    if not items:
        return "<p>none</p>"
    row, label_w, width = 22, 330, 820
    peak = max(n for _, n in items) or 1
    out = []
    for i, (name, n) in enumerate(items):
        y = i * row
        w = (width - label_w - 50) * n / peak
        shown = name if len(name) <= 28 else name[:27] + "…"
        out.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{html.escape(shown)}'
                   f"<title>{html.escape(name)}</title></text>"
                   f'<rect class=a x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}"/>'
                   f'<text x="{label_w + w + 6:.1f}" y="{y + 15}">{n}</text>')
    return f'<svg width="{width}" height="{row * len(items)}" role="img">{"".join(out)}</svg>'


def _day(t: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f}%"


def _round(share: float | None) -> float | None:
    return None if share is None else round(share, 4)
