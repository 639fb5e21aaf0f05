"""Where the engine spends its time: cProfile of building the index and of answering queries.

    .venv/bin/python -m bench.profile [--size 10000] [--queries 50] [--top 25]

Separate from bench.run because profiling distorts timings; use it to explain a slow figure in
RESULTS.md, not to produce one.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from collections.abc import Sequence
from pathlib import Path

from bench.accuracy import DEFAULT_EVAL, load_cases
from bench.baselines import OurSystem
from bench.synthetic import perturbed_queries
from bench.worker import REAL, build_corpus
from bot.paths import default_personas_dir


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--size", default="10000", help="'real' or a number of synthetic entries")
    parser.add_argument("--personas", type=Path, default=default_personas_dir())
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--queries", type=int, default=50, help="how many queries to profile")
    parser.add_argument("--top", type=int, default=25, help="rows of the profile to print")
    parser.add_argument("--no-build-profile", action="store_true", help="build unprofiled, profile queries only")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime, ...)")
    return parser.parse_args(argv)


def _print(profiler: cProfile.Profile, title: str, args: argparse.Namespace) -> None:
    print(f"\n===== {title} =====")
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    personas, _ = build_corpus(args.size, args.personas, seed=0)
    queries = [c.query for c in load_cases(args.eval)] if args.eval.is_file() else []
    if args.size != REAL:
        queries += perturbed_queries(personas, args.queries, seed=0)
    queries = queries[: args.queries]

    if args.no_build_profile:  # at 100,000 entries a profiled build takes minutes
        engine = OurSystem(personas).engine
    else:
        build = cProfile.Profile()
        engine = build.runcall(lambda: OurSystem(personas).engine)
        _print(build, f"build: Engine({sum(len(p.entries) for p in personas)} entries)", args)

    for query in queries:  # a first pass pays lazy initialisation: start-up, not per-query cost
        engine.answer(query)
    answer = cProfile.Profile()
    answer.runcall(lambda: [engine.answer(q) for q in queries])
    _print(answer, f"answer: {len(queries)} queries", args)


if __name__ == "__main__":
    main()
