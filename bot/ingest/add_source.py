"""`persona-bot add-source FILE`: a new interview in, with one command, and a report of what it did.

Reads the file (plain, Markdown or HTML), offers the words that start turns as speaker labels
(with counts), takes or asks who is the expert and who asks, writes the `sources.yaml` entry and
an `experts.yaml` stub, runs ingest and prints the report. Everything is first built in a
scratch copy of the corpus: a file that cannot be read, labels that are not found, a bad value
end with one line naming the file (and line) and exit code 1, and nothing is written.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.ingest.build import ingest_all, load_sources, persona_name, personas_from, render, write_personas
from bot.ingest.clean import clean
from bot.ingest.readers import Document, read_file
from bot.ingest.report import SourceReport
from bot.ingest.segment import bare_label, label_candidates
from bot.model import PERSONA_SUFFIX, DataError
from bot.vocabulary import load_vocabulary

EXIT_ERROR = 1
# Labels that always ask / always answer, whoever the people are.
_ASKING = {"问", "問", "q", "记者", "記者", "主持人", "主持", "提问", "提問", "host", "interviewer"}
_ANSWERING = {"答", "a"}
_FORMATS = ("interview", "round-table", "speech")
# A label counts as an interviewer by default when it starts at least this share of the turns
# the expert's label starts (an incidental `比如：` does not).
_ASKING_SHARE = 0.5


class AddSourceError(Exception):
    """One line for the curator: what is wrong, where (FILE or FILE:LINE)."""


Ask = Callable[[str], str]


@dataclass
class Request:
    file: Path
    corpus: Path
    out: Path
    experts: list[str] = field(default_factory=list)
    name: str | None = None
    interviewers: list[str] = field(default_factory=list)
    moderators: list[str] = field(default_factory=list)
    role: str = ""
    outlet: str | None = None
    title: str | None = None
    url: str | None = None
    date: str | None = None
    format: str | None = None
    script: str | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class Added:
    source_id: str
    raw_file: str
    written: list[str]  # persona files written (empty on a dry run)
    report: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the interview as saved: .txt, .md or .html")
    parser.add_argument("--expert", action="append", default=[], metavar="LABEL",
                        help="the label the expert's turns start with (repeat for a round-table)")
    parser.add_argument("--name", default=None, help="the expert's name, when the label is not it (`答`, `A`)")
    parser.add_argument("--interviewer", action="append", default=[], metavar="LABEL",
                        help="a label the questions start with (repeat: outlet, journalist, 记者, 问, Q)")
    parser.add_argument("--moderator", action="append", default=[], metavar="LABEL")
    parser.add_argument("--role", default="", help="the expert's role, as the source gives it")
    parser.add_argument("--outlet", default=None)
    parser.add_argument("--title", default=None)
    parser.add_argument("--url", default=None)
    parser.add_argument("--date", default=None, metavar="YYYY-MM-DD")
    parser.add_argument("--format", choices=_FORMATS, default=None,
                        help="default: interview (round-table with 2+ experts)")
    parser.add_argument("--script", choices=("Simplified", "Traditional"), default=None, help="default: detected")
    parser.add_argument("--corpus", type=Path, default=None, metavar="DIR")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR")
    parser.add_argument("--dry-run", action="store_true", help="report what would be added; write nothing")


def run_from_args(args: argparse.Namespace) -> int:
    """The CLI command: exit 0 with the report, or 1 with one line on stderr."""
    from bot.paths import editable_corpus_dir, editable_personas_dir

    request = Request(
        file=args.file, corpus=args.corpus or editable_corpus_dir(), out=args.out or editable_personas_dir(),
        experts=args.expert, name=args.name, interviewers=args.interviewer, moderators=args.moderator,
        role=args.role, outlet=args.outlet, title=args.title, url=args.url, date=args.date, format=args.format,
        script=args.script, dry_run=args.dry_run,
    )
    ask = _prompt if sys.stdin is not None and sys.stdin.isatty() else None
    try:
        added = add_source(request, ask)
    except AddSourceError as exc:
        print(f"add-source: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(added.report)
    if request.dry_run:
        print("dry run: nothing written")
    else:
        print(f"added source {added.source_id} (raw/{added.raw_file}); wrote {len(added.written)} persona files "
              f"to {request.out}")
    return 0


def _prompt(question: str) -> str:
    return input(question).strip()


def read_source(path: Path) -> tuple[Document, str]:
    """The file as ingest will see it: the reader's document and the cleaned text."""
    if not path.is_file():
        raise AddSourceError(f"{path}: no such file")
    try:
        document = read_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise AddSourceError(f"{path}: cannot read: {exc}") from None
    return document, clean(document.text)


def add_source(request: Request, ask: Ask | None = None) -> Added:
    """Add `request.file` to the corpus and rebuild the personas; raise AddSourceError, writing nothing."""
    document, text = read_source(request.file)
    candidates = label_candidates(text)
    speakers = _speakers(request, text, candidates, ask)
    corpus = request.corpus
    if not (corpus / "sources.yaml").is_file():
        raise AddSourceError(f"{corpus / 'sources.yaml'}: no such file (is --corpus the corpus directory?)")
    try:
        existing = load_sources(corpus)
    except DataError as exc:
        raise AddSourceError(str(exc.problems[0])) from None
    data = request.file.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    for spec in existing:
        if digest in spec.file:
            raise AddSourceError(f"{request.file}: already in the corpus as source {spec.source.id} (raw/{spec.file})")
    source_id = _next_id([spec.source.id for spec in existing])
    suffix = request.file.suffix.lower()
    suffix = suffix if suffix in (".md", ".markdown", ".html", ".htm") else ".txt"
    raw_name = f"{source_id}_{digest}{suffix}"
    entry = _entry(request, document, text, source_id, raw_name, speakers)
    with tempfile.TemporaryDirectory(prefix="persona-bot-add-") as scratch:
        staged = Path(scratch) / "corpus"
        shutil.copytree(corpus, staged)
        stub = _stage(staged, data, raw_name, entry)
        try:
            everything = ingest_all(staged)
            personas = personas_from(staged, everything)
        except DataError as exc:
            raise AddSourceError(_located(str(exc.problems[0]), staged, corpus)) from None
        ingested = next(item for item in everything if item.spec.source.id == source_id)
        report = SourceReport.of(ingested, personas)
        rendered = {f"{p.id}{PERSONA_SUFFIX}": render(p) for p in personas}
        changed = sorted(name for name, body in rendered.items() if (request.out / name).is_file()
                         and (request.out / name).read_text(encoding="utf-8") != body
                         and name not in report.entries)
        if changed:
            report.warnings.append("persona files not from this source would change: " + ", ".join(changed))
        text_report = report.render()
        if stub:
            text_report += f"\nexperts.yaml: added a stub for {stub}: add English names and nicknames users may type"
        if request.dry_run:
            return Added(source_id, raw_name, [], text_report)
        (corpus / "raw").mkdir(exist_ok=True)
        shutil.copyfile(staged / "raw" / raw_name, corpus / "raw" / raw_name)
        for name in ("sources.yaml", "experts.yaml"):
            if (staged / name).is_file():
                _replace(corpus / name, (staged / name).read_text(encoding="utf-8"))
    written = write_personas(corpus, request.out)
    return Added(source_id, raw_name, written, text_report)


def _speakers(request: Request, text: str, candidates: list[tuple[str, int]], ask: Ask | None) -> list[dict[str, str]]:
    """The speakers of the new source: taken from the request, asked, or unambiguous in the text."""
    counts = {bare_label(name).lower(): n for name, n in candidates}
    found = ", ".join(f"{name} ({n})" for name, n in candidates[:8]) or "none"
    experts = [bare_label(e) for e in request.experts]
    if request.format == "speech":
        if len(experts) != 1 and not request.name:
            raise AddSourceError(f"{request.file}: a speech needs --expert NAME (the speaker)")
        label = experts[0] if experts else str(request.name)
        return [{"label": label, "part": "expert", "role": request.role,
                 **({"name": request.name} if request.name and request.name != label else {})}]
    if not experts:
        answering = [name for name, _ in candidates if name.lower() in _ANSWERING]
        if len(answering) == 1 and request.name:
            experts = answering
        elif ask is not None:
            print(f"labels that start turns in {request.file}: {found}")
            experts = [bare_label(e) for e in re.split(r"[,，、\s]+", ask("which label is the expert's? ")) if e]
        if not experts and answering:
            raise AddSourceError(f"{request.file}: the answers start with '{answering[0]}', which is not a name: "
                                 "pass --name NAME (the expert's name)")
        if not experts:
            raise AddSourceError(f"{request.file}: which label is the expert? labels that start turns: {found}; "
                                 "pass --expert LABEL (and --interviewer LABEL)")
    asking = [bare_label(i) for i in request.interviewers]
    moderators = [bare_label(m) for m in request.moderators]
    if not asking and not moderators:
        top = max(counts.get(e.lower(), 0) for e in experts)
        # The outlet's label, and any generic asking label (记者, 问, Q) even if it asks only once.
        named = {e.lower() for e in experts}
        asking = [name for name, n in label_candidates(text, least=1) if name.lower() not in named
                  and (name.lower() in _ASKING or n >= max(2, _ASKING_SHARE * top))]
        if not asking and ask is not None:
            asking = [bare_label(i) for i in re.split(r"[,，、\s]+", ask("which labels ask the questions? ")) if i]
    for label in [*experts, *asking, *moderators]:
        if label.lower() not in counts and not _starts_a_turn(text, label):
            raise AddSourceError(f"{request.file}:1: no line starts with the label '{label}'; "
                                 f"labels that start turns: {found}")
    if not asking and not moderators:
        raise AddSourceError(f"{request.file}: nobody asks: pass --interviewer LABEL; labels that start turns: {found}")
    name = request.name
    if len(experts) == 1 and not name and experts[0].lower() in _ANSWERING:
        if ask is not None:
            name = ask(f"the label '{experts[0]}' is not a name: who is the expert? ")
        if not name:
            raise AddSourceError(f"{request.file}: the label '{experts[0]}' is not a name: pass --name NAME")
    speakers: list[dict[str, str]] = []
    for label in asking:
        speakers.append({"label": label, "part": "interviewer", "role": ""})
    for label in moderators:
        speakers.append({"label": label, "part": "moderator", "role": ""})
    for label in experts:
        speaker = {"label": label, "part": "expert", "role": request.role}
        if name and len(experts) == 1 and name != label:
            speaker["name"] = name
        speakers.append(speaker)
    return speakers


def _starts_a_turn(text: str, label: str) -> bool:
    from bot.ingest.segment import split_turns

    return any(t.label.lower() == label.lower() for t in split_turns(text, [label])[1])


def _next_id(ids: list[str]) -> str:
    numbers = [int(i) for i in ids if i.isdigit()]
    return f"{(max(numbers) + 1) if numbers else 0:03d}"


def _entry(request: Request, document: Document, text: str, source_id: str, raw_name: str,
           speakers: list[dict[str, str]]) -> dict[str, Any]:
    meta = document.meta
    outlet = request.outlet or meta.get("outlet") or next(
        (s["label"] for s in speakers if s["part"] != "expert" and s["label"].lower() not in _ASKING), None)
    if not outlet:
        raise AddSourceError(f"{request.file}: the page does not name its outlet: pass --outlet NAME")
    title = request.title or meta.get("title") or next((line for line in text.split("\n") if line.strip()), "")
    experts = sum(1 for s in speakers if s["part"] == "expert")
    fmt = request.format or ("round-table" if experts > 1 else "interview")
    return {
        "id": source_id,
        "file": raw_name,
        "outlet": outlet,
        "title": title.strip()[:200],
        "date": request.date or _date(meta.get("date")),
        "url": request.url or meta.get("url") or None,
        "script": request.script or _script(text),
        "format": fmt,
        "speakers": speakers,
    }


def _date(value: str | None) -> str | None:
    match = re.search(r"(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})", value or "")
    return f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}" if match else None


def _script(text: str) -> str:
    """Traditional when a noticeable share of the characters change under OpenCC's t2s."""
    import opencc

    cjk = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if not cjk:
        return "Simplified"
    simplified = opencc.OpenCC("t2s").convert("".join(cjk))
    changed = sum(1 for a, b in zip(cjk, simplified, strict=False) if a != b)
    return "Traditional" if changed / len(cjk) > 0.02 else "Simplified"


def _stage(corpus: Path, data: bytes, raw_name: str, entry: dict[str, Any]) -> str | None:
    """Write the new raw file, sources.yaml entry and (when the expert is new) experts.yaml stub."""
    (corpus / "raw").mkdir(exist_ok=True)
    (corpus / "raw" / raw_name).write_bytes(data)
    sources = corpus / "sources.yaml"
    block = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=10**6)
    sources.write_text(sources.read_text(encoding="utf-8").rstrip("\n") + "\n" + block, encoding="utf-8")
    vocab = load_vocabulary(corpus)
    spec = next(s for s in load_sources(corpus) if s.source.id == entry["id"])
    stubs = []
    for speaker in spec.speakers:
        if speaker.part != "expert":
            continue
        try:
            name = persona_name(spec, speaker, vocab)
        except DataError as exc:
            raise AddSourceError(_located(str(exc.problems[0]), corpus, corpus)) from None
        if not any(e.name == name for e in vocab.experts):
            stubs.append(name)
    if not stubs:
        return None
    experts = corpus / "experts.yaml"
    current = experts.read_text(encoding="utf-8").rstrip("\n") + "\n" if experts.is_file() else ""
    for name in stubs:
        current += (f"- name: {yaml.safe_dump(name, allow_unicode=True).splitlines()[0]}\n"
                    "  english: []   # English names and spellings users may type (pinyin is derived)\n"
                    "  aliases: []   # nicknames and titles: X老师, X总\n")
    experts.write_text(current, encoding="utf-8")
    return "、".join(stubs)


def _located(message: str, staged: Path, corpus: Path) -> str:
    """A problem found in the scratch copy, told with the real corpus path."""
    return message.replace(str(staged), str(corpus))


def _replace(path: Path, text: str) -> None:
    """Write atomically: a reader never sees half a sources.yaml."""
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)


__all__ = ["AddSourceError", "Added", "Request", "add_arguments", "add_source", "run_from_args"]
