"""Run the whole benchmark with one command and write bench/RESULTS.md.

    .venv/bin/python -m bench.run [--sizes real,1000,10000,100000] [--quick]

Each corpus size runs in its own `bench.worker` process (so peak memory does not mix), then the
start-up figures are taken from fresh processes, then everything is printed and written out: the
Markdown report for people and a JSON file for tools and tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

from bench import report, startup
from bench.accuracy import DEFAULT_EVAL, load_cases
from bench.synthetic import SentencePool, make_corpus, perturbed_queries, write_personas
from bench.worker import size_label
from bot.model import load_personas
from bot.paths import default_personas_dir

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "bench" / "RESULTS.md"
DEFAULT_JSON = ROOT / "bench" / "out" / "results.json"
BATCH_QUERIES = 100
SKIPPED = {"available": False, "reason": "skipped (--no-cli)"}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", help="comma-separated: 'real' and/or entry counts, 1M and 300k allowed (default real,1000,10000; "
        "--quick: real,200); 1M is synthetic, for the latency and memory tables only (see --systems)"
    )
    parser.add_argument("--systems", help="comma-separated systems each worker measures (default ours,rapidfuzz,bm25s)")
    parser.add_argument("--quick", action="store_true", help="tiny budgets and few queries: a smoke run in seconds")
    parser.add_argument("--personas", type=Path, default=default_personas_dir(), help="real personas directory")
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="dev eval YAML")
    parser.add_argument("--budget", type=float, help="seconds of timed queries per system and size (default 5)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown report to write")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="raw results to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-cli", action="store_true", help="skip the persona-bot subprocess figures")
    parser.add_argument(
        "--cli-max-size", type=int, help="largest synthetic size for `ask --jsonl` (default 10000; --quick: real only)"
    )
    args = parser.parse_args(argv)
    args.command = shlex.join([".venv/bin/python", "-m", "bench.run", *(sys.argv[1:] if argv is None else argv)])
    sizes = args.sizes or ("real,200" if args.quick else "real,1000,10000")
    args.sizes = ",".join(size_label(s) for s in sizes.split(",") if s.strip())
    args.cli_max_size = args.cli_max_size if args.cli_max_size is not None else (0 if args.quick else 10000)
    args.budget = args.budget if args.budget is not None else (0.2 if args.quick else 5.0)
    return args


def run_worker(size: str, args: argparse.Namespace) -> dict[str, Any]:
    """Measure one size in a child process and return the JSON it printed last."""
    cmd = [
        sys.executable,
        "-m",
        "bench.worker",
        "--size",
        size,
        "--personas",
        str(args.personas),
        "--eval",
        str(args.eval),
        "--budget",
        str(args.budget),
        "--seed",
        str(args.seed),
    ]
    if args.quick:
        cmd += ["--max-queries", "4"]
    if args.systems:
        cmd += ["--systems", args.systems]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=4 * 3600)
    if proc.returncode != 0:
        raise RuntimeError(f"worker for size {size} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    report.add_ratios(result)
    return result


def machine() -> dict[str, Any]:
    """Enough about the machine to judge whether two RESULTS.md files are comparable."""
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8") if Path("/proc/cpuinfo").exists() else ""
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    return {
        "cpu": models[0] if models else platform.processor() or "unknown",
        "cores": len(models) or os.cpu_count(),
        "mem_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "os": platform.platform(),
        "python": platform.python_version(),
        "engine_sha1": _engine_fingerprint(),
        "commit": _commit(),
    }


def _engine_fingerprint() -> str:
    """Hash of the matching code: the tree is shared and uncommitted, so the commit alone is not enough."""
    digest = hashlib.sha1()
    for path in sorted([*(ROOT / "bot" / "matching").glob("*.py"), *(ROOT / "bot").glob("*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return proc.stdout.strip() or "unknown"


def sample_queries(args: argparse.Namespace, n: int) -> list[str]:
    """Dev-eval queries topped up with perturbed real sentences, for the CLI batch."""
    queries = [c.query for c in load_cases(args.eval)] if args.eval.is_file() else []
    if len(queries) < n:
        queries += perturbed_queries(load_personas(args.personas), n - len(queries), args.seed)
    return queries[:n]


def cli_figures(args: argparse.Namespace, query: str) -> dict[str, Any]:
    """Start-up of the engine and of the installed CLI, each from fresh processes (--quick: warm only)."""
    cold_runs, warm_runs = (0, 1) if args.quick else (1, 3)
    figures = {"engine_startup": startup.engine_startup(args.personas, query, cold_runs, warm_runs)}
    if args.no_cli:
        figures["cli_one_shot"] = SKIPPED
    else:
        figures["cli_one_shot"] = startup.cli_one_shot(query, args.personas, cold_runs, warm_runs)
    return figures


def cli_batch(size: str, args: argparse.Namespace, queries: list[str]) -> dict[str, Any]:
    """`ask --jsonl` on this size's corpus: the real directory, or the synthetic one written as YAML."""
    if args.no_cli:
        return SKIPPED
    if size == "real":
        return startup.cli_batch(queries, args.personas)
    if int(size) > args.cli_max_size:
        return {"available": False, "reason": f"skipped above --cli-max-size {args.cli_max_size}"}
    pool = SentencePool.from_personas(load_personas(args.personas))
    with tempfile.TemporaryDirectory(prefix="bench-personas-") as tmp:
        write_personas(make_corpus(pool, int(size), args.seed), Path(tmp))
        return startup.cli_batch(queries, Path(tmp))


def collect(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of one benchmark run, as one JSON-ready dict."""
    results: dict[str, Any] = {
        "command": args.command,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "personas": str(args.personas),
        "eval": str(args.eval),
        "quick": args.quick,
        "sizes": [],
    }
    batch_queries = sample_queries(args, 10 if args.quick else BATCH_QUERIES)
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        print(f"measuring size {size} ...", file=sys.stderr, flush=True)
        result = run_worker(size, args)
        result["cli_batch"] = cli_batch(size, args, batch_queries)
        results["sizes"].append(result)
    print("measuring start-up ...", file=sys.stderr, flush=True)
    results.update(cli_figures(args, batch_queries[0]))
    results["targets"] = report.targets(results)
    results["growth"] = report.growth(results)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    results = collect(args)
    text = report.markdown(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(text)
    print(f"wrote {args.out} and {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
