"""`persona-bot`: the terminal front end. Every command calls the same core API as Telegram.

JSON shapes printed here are a contract (tests pin them): `ask --json`, `ask --jsonl`,
`compare --json`, `experts --json`.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.model import DataError, Problem, iter_load
from bot.paths import default_corpus_dir, default_personas_dir

EXIT_DATA = 2
MAX_QUERY = 4096


def _personas_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--personas", type=Path, default=None, metavar="DIR",
                        help="persona files to answer from (default: the project's personas/)")


def _engine(args: argparse.Namespace) -> Any:
    """Load the engine or exit 2 with every data problem listed (never half the data)."""
    from bot.matching import Engine

    try:
        engine = Engine.load(args.personas)
    except DataError as exc:
        _print_problems(exc.problems)
        sys.exit(EXIT_DATA)
    # The engine lives as long as this process: its objects are moved out of the collector's sight,
    # so no later collection walks them (a command's first answer, or a batch's).
    gc.freeze()
    return engine


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(problems)} problem(s); nothing was served. Fix the files above "
          "(or rebuild them with `persona-bot ingest`).", file=sys.stderr)


# ingest / validate


def cmd_ingest(args: argparse.Namespace) -> int:
    from bot.ingest.build import entry_ids, stale_files, write_personas
    from bot.paths import editable_corpus_dir, editable_personas_dir

    corpus = args.corpus or editable_corpus_dir()
    out = args.out or editable_personas_dir()
    try:
        if args.check:
            stale = stale_files(corpus, out)
            for name in stale:
                print(f"stale: {out / name}", file=sys.stderr)
            if stale:
                print("personas/ is out of date: run `persona-bot ingest`", file=sys.stderr)
                return 1
            print(f"personas up to date ({out})")
            return 0
        before = entry_ids(out)
        written = write_personas(corpus, out)
    except DataError as exc:
        _print_problems(exc.problems)
        return EXIT_DATA
    print(f"wrote {len(written)} persona files to {out}")
    _report_id_changes(before, entry_ids(out))
    return _build_index(out, corpus)


def _build_index(personas: Path, corpus: Path) -> int:
    """Build and persist the search index now, so the next start (bot, `ask`, the image) reads it
    instead of building it (at 100,000 entries: seconds instead of minutes)."""
    from bot.matching import Engine
    from bot.matching.engine import index_cache_dir

    try:
        engine = Engine.load(personas, corpus)
    except DataError as exc:
        _print_problems(exc.problems)
        return EXIT_DATA
    except ValueError as exc:  # the scoring model does not fit the code's features: refit first
        print(f"index not built: {exc}", file=sys.stderr)
        return 1
    engine.index.homophones("算利")  # and the sounds the spelling repair compares (bot/matching/sounds.py)
    folder = index_cache_dir()
    where = f"cached in {folder}" if folder is not None else "not cached (no private cache directory)"
    print(f"index of {sum(len(p.entries) for p in engine.personas)} entries {where}")
    return 0


def _report_id_changes(before: set[str], after: set[str]) -> None:
    """Ids are what alternates, stored feedback, deep links and sent buttons point at: say which went."""
    gone, new = sorted(before - after), sorted(after - before)
    if before and gone:
        print(f"{len(gone)} entry id(s) vanished or changed: {', '.join(gone)}")
        print("  anything that points at them (corpus/alternates.yaml is checked by ingest; stored feedback, "
              "links and buttons already sent are not) needs the new id.")
    if before and new:
        print(f"{len(new)} new entry id(s): {', '.join(new)}")


def cmd_add_source(args: argparse.Namespace) -> int:
    from bot.ingest.add_source import run_from_args

    return run_from_args(args)


def cmd_fit(args: argparse.Namespace) -> int:
    from bot.matching.fit import run
    from bot.matching.scoring import WEIGHTS

    return run(args.tune, args.out or WEIGHTS, args.check)


def cmd_validate(args: argparse.Namespace) -> int:
    from bot.ingest.build import load_sources
    from bot.model import load_personas

    target = args.path or default_personas_dir()
    problems: list[Problem] = []
    known: set[str] | None = None
    try:
        known = {spec.source.id for spec in load_sources(args.corpus or default_corpus_dir())}
    except DataError as exc:
        problems.extend(exc.problems)
    try:
        if target.is_file():
            for _, item in iter_load(target.parent):
                if isinstance(item, DataError):
                    problems.extend(p for p in item.problems if Path(p.file) == target)
        else:
            load_personas(target, known)
    except DataError as exc:
        problems.extend(exc.problems)
    if problems:
        _print_problems(problems)
        return EXIT_DATA
    print(f"ok: {target}")
    return 0


# experts / topics


def cmd_experts(args: argparse.Namespace) -> int:
    engine = _engine(args)
    rows = [
        {"id": p.id, "name": p.display_name, "name_as_written": p.name, "pinyin": p.pinyin, "role": p.role,
         "entries": len(p.entries), "sources": [s.citation for s in p.sources]}
        for p in engine.personas
    ]
    if args.json:
        _dump({"experts": rows})
    else:
        for row in rows:
            print(f"{row['name']} ({row['pinyin']}, {row['id']}): {row['entries']} answers — {row['role']}")
            for src in row["sources"]:
                print(f"    {src}")
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from bot.matching import UnknownExpert

    engine = _engine(args)
    try:
        topics = engine.topics(args.name)
    except UnknownExpert as exc:
        return _unknown(exc)
    if args.json:
        _dump({"persona": args.name, "topics": [t.__dict__ for t in topics]})
    else:
        for t in topics:
            print(f"{t.count:3d}  {t.label} ({t.label_en}) [{t.id}]")
    return 0


def _unknown(exc: Any) -> int:
    close = "、".join(p.display_name for p in exc.closest)
    print(f"不认识“{exc.name}”这位专家。" + (f"您是不是要找：{close}？" if close else ""), file=sys.stderr)
    print("可选的专家：" + "、".join(f"{p.display_name}（{p.pinyin}）" for p in exc.all_experts), file=sys.stderr)
    return EXIT_DATA


# ask / compare


def _check_query(text: str) -> str | None:
    """A friendly reason why a question cannot be asked, or None when it can."""
    if not text.strip():
        return "请输入一个问题。"
    if len(text) > MAX_QUERY:
        return f"问题太长了（{len(text)} 字）：请控制在 {MAX_QUERY} 字以内。"
    return None


def _refuse(text: str) -> bool:
    """Print why a question cannot be asked, if it cannot; True then."""
    problem = _check_query(text)
    if problem:
        print(problem, file=sys.stderr)
    return problem is not None


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.matching import UnknownExpert

    if args.jsonl:
        engine = _engine(args)
        return ask_jsonl(engine, sys.stdin.buffer, sys.stdout)
    if args.question is None:
        print("usage: persona-bot ask \"QUESTION\" (or --jsonl to read questions from stdin)", file=sys.stderr)
        return EXIT_DATA
    if _refuse(args.question):
        return EXIT_DATA
    engine = _engine(args)
    try:
        result = engine.answer(args.question, args.persona, k=args.top)
    except UnknownExpert as exc:
        return _unknown(exc)
    if args.json:
        _dump(result.to_json())
    else:
        from bot.render_text import render_answer

        print(render_answer(result))
    return 0


def ask_jsonl(engine: Any, stdin: Any, out: TextIO) -> int:
    """One JSON object per input line, answered and flushed as soon as it is read."""
    from bot.matching import UnknownExpert

    for number, raw in enumerate(stdin, start=1):
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            _emit(out, {"error": f"line {number}: not valid UTF-8", "line": number})
            continue
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("query"), str):
                raise ValueError('expected an object like {"query": "...", "persona": null}')
            persona = request.get("persona")
            if persona is not None and not isinstance(persona, str):
                raise ValueError('"persona" must be a name or null')
            problem = _check_query(request["query"])
            if problem:
                raise ValueError(problem)
            k = int(request.get("top", 3))
            result = engine.answer(request["query"], persona, k=k).to_json()
        except (ValueError, TypeError) as exc:
            _emit(out, {"error": f"line {number}: {exc}", "line": number})
            continue
        except UnknownExpert as exc:
            closest = [p.display_name for p in exc.closest]
            _emit(out, {"error": f"line {number}: unknown expert {exc.name!r}", "line": number,
                        "closest": closest})
            continue
        _emit(out, result)
    return 0


def _emit(out: TextIO, obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


def cmd_compare(args: argparse.Namespace) -> int:
    from bot.matching import UnknownExpert

    if _refuse(args.question):
        return EXIT_DATA
    engine = _engine(args)
    try:
        result = engine.compare(args.a, args.b, args.question)
    except UnknownExpert as exc:
        return _unknown(exc)
    if args.json:
        _dump(result.to_json())
    else:
        from bot.render_text import render_comparison

        print(render_comparison(result, engine))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.chat import run_chat

    return run_chat(_engine(args), sys.stdin, sys.stdout)


def cmd_review(args: argparse.Namespace) -> int:
    from bot.feedback.commands import run_review

    return run_review(args)


def cmd_stats(args: argparse.Namespace) -> int:
    from bot.feedback.commands import run_stats

    return run_stats(args)


def cmd_run(args: argparse.Namespace) -> int:
    from bot.telegram.app import run_from_args

    return run_from_args(args)


def _dump(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """All commands. With `command`, only that command's options that need heavy imports are added
    (`run`'s Telegram, `add-source`'s ingest, `review`/`stats`' feedback store), so `ask` imports
    none of them; None adds every command's (for `--help`)."""

    def wanted(name: str) -> bool:
        return command is None or command == name

    parser = argparse.ArgumentParser(prog="persona-bot", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="rebuild personas/ from corpus/")
    p.add_argument("--corpus", type=Path, default=None, metavar="DIR")
    p.add_argument("--out", type=Path, default=None, metavar="DIR")
    p.add_argument("--check", action="store_true", help="exit 1 when personas/ is stale; write nothing")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("add-source", help="add an interview (.txt, .md, .html) to the corpus, ingest, report")
    if wanted("add-source"):
        from bot.ingest.add_source import add_arguments

        add_arguments(p)
    p.set_defaults(func=cmd_add_source)

    p = sub.add_parser("fit", help="refit the scoring model from eval/tune.yaml (needs scipy: pip install .[fit])")
    p.add_argument("--tune", type=Path, default=Path(__file__).resolve().parents[1] / "eval" / "tune.yaml",
                   metavar="FILE", help="the tune set (default: the checkout's eval/tune.yaml)")
    p.add_argument("--out", type=Path, default=None, metavar="FILE", help="default: bot/matching/weights.json")
    p.add_argument("--check", action="store_true", help="exit 1 unless FILE is what the tune set gives; write nothing")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("validate", help="check persona files; FILE:LINE for every problem")
    p.add_argument("path", nargs="?", type=Path, default=None)
    p.add_argument("--corpus", type=Path, default=None, metavar="DIR")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("experts", help="list the experts")
    _personas_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_experts)

    p = sub.add_parser("topics", help="topics with counts, for one expert or all")
    p.add_argument("name", nargs="?", default=None)
    _personas_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("ask", help="ask a question")
    p.add_argument("question", nargs="?", default=None)
    p.add_argument("--persona", default=None, metavar="NAME")
    p.add_argument("--top", type=int, default=3, metavar="K")
    p.add_argument("--json", action="store_true")
    p.add_argument("--jsonl", action="store_true", help="read {\"query\", \"persona\"} lines from stdin")
    _personas_arg(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("compare", help="two experts side by side on one topic")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    _personas_arg(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("chat", help="chat in the terminal (no token needed)")
    _personas_arg(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("review", help="review what users asked that went unanswered or got a 👎")
    if wanted("review"):
        from bot.feedback.commands import add_review_arguments

        add_review_arguments(p)
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("stats", help="questions asked, answered share, 👍 share, top topics and experts")
    if wanted("stats"):
        from bot.feedback.commands import add_stats_arguments

        add_stats_arguments(p)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("run", help="run the Telegram bot (token in TELEGRAM_BOT_TOKEN)")
    if wanted("run"):
        from bot.telegram.app import add_run_arguments

        add_run_arguments(p)
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv[0] if argv and not argv[0].startswith("-") else None).parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
