"""The benchmark must keep running: a --quick run on a tiny fixture yields a well-formed report.

Timings are never asserted (they depend on the machine and on who else is using it); only that every
figure is present, accuracy lies in [0, 1] and ratios were computed. The fixture personas and eval
live here, so the test neither waits for nor breaks on changes to the real corpus.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench import run
from bench.accuracy import Hit, Outcome, best_threshold, load_cases, passes, score
from bench.measure import percentile
from bench.synthetic import SentencePool, make_corpus, perturbed_queries
from bot.model import load_personas

SOURCE = {
    "id": "s1",
    "outlet": "测试报",
    "title": "访谈",
    "date": "2024-01-01",
    "format": "interview",
    "script": "Simplified",
}

ANSWERS = {
    "wang-yi": (
        "王一",
        [
            ("大模型的竞争比的是什么？", "大模型的竞争不只是模型本身。生态和应用场景同样重要。"),
            ("开源和闭源该怎么选？", "开源适合深度定制。闭源适合快速上线，省去运维的麻烦。"),
            ("算力会不会卡脖子？", "算力确实是瓶颈。但算法的改进可以弥补一部分差距。"),
        ],
    ),
    "li-er": (
        "李二",
        [
            ("AI该不该立法？", "立法要跟上技术发展。监管的重点是安全和透明。"),
            ("数据从哪里来？", "高质量的中文数据依然稀缺。行业数据需要企业愿意开放。"),
            ("大学和企业做研究有什么不同？", "高校更关注前瞻性。企业更强调落地。"),
        ],
    ),
}

EVAL = [
    {
        "id": "t-direct",
        "category": "direct",
        "query": "大模型的竞争比的是什么",
        "persona": "王一",
        "expect_any": ["不只是模型本身"],
    },
    {"id": "t-negative", "category": "negative", "query": "周末去哪里爬山", "persona": None, "expect_any": []},
    {
        "id": "t-compare",
        "category": "compare",
        "query": "立法和开源怎么看",
        "persona": "王一",
        "ask_persona": ["王一", "李二"],
        "expect_any": ["开源适合深度定制"],
        "expect_any_2": ["立法要跟上技术发展"],
    },
]


def _persona(pid: str, name: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    entries = [
        {"id": f"{pid}-{i}", "question": q, "answer": a, "topics": ["ai"], "source": "s1", "position": i}
        for i, (q, a) in enumerate(pairs)
    ]
    return {
        "id": pid,
        "name": name,
        "name_simplified": name,
        "pinyin": pid.replace("-", " "),
        "sources": [SOURCE],
        "topics": {"ai": entries},
    }


@pytest.fixture()
def fixture_dirs(tmp_path: Path) -> tuple[Path, Path]:
    personas = tmp_path / "personas"
    personas.mkdir()
    for pid, (name, pairs) in ANSWERS.items():
        text = yaml.safe_dump(_persona(pid, name, pairs), allow_unicode=True)
        (personas / f"{pid}.yaml").write_text(text, encoding="utf-8")
    eval_file = tmp_path / "eval.yaml"
    eval_file.write_text(yaml.safe_dump(EVAL, allow_unicode=True), encoding="utf-8")
    return personas, eval_file


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def test_quick_run_writes_a_well_formed_report(tmp_path: Path, fixture_dirs: tuple[Path, Path]) -> None:
    personas, eval_file = fixture_dirs
    out, raw = tmp_path / "RESULTS.md", tmp_path / "results.json"
    run.main(
        [
            "--quick",
            "--sizes",
            "real,40",
            "--personas",
            str(personas),
            "--eval",
            str(eval_file),
            "--out",
            str(out),
            "--json",
            str(raw),
        ]
    )

    results = json.loads(raw.read_text(encoding="utf-8"))
    assert [s["size"] for s in results["sizes"]] == ["real", "40"]
    assert results["sizes"][1]["entries"] == 40
    for size in results["sizes"]:
        assert set(size["systems"]) == {"ours", "rapidfuzz", "bm25s"}
        for figures in size["systems"].values():
            assert figures["latency"]["n"] > 0
            assert _is_number(figures["latency"]["p50_ms"]) and _is_number(figures["latency"]["p99_ms"])
            assert _is_number(figures["build_s"]) and _is_number(figures["peak_rss_mb"])
        assert all(_is_number(size["p50_ratio_ours_over"][b]) for b in ("rapidfuzz", "bm25s"))

    real = results["sizes"][0]["systems"]
    for name, figures in real.items():
        keys = ["accuracy"] if name == "ours" else ["accuracy", "accuracy_tuned"]
        for key in keys:
            assert 0.0 <= figures[key]["rate"] <= 1.0
            assert figures[key]["total"] == len(EVAL)

    assert results["engine_startup"]["available"] is True
    for cli in (results["cli_one_shot"], *(s["cli_batch"] for s in results["sizes"])):
        assert isinstance(cli["available"], bool)
        assert cli["available"] or cli["reason"]  # "n/a" with a reason, never a crash
    assert {t["met"] for t in results["targets"]} <= {True, False, None}
    text = out.read_text(encoding="utf-8")
    assert "- Machine: " in text and "## Latency" in text and "## Accuracy" in text and "## Growth" in text


def test_synthetic_corpus_is_valid_and_reproducible(fixture_dirs: tuple[Path, Path]) -> None:
    pool = SentencePool.from_personas(load_personas(fixture_dirs[0]))
    first, again = make_corpus(pool, 50, seed=1), make_corpus(pool, 50, seed=1)
    assert sum(len(p.entries) for p in first) == 50
    assert [e.answer for p in first for e in p.entries] == [e.answer for p in again for e in p.entries]
    assert len({e.id for p in first for e in p.entries}) == 50
    assert perturbed_queries(first, 5, seed=1) == perturbed_queries(again, 5, seed=1)


def test_pass_rule_and_threshold_tuning(fixture_dirs: tuple[Path, Path]) -> None:
    direct, negative, compare = load_cases(fixture_dirs[1])
    right = Hit("王一", "大模型的竞争不只是模型本身。", 80.0)
    traditional = Hit("王一", "大模型的競爭不只是模型本身。", 80.0)
    noise = Hit("李二", "高校更关注前瞻性。", 20.0)
    assert passes(Outcome(direct, (right,))) and passes(Outcome(direct, (traditional,)))
    assert not passes(Outcome(negative, (noise,))) and passes(Outcome(negative, (noise,)), threshold=30.0)
    assert not passes(Outcome(compare, (right, noise)))
    outcomes = [Outcome(direct, (right,)), Outcome(negative, (noise,))]
    assert score(outcomes).passed == 1
    assert best_threshold(outcomes).passed == 2


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 99) == 99.0 and percentile([3.0], 99) == 3.0


def test_size_labels_and_growth_factors() -> None:
    from bench.report import growth
    from bench.worker import size_label

    assert [size_label(s) for s in ("real", "1M", "300k", "10000", "1.5k")] == [
        "real", "1000000", "300000", "10000", "1500"]

    def size(label: str, entries: int, ours: float, bm25s: float) -> dict[str, Any]:
        return {"size": label, "entries": entries,
                "systems": {"ours": {"latency": {"p50_ms": ours}}, "bm25s": {"latency": {"p50_ms": bm25s}}}}

    results = {"sizes": [size("real", 54, 1.0, 0.1), size("1000", 1000, 0.5, 0.1), size("10000", 10000, 1.0, 0.2),
                         size("100000", 100000, 4.0, 0.8)]}
    assert growth(results) == [
        {"from": "1000", "to": "10000", "entries": 10.0, "ours": 2.0, "bm25s": 2.0},
        {"from": "10000", "to": "100000", "entries": 10.0, "ours": 4.0, "bm25s": 4.0},
        {"from": "1000", "to": "100000", "entries": 100.0, "ours": 8.0, "bm25s": 8.0},
    ]
