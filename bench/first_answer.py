"""Time to the first answer of `persona-bot ask --jsonl` on the real and synthetic corpora, cold and warm.

    .venv/bin/python -m bench.first_answer --sizes real,10000,100000 [--warm-runs 3]

Each size's corpus is written as persona YAML files (synthetic ones as `bench.run` makes them),
then one process per run reads one question from stdin and the clock stops at its answer line:
*cold* with an empty cache directory (`PERSONA_BOT_CACHE`: no jieba cache, no parsed personas, no
index; what the first start after `ingest` or a corpus edit pays), then *warm* (what every later
start, and the Docker image's first, pays). The command is this checkout's code (`python -m
bot.cli`), not whichever `persona-bot` is installed. Peak RSS of the process comes from
getrusage of the children.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.synthetic import SentencePool, make_corpus, write_personas
from bot.model import load_personas
from bot.paths import default_personas_dir

ROOT = Path(__file__).resolve().parents[1]
QUERY = "开源模型和闭源模型哪个更有前途"


def first_answer(personas: Path, cache: Path) -> tuple[float, float]:
    """Seconds to the first answer line, and the process's peak RSS in MB."""
    env = dict(os.environ, PERSONA_BOT_CACHE=str(cache), PYTHONPATH=str(ROOT))
    line = json.dumps({"query": QUERY, "persona": None}, ensure_ascii=False) + "\n"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "ask", "--jsonl", "--personas", str(personas)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line)
    proc.stdin.flush()
    answer = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.stdin.close()
    proc.wait(timeout=60)
    if not answer.startswith("{"):
        raise RuntimeError(f"no answer from {personas}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.first_answer", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="real,10000,100000")
    parser.add_argument("--warm-runs", type=int, default=3)
    args = parser.parse_args(argv)
    real = default_personas_dir()
    pool = SentencePool.from_personas(load_personas(real))
    print(f"| corpus | cold first answer s | warm first answer s (median of {args.warm_runs}) | cold peak RSS MB |")
    print("|---|---|---|---|")
    for size in args.sizes.split(","):
        with tempfile.TemporaryDirectory(prefix="bench-first-") as tmp:
            personas = real
            if size != "real":
                personas = Path(tmp) / "personas"
                write_personas(make_corpus(pool, int(size), 0), personas)
            cache = Path(tmp) / "cache"
            cold, peak = first_answer(personas, cache)
            warm = statistics.median(first_answer(personas, cache)[0] for _ in range(args.warm_runs))
            print(f"| {size} | {cold:.2f} | {warm:.2f} | {peak:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
