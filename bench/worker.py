"""One corpus size, measured in its own process so peak memory figures do not mix across sizes.

`bench.run` starts `python -m bench.worker --size N ...` once per size and reads the JSON object it
prints on its last stdout line. Ours is built and measured first, before any baseline exists, so its
peak RSS is its own; each baseline's memory is then reported as the RSS it added.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.accuracy import DEFAULT_EVAL, Case, System, best_threshold, collect, load_cases, score
from bench.baselines import SYSTEMS, Guarded
from bench.measure import peak_rss_mb, rss_mb, settled_rss_mb, time_queries, timed
from bench.synthetic import SentencePool, make_corpus, perturbed_queries
from bot.model import Persona, load_personas

REAL = "real"
PERTURBED_QUERIES = 60
_UNITS = {"k": 1_000, "m": 1_000_000}


def size_label(size: str) -> str:
    """'real', or a number of entries written out: '1M' -> '1000000', '300k' -> '300000'."""
    size = size.strip()
    if size == REAL:
        return size
    unit = _UNITS.get(size[-1:].lower())
    return str(int(float(size[:-1]) * unit)) if unit else str(int(size))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", required=True, help="'real' or a number of synthetic entries (1M, 300k)")
    parser.add_argument("--personas", type=Path, required=True, help="the real personas directory")
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="dev eval YAML (queries, accuracy)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated: ours,rapidfuzz,bm25s")
    parser.add_argument("--budget", type=float, default=5.0, help="seconds of timed queries per system")
    parser.add_argument("--max-queries", type=int, default=0, help="cap on latency queries (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.size = size_label(args.size)
    return args


def build_corpus(size: str, personas_dir: Path, seed: int) -> tuple[list[Persona], dict[str, Any]]:
    """The real personas (load time measured) or a synthetic corpus recombined from them."""
    real, load_s = timed(lambda: load_personas(personas_dir))
    size = size_label(size)
    if size == REAL:
        return real, {"load_s": round(load_s, 4)}
    pool = SentencePool.from_personas(real)
    synthetic, generate_s = timed(lambda: make_corpus(pool, int(size), seed))
    return synthetic, {"generate_s": round(generate_s, 4)}


def latency_queries(
    cases: Sequence[Case], personas: Sequence[Persona], size: str, args: argparse.Namespace
) -> list[str]:
    """Dev-eval queries, plus perturbed corpus sentences on synthetic corpora (dev queries rarely hit them)."""
    queries = [c.query for c in cases]
    if size != REAL:
        queries += perturbed_queries(personas, PERTURBED_QUERIES, args.seed)
    return queries[: args.max_queries] if args.max_queries > 0 else queries


def measure_system(
    name: str, personas: Sequence[Persona], queries: Sequence[str], cases: Sequence[Case], args: argparse.Namespace
) -> dict[str, Any]:
    """Build one system, then time it and (on the real corpus) score it on the dev eval.

    `index_mb` is the RSS the system added by the end of its timed queries, not just after building,
    so a tokenizer dictionary loaded lazily on the first query is charged to the system that needs it;
    `settled_index_mb` is the same after gc + malloc_trim, i.e. without build-time garbage.
    """
    before = settled_rss_mb()
    built, build_s = timed(lambda: SYSTEMS[name](personas))
    after = rss_mb()
    system = Guarded(built)
    latency = time_queries(system.search, queries, args.budget)
    served = rss_mb()
    result: dict[str, Any] = {
        "build_s": round(build_s, 4),
        "rss_after_build_mb": round(after, 1),
        "rss_after_queries_mb": round(served, 1),
        "index_mb": round(served - before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "settled_index_mb": round(settled_rss_mb() - before, 1),
        "latency": latency.to_json(),
    }
    if args.size == REAL and cases:
        result.update(accuracy_fields(system, cases))
    result["errors"] = system.errors
    result["first_error"] = system.first_error
    return result


def accuracy_fields(system: System, cases: Sequence[Case]) -> dict[str, Any]:
    """Ours as it is (it has its own threshold); baselines raw and with their best dev threshold."""
    outcomes = collect(cases, system)
    fields: dict[str, Any] = {"accuracy": score(outcomes).to_json()}
    if system.name != "ours":
        fields["accuracy_tuned"] = best_threshold(outcomes).to_json()
    return fields


def run(args: argparse.Namespace) -> dict[str, Any]:
    rss_start = rss_mb()
    personas, corpus_times = build_corpus(args.size, args.personas, args.seed)
    cases = load_cases(args.eval) if args.eval.is_file() else []
    queries = latency_queries(cases, personas, args.size, args)
    result: dict[str, Any] = {
        "size": args.size,
        "entries": sum(len(p.entries) for p in personas),
        "experts": len(personas),
        "queries": len(queries),
        "rss_start_mb": round(rss_start, 1),
        "rss_corpus_mb": round(rss_mb(), 1),
        **corpus_times,
        "systems": {},
    }
    for name in [s for s in args.systems.split(",") if s]:
        result["systems"][name] = measure_system(name, personas, queries, cases, args)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    result = run(args)
    sys.stdout.write("\n" + json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
