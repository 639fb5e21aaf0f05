"""What ingest did with one source, for the curator who added it: read it top to bottom.

Built from the same `Ingested` value the personas are built from, so the report cannot
disagree with what was written: turns per speaker, entries per persona, each dropped line under
the rule that dropped it, the sentences no speaker was found for, and warnings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.ingest.build import Ingested
from bot.ingest.segment import bare_label
from bot.model import Persona

_SHOWN_PER_RULE = 8
_SHOWN_UNATTRIBUTED = 12
_LINE_WIDTH = 70
# Labels that mark a turn whoever speaks: undeclared, even one is worth a warning.
_GENERIC = {"问", "問", "答", "q", "a", "记者", "記者", "主持人", "主持", "提问", "提問"}


@dataclass
class SourceReport:
    ingested: Ingested
    entries: dict[str, int] = field(default_factory=dict)  # persona file -> entries from this source
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, ingested: Ingested, personas: list[Persona]) -> SourceReport:
        sid = ingested.spec.source.id
        entries = {f"{p.id}.yaml": sum(1 for e in p.entries if e.source == sid) for p in personas}
        report = cls(ingested, {k: v for k, v in entries.items() if v})
        report.warnings = report._warnings()
        return report

    def _warnings(self) -> list[str]:
        found = []
        item = self.ingested
        for speaker in item.spec.speakers:
            if not item.turns.get(speaker.bare):
                found.append(f"speaker '{speaker.label}' ({speaker.part}) has no turn")
        declared = {s.bare.lower() for s in item.spec.speakers}
        expert_turns = sum(n for s in item.spec.speakers if s.part == "expert" for n in [item.turns.get(s.bare, 0)])
        for name, count in item.candidates:
            generic = name.lower() in _GENERIC
            if bare_label(name).lower() not in declared and (generic or count >= max(2, expert_turns // 4)):
                found.append(f"'{name}' starts {count} lines like a speaker label but is not declared: "
                             "its words are in whichever turn comes before")
        if item.spec.source.format != "speech" and not item.exchanges:
            found.append("no question/answer pair: check the labels and parts")
        return found

    @property
    def dropped_by_rule(self) -> Counter[str]:
        return Counter(d.rule for d in self.ingested.dropped)

    def render(self) -> str:
        item, spec = self.ingested, self.ingested.spec
        out = [f"source {spec.source.id}: raw/{spec.file} ({item.document.markup}, {spec.source.format}) "
               f"{spec.source.outlet}《{spec.source.title}》"]
        out.append("turns per speaker: " + ", ".join(
            f"{s.label} ({s.part}) {item.turns.get(s.bare, 0)}" for s in spec.speakers))
        if item.repeats:
            out.append(f"turns dropped as repeats of earlier ones: {item.repeats}")
        out.append(f"entries written: {sum(self.entries.values())} ("
                   + ", ".join(f"{name} {n}" for name, n in sorted(self.entries.items())) + ")")
        sections = [s for s in dict.fromkeys(ex.section for ex in item.exchanges) if s]
        if sections:
            out.append(f"sections (kept as context, never quoted): {len(sections)}: " + " / ".join(sections))
        by_rule = self.dropped_by_rule
        out.append(f"lines dropped: {sum(by_rule.values())}")
        for rule, count in sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  {rule}: {count}")
            lines = [d.line for d in item.dropped if d.rule == rule]
            out.extend(f"    - {_short(line)}" for line in lines[:_SHOWN_PER_RULE])
            if len(lines) > _SHOWN_PER_RULE:
                out.append(f"    … {len(lines) - _SHOWN_PER_RULE} more")
        out.append(f"sentences not attributed to any speaker (the intro belongs here): {len(item.unattributed)}")
        out.extend(f"    - {_short(s)}" for s in item.unattributed[:_SHOWN_UNATTRIBUTED])
        if len(item.unattributed) > _SHOWN_UNATTRIBUTED:
            out.append(f"    … {len(item.unattributed) - _SHOWN_UNATTRIBUTED} more")
        out.extend(f"WARNING: {w}" for w in self.warnings)
        return "\n".join(out)


def _short(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= _LINE_WIDTH else text[: _LINE_WIDTH - 1] + "…"
