"""`persona-bot review` and `persona-bot stats`: arguments and runs (bot/cli.py only registers them).

Both find the feedback store the way `run` does (`config.py`): no flags needed beside the bot.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.feedback import DEFAULT_NOTE, config

if TYPE_CHECKING:  # the rest loads only when a command runs: `persona-bot ask` starts no slower
    from bot.feedback.review import Group
    from bot.feedback.store import FeedbackStore
    from bot.matching import Engine

EXIT_DATA = 2
DAY = 86400.0
_CHECKOUT = Path(__file__).resolve().parents[2]
_HELP = "  1/2/3 attach to that candidate · an entry id attaches to it · d out of scope · s skip · q quit"


def _common(parser: argparse.ArgumentParser) -> None:
    config.add_arguments(parser)
    parser.add_argument("--days", type=float, default=None, metavar="N", help="only questions of the last N days")


def add_review_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--json", action="store_true", help="print the queue as JSON and exit")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="at most N groups")
    parser.add_argument("--attach", nargs=2, metavar=("GROUP", "ENTRY"),
                        help="attach a group (id from --json) to an entry (a candidate number 1-3 or an entry id)")
    parser.add_argument("--decline", metavar="GROUP", help="mark a group out of scope")
    parser.add_argument("--note", default=DEFAULT_NOTE, help="why it is out of scope (with --decline)")
    parser.add_argument("--personas", type=Path, default=None, metavar="DIR",
                        help="personas the candidates come from (default: the project's)")
    parser.add_argument("--corpus", type=Path, default=None, metavar="DIR",
                        help="the corpus to write alternates and declined questions to (default: the editable one)")
    parser.add_argument("--tune", type=Path, default=_CHECKOUT / "eval" / "tune.yaml", metavar="FILE",
                        help="the tune set that gets declined questions as negatives (default: the checkout's)")


def add_stats_arguments(parser: argparse.ArgumentParser) -> None:
    config.add_arguments(parser)
    parser.add_argument("--days", type=float, default=30, metavar="N", help="the last N days (default 30)")
    parser.add_argument("--since", metavar="YYYY-MM-DD", help="from this day (UTC) instead of --days")
    parser.add_argument("--until", metavar="YYYY-MM-DD", help="up to and including this day (UTC)")
    parser.add_argument("--top", type=int, default=10, metavar="N", help="rows per list (default 10)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write the charts as one HTML page")
    parser.add_argument("--personas", type=Path, default=None, metavar="DIR", help="for expert names")


def _open(args: argparse.Namespace) -> FeedbackStore | None:
    """The bot's store, or None after one line on stderr."""
    from bot.feedback.store import FeedbackStore, NewerSchema

    try:
        cfg = config.config_from(args)
    except config.FeedbackConfigError as exc:
        print(f"persona-bot: {exc}", file=sys.stderr)
        return None
    try:
        return FeedbackStore.open(cfg.path, create=False)
    except FileNotFoundError:
        print(f"persona-bot: no feedback database at {cfg.path} (has the bot recorded anything? "
              f"--feedback-db / {config.DB_ENV} / --data-dir / {config.DATA_DIR_ENV} say where)", file=sys.stderr)
    except NewerSchema as exc:
        print(f"persona-bot: {cfg.path}: {exc}", file=sys.stderr)
    except Exception as exc:  # sqlite3.Error, OSError: one line, no traceback
        print(f"persona-bot: cannot open {cfg.path}: {exc}", file=sys.stderr)
    return None


# ---- review ----


def run_review(args: argparse.Namespace, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    from bot.feedback import review
    from bot.matching import Engine
    from bot.model import DataError
    from bot.paths import default_corpus_dir, editable_corpus_dir

    stdin, out = stdin or sys.stdin, out or sys.stdout
    store = _open(args)
    if store is None:
        return EXIT_DATA
    corpus = args.corpus or editable_corpus_dir()
    try:
        engine = Engine.load(args.personas, args.corpus or default_corpus_dir())
        since = time.time() - args.days * DAY if args.days else None
        groups = review.build_queue(store, engine, corpus, since=since, limit=args.limit)
        if args.json:
            out.write(json.dumps({"groups": [g.to_json() for g in groups]}, ensure_ascii=False, indent=2) + "\n")
            return 0
        if args.attach or args.decline:
            return _decide(args, store, groups, corpus, out, engine)
        return _interactive(args, store, groups, corpus, stdin, out, engine)
    except DataError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_DATA
    finally:
        store.close()


def _decide(args: argparse.Namespace, store: FeedbackStore, groups: list[Group], corpus: Path,
            out: TextIO, engine: Engine) -> int:
    from bot.feedback import review

    group_id = args.attach[0] if args.attach else args.decline
    group = review.find(groups, group_id)
    if group is None:
        print(f"persona-bot: no group {group_id} in the queue (see `persona-bot review --json`)", file=sys.stderr)
        return EXIT_DATA
    if args.attach:
        entry = review.candidate_entry(group, args.attach[1])
        if entry is None or engine.entry(entry) is None:
            print(f"persona-bot: {args.attach[1]!r} is neither a candidate number nor an entry id", file=sys.stderr)
            return EXIT_DATA
        return _attach(group, entry, store, corpus, out)
    return _decline(group, store, corpus, args.tune, args.note, out)


def _attach(group: Group, entry_id: str, store: FeedbackStore, corpus: Path, out: TextIO) -> int:
    from bot.feedback import review
    from bot.ingest.alternates import FILE

    added = review.attach(group, entry_id, store, corpus)
    out.write(f"attached to {entry_id}: {len(added)} new alternate question(s) in {corpus / FILE}\n")
    return 0


def _decline(group: Group, store: FeedbackStore, corpus: Path, tune: Path | None, note: str,
             out: TextIO) -> int:
    from bot.feedback import review

    result = review.decline(group, store, corpus, tune, note)
    where = f"; {len(result.negatives)} negative(s) in {tune}" if result.negatives else ""
    out.write(f"declined: {len(result.questions)} question(s) in {corpus / 'declined.yaml'}{where}\n")
    return 0


def _interactive(args: argparse.Namespace, store: FeedbackStore, groups: list[Group], corpus: Path,
                 stdin: TextIO, out: TextIO, engine: Engine) -> int:
    from bot.feedback import review
    from bot.model import DataError

    if not groups:
        out.write("The review queue is empty.\n")
        return 0
    changed = 0
    out.write(f"{len(groups)} group(s) to review, most asked first.\n{_HELP}\n")
    for number, group in enumerate(groups, 1):
        out.write("\n" + show(group, number, len(groups)) + "\n")
        while True:
            out.write("> ")
            out.flush()
            line = stdin.readline()
            choice = line.strip()
            if not line or choice == "q":
                return _done(changed, out)
            if choice in ("", "s"):
                break
            if choice == "d":
                _decline(group, store, corpus, args.tune, args.note, out)
                changed += 1
                break
            entry = review.candidate_entry(group, choice)
            if entry is None or engine.entry(entry) is None:
                out.write((f"no entry {choice}\n" if entry else "") + _HELP + "\n")
                continue
            try:
                _attach(group, entry, store, corpus, out)
            except DataError as exc:  # e.g. alternates.yaml broken by hand meanwhile
                out.write(f"not attached: {exc.problems[0]}\n")
                continue
            except ValueError as exc:
                out.write(f"not attached: {exc}\n")
                continue
            changed += 1
            break
    return _done(changed, out)


def _done(changed: int, out: TextIO) -> int:
    if changed:
        out.write("\nNow run `persona-bot ingest`, then /reload in Telegram (or restart the bot), to make it live.\n")
    return 0


def show(group: Group, number: int, total: int) -> str:
    """One group as the curator reads it in a terminal."""
    reasons = [f"{n} {name}" for n, name in ((group.unanswered, "unanswered"),
                                            (group.low_confidence, "low confidence"),
                                            (group.thumbs_down, "👎")) if n]
    who = f" · asked of {group.expert}" if group.expert else ""
    lines = [f"[{number}/{total}] {group.id} · {group.count}× · {', '.join(reasons)}{who}"]
    lines += [f"    {p.count:3d}× {p.text}" for p in group.phrasings[:8]]
    if len(group.phrasings) > 8:
        lines.append(f"         … and {len(group.phrasings) - 8} more phrasings")
    for i, c in enumerate(group.candidates, 1):
        now = " (answered now)" if c.answered else ""
        lines.append(f"  {i}. {c.persona} · {c.entry_id} · p={c.probability:.2f}{now}")
        lines.append(f"       Q: {_short(c.question, 70)}")
        lines.append(f"       A: {_short(c.answer, 90)}")
    if not group.candidates:
        lines.append("  (no candidate: type an entry id, or d)")
    return "\n".join(lines)


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ---- stats ----


def run_stats(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from bot.feedback import stats

    out = out or sys.stdout
    try:
        until = _parse_day(args.until) + DAY if args.until else time.time()
        since = _parse_day(args.since) if args.since else until - args.days * DAY
    except ValueError as exc:
        print(f"persona-bot: {exc}", file=sys.stderr)
        return EXIT_DATA
    store = _open(args)
    if store is None:
        return EXIT_DATA
    try:
        questions = store.questions(since=since, until=until)
    finally:
        store.close()
    expert_name, topic_name = _namers(args.personas)
    result = stats.compute(questions, since, until, args.top, expert_name, topic_name)
    if args.html:
        args.html.write_text(stats.render_html(result), encoding="utf-8")
    if args.json:
        out.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(stats.render_text(result) + "\n")
        if args.html:
            out.write(f"\ncharts: {args.html}\n")
    return 0


def _parse_day(text: str) -> float:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise ValueError(f"not a day (YYYY-MM-DD): {text!r}") from None


def _namers(personas: Path | None) -> tuple[Any, Any]:
    """Expert id -> display name, topic id -> Chinese label; ids as they are when the data will not load."""
    try:
        from bot.model import load_personas
        from bot.paths import default_corpus_dir, default_personas_dir
        from bot.vocabulary import load_vocabulary

        names = {p.id: p.display_name for p in load_personas(personas or default_personas_dir())}
        vocabulary = load_vocabulary(default_corpus_dir())
    except Exception:
        return str, str

    def topic(topic_id: str) -> str:
        found = vocabulary.topic(topic_id)
        return found.zh if found else topic_id

    return (lambda pid: names.get(pid, pid)), topic
