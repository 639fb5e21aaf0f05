"""/reload's report: what changed between the personas being served and the ones just loaded."""

from __future__ import annotations

from bot.model import DataError, Persona


def describe_changes(old: list[Persona], new: list[Persona]) -> list[str]:
    """Experts added or removed and entry counts that changed, one line each."""
    before = {p.id: p for p in old}
    after = {p.id: p for p in new}
    added, removed = sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys())
    lines = [f"+ {after[i].display_name}（{len(after[i].entries)} 条）" for i in added]
    lines += [f"- {before[i].display_name}（{len(before[i].entries)} 条）" for i in removed]
    for pid in sorted(before.keys() & after.keys()):
        was, now = len(before[pid].entries), len(after[pid].entries)
        if was != now:
            lines.append(f"~ {after[pid].display_name}：{was} → {now} 条（{now - was:+d}）")
    return lines or ["没有变化。"]


def describe_error(error: DataError, limit: int = 5) -> list[str]:
    lines = [str(p) for p in error.problems[:limit]]
    if len(error.problems) > limit:
        lines.append(f"……还有 {len(error.problems) - limit} 个问题")
    return lines
