"""Start-up and CLI figures, each from a fresh interpreter, because that is what a user waits for.

In-process timings hide interpreter start, imports and dictionary loading; a one-shot
`persona-bot ask "..." --json` pays all of them on every call. "Cold" runs with an empty TMPDIR and
PERSONA_BOT_CACHE so jieba finds no dictionary cache (its first run after install); "warm" is the median of repeated
runs once the OS page cache, the .pyc files and jieba's cache are all warm.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

_STARTUP_SNIPPET = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from bot.matching import Engine
t1 = time.perf_counter()
engine = Engine.load(Path(sys.argv[1]))
t2 = time.perf_counter()
engine.answer(sys.argv[2])
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_build_s": t2 - t1, "first_query_s": t3 - t2}))
"""


def _env(cold: bool, tmp: str) -> dict[str, str]:
    env = dict(os.environ)
    if cold:  # no jieba cache anywhere: neither jieba's default (TMPDIR) nor ours (PERSONA_BOT_CACHE)
        env["TMPDIR"] = tmp
        env["PERSONA_BOT_CACHE"] = os.path.join(tmp, "persona-bot-cache")
    return env


def _run(
    cmd: Sequence[str], stdin: str | None, cold: bool, timeout: float
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run once from the project root and time the wall clock, the way a user's shell would."""
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        start = time.perf_counter()
        proc = subprocess.run(
            list(cmd), input=stdin, capture_output=True, text=True, cwd=ROOT, env=_env(cold, tmp), timeout=timeout
        )
        return proc, time.perf_counter() - start


def engine_startup(personas_dir: Path, query: str, cold_runs: int = 1, warm_runs: int = 3) -> dict[str, Any]:
    """Import + load + build (+ first query) in fresh processes: `cold_runs` cold, then `warm_runs` warm."""
    cmd = [sys.executable, "-c", _STARTUP_SNIPPET, str(personas_dir), query]
    runs: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
    for cold in [True] * cold_runs + [False] * warm_runs:
        proc, wall = _run(cmd, None, cold, timeout=600)
        if proc.returncode != 0:
            return {"available": False, "reason": _last_line(proc.stderr)}
        runs["cold" if cold else "warm"].append({**json.loads(proc.stdout.strip().splitlines()[-1]), "wall_s": wall})
    return {"available": True, "cold": _median(runs["cold"]), "warm": _median(runs["warm"])}


def cli_command() -> list[str] | None:
    """The installed `persona-bot` script next to this interpreter, if the project is installed."""
    script = Path(sys.executable).with_name("persona-bot")
    return [str(script)] if script.exists() else None


def cli_one_shot(query: str, personas_dir: Path, cold_runs: int = 1, warm_runs: int = 3) -> dict[str, Any]:
    """Wall time of `persona-bot ask QUERY --json`: the start-up a one-shot user pays (target <= 1.0 s)."""
    cmd = cli_command()
    if cmd is None:
        return {"available": False, "reason": "no persona-bot script next to the interpreter"}
    walls: dict[str, list[float]] = {"cold": [], "warm": []}
    for cold in [True] * cold_runs + [False] * warm_runs:
        proc, wall = _run([*cmd, "ask", query, "--json", "--personas", str(personas_dir)], None, cold, timeout=120)
        problem = _json_problem(proc, expect_lines=1)
        if problem:
            return {"available": False, "reason": problem}
        walls["cold" if cold else "warm"].append(wall)
    return {"available": True, **{f"{k}_s": statistics.median(v) for k, v in walls.items() if v}}


def cli_batch(queries: Sequence[str], personas_dir: Path) -> dict[str, Any]:
    """`persona-bot ask --jsonl` over the queries in one process, timing each output line as it arrives.

    The CLI flushes one line per query, so the first line marks start-up (plus one query) and the
    gaps between later lines are the per-query cost, without a second run to subtract.
    """
    cmd = cli_command()
    if cmd is None or not queries:
        return {"available": False, "reason": "no persona-bot script next to the interpreter"}
    lines = "".join(json.dumps({"query": q, "persona": None}, ensure_ascii=False) + "\n" for q in queries)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*cmd, "ask", "--jsonl", "--personas", str(personas_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    stamps, errors, problem = _read_stamped(proc, lines)
    wall = time.perf_counter() - start
    if problem is None and len(stamps) != len(queries):
        problem = f"{len(stamps)} JSON results for {len(queries)} queries"
    if problem is not None:
        return {"available": False, "reason": problem, "queries": len(queries)}
    n = len(queries)
    first = stamps[0] - start
    per_query = (stamps[-1] - stamps[0]) / (n - 1) if n > 1 else first
    return {
        "available": True,
        "queries": n,
        "wall_s": wall,
        "first_answer_s": first,
        "per_query_ms": per_query * 1000,
        "qps": n / wall,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def _read_stamped(proc: subprocess.Popen[str], stdin: str) -> tuple[list[float], list[str], str | None]:
    """Feed stdin, then read stdout line by line noting when each JSON line arrived.

    Returns the arrival times, the `error` lines (answered, but with an error: counted, not fatal)
    and why the run cannot be counted at all, if it cannot.
    """
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stamps: list[float] = []
    errors: list[str] = []
    problem = None
    try:
        proc.stdin.write(stdin)  # small enough for the pipe buffer: the CLI reads as it answers
        proc.stdin.close()
        for line in proc.stdout:
            if line.strip():
                stamps.append(time.perf_counter())
                reply = json.loads(line)
                if "error" in reply:
                    errors.append(str(reply["error"])[:200])
    except (BrokenPipeError, json.JSONDecodeError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
        proc.kill()
    stderr = proc.stderr.read()
    if proc.wait(timeout=600) != 0 and problem is None:
        problem = f"exit {proc.returncode}: {_last_line(stderr)}"
    return stamps, errors, problem


def _json_problem(proc: subprocess.CompletedProcess[str], expect_lines: int) -> str | None:
    """Why a CLI run cannot be counted (missing command, crash, not JSON), or None when it is fine."""
    if proc.returncode != 0:
        return f"exit {proc.returncode}: {_last_line(proc.stderr)}"
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        parsed = [json.loads(line) for line in lines] if expect_lines > 1 else [json.loads(proc.stdout)]
    except json.JSONDecodeError:
        return f"output is not JSON: {proc.stdout[:80]!r}"
    if len(parsed) != expect_lines:
        return f"{len(parsed)} JSON results for {expect_lines} queries"
    return None


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "(no output)"


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]} if runs else {}
