"""Fingerprints of what the matcher computes, to prove a speed change leaves results identical.

    .venv/bin/python -m bench.fingerprint --out /tmp/before.json [--size real|N]
    .venv/bin/python -m bench.fingerprint --compare /tmp/before.json

Per query (eval/tune, eval/holdout, the dev set; plus perturbed corpus sentences on a synthetic
corpus): the candidates, the feature matrix's bytes, each candidate's matched concepts and best
passage, and the whole answer as JSON, hashed. Any difference, even in the last bit of one
feature, shows as a changed query.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.baselines import OurSystem
from bench.synthetic import perturbed_queries
from bench.worker import REAL, build_corpus
from bot.matching.engine import Engine
from bot.paths import default_personas_dir

ROOT = Path(__file__).resolve().parents[1]
EVALS = (ROOT / "eval" / "tune.yaml", ROOT / "eval" / "holdout.yaml", Path("/work/shared/eval/dev_eval.yaml"))


def queries(size: str, personas: Sequence[Any]) -> list[str]:
    out: list[str] = []
    for path in EVALS:
        if path.is_file():
            out += [str(c["query"]) for c in yaml.safe_load(path.read_text(encoding="utf-8"))]
    if size != REAL:
        out += perturbed_queries(personas, 200, 0)
    return out


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return repr(value)


def fingerprint(engine: Engine, query: str) -> str:
    digest = hashlib.sha256()
    q = engine.analyzer.analyse(query)
    for allowed in ([], list(q.personas)[:1], engine.personas[:1]):
        scored = engine.scored(q, allowed)
        digest.update(scored.candidates.astype(np.int64).tobytes())
        digest.update(np.ascontiguousarray(scored.features).tobytes())
        for doc in scored.candidates:
            doc_id = int(doc)
            digest.update(repr([bool(np.any(ids == doc_id)) for ids in scored.found.answers.matched]).encode())
            answers = scored.found.answers
            passage = answers.passage_of(doc_id) if hasattr(answers, "passage_of") else answers.best_passage[doc_id]
            digest.update(str(int(passage)).encode())
    digest.update(json.dumps(_plain(engine.answer(query)), sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fingerprint", description=__doc__)
    parser.add_argument("--size", default=REAL)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args(argv)
    size = args.size
    if args.compare:
        size = json.loads(args.compare.read_text())["size"]
    personas, _ = build_corpus(size, default_personas_dir(), seed=0)
    engine = OurSystem(personas).engine
    prints = {f"{n}:{q}": fingerprint(engine, q) for n, q in enumerate(queries(size, personas))}
    if args.out:
        args.out.write_text(json.dumps({"size": size, "prints": prints}, ensure_ascii=False, indent=0))
    if args.compare:
        before = json.loads(args.compare.read_text())["prints"]
        changed = [k for k in before if prints.get(k) != before[k]]
        print(f"{len(before) - len(changed)}/{len(before)} queries identical")
        for key in changed[:20]:
            print("changed:", key)
        return 1 if changed or len(before) != len(prints) else 0
    print(f"{len(prints)} fingerprints")
    return 0


if __name__ == "__main__":
    sys.exit(main())
