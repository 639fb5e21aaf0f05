"""The persisted index: loaded while what it is made from holds, rebuilt when stale or damaged,
and a loaded index answers exactly as a freshly built one."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bot.matching import Engine
from bot.matching import engine as engine_module
from bot.matching.engine import load_stopwords
from bot.matching.folded import FoldedTexts
from bot.model import Persona, load_personas
from bot.paths import default_corpus_dir, default_personas_dir
from bot.text import fold
from bot.vocabulary import load_vocabulary

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def parts() -> dict[str, Any]:
    corpus = default_corpus_dir()
    return {"personas": load_personas(default_personas_dir()), "vocabulary": load_vocabulary(corpus),
            "stopwords": load_stopwords(corpus)}


def _engine(parts: dict[str, Any], cache: Path | None, personas: list[Persona] | None = None) -> Engine:
    return Engine(personas or parts["personas"], parts["vocabulary"], parts["stopwords"], index_cache=cache)


def _files(cache: Path) -> list[Path]:
    return sorted(cache.glob("index-*.npz"))


def test_a_cached_index_is_loaded_and_scores_exactly_as_a_built_one(parts: dict[str, Any], tmp_path: Path) -> None:
    built = _engine(parts, None)
    first = _engine(parts, tmp_path)
    assert len(_files(tmp_path)) == 3 and first.index.loaded_from is None
    loaded = _engine(parts, tmp_path)
    assert all(i.loaded_from is not None for i in (loaded.index, loaded.alternates, loaded.context))
    queries = [c["query"] for c in yaml.safe_load((ROOT / "eval" / "tune.yaml").read_text(encoding="utf-8"))]
    for query in queries:
        q_built, q_loaded = built.analyzer.analyse(query), loaded.analyzer.analyse(query)
        assert q_built == q_loaded
        a, b = built.scored(q_built, []), loaded.scored(q_loaded, [])
        assert a.candidates.tolist() == b.candidates.tolist(), query
        assert a.features.tobytes() == b.features.tobytes(), query
    assert loaded.answer("大模型的算力够不够").matches[0].entry.id == built.answer("大模型的算力够不够").matches[0].entry.id


def test_a_changed_answer_makes_the_cache_stale(parts: dict[str, Any], tmp_path: Path) -> None:
    _engine(parts, tmp_path)
    before = set(_files(tmp_path))
    first, *others = parts["personas"]
    entry = first.entries[0]
    edited = entry.model_copy(update={"answer": entry.answer + "另外，算力也很重要。"})
    topics = {topic: [edited if e.id == entry.id else e for e in entries] for topic, entries in first.topics.items()}
    personas = [first.model_copy(update={"topics": topics}), *others]
    changed = _engine(parts, tmp_path, personas)
    assert changed.index.loaded_from is None  # the answers' index was rebuilt...
    assert changed.alternates.loaded_from is not None  # ...the others were still good
    assert len(set(_files(tmp_path)) - before) == 1
    assert "算力也很重要" in changed.answer("算力也很重要吗", personas[0]).matches[0].entry.answer


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_a_damaged_cache_is_rebuilt_not_trusted(parts: dict[str, Any], tmp_path: Path, damage: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    reference = _engine(parts, tmp_path)
    files = _files(tmp_path)
    target = max(files, key=lambda f: f.stat().st_size)
    whole = target.read_bytes()
    if damage == "truncate":
        target.write_bytes(whole[: len(whole) // 2])
    elif damage == "garbage":
        target.write_bytes(b"not an index at all")
    else:  # one bit inside the data: zip's CRC catches it
        flipped = bytearray(whole)
        flipped[len(whole) // 3] ^= 0x01
        target.write_bytes(bytes(flipped))
    with caplog.at_level(logging.WARNING):
        again = _engine(parts, tmp_path)
    assert "damaged" in caplog.text
    assert target.read_bytes() == whole  # rewritten sound
    query = "大模型的算力够不够"
    q = again.analyzer.analyse(query)
    assert again.scored(q, []).features.tobytes() == reference.scored(reference.analyzer.analyse(query), []).features.tobytes()


def test_a_cache_it_cannot_write_warns_and_serves_from_memory(parts: dict[str, Any], tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "a-file-not-a-directory"  # unwritable even for root, unlike chmod
    blocked.write_text("")
    with caplog.at_level(logging.WARNING):
        engine = _engine(parts, blocked)
    assert "not written" in caplog.text and "serving from memory" in caplog.text
    assert engine.answer("大模型的算力够不够").matches
    assert list(tmp_path.iterdir()) == [blocked]  # no temporary file left behind


def test_a_cache_directory_others_can_write_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    from bot.matching.engine import index_cache_dir

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("PERSONA_BOT_CACHE", str(shared))
    with caplog.at_level(logging.WARNING):
        assert index_cache_dir() is None
    assert "built at every start" in caplog.text
    monkeypatch.setenv("PERSONA_BOT_CACHE", str(tmp_path / "mine"))
    found = index_cache_dir()
    assert found is not None and found.stat().st_mode & 0o777 == 0o700
    assert np.array([found.is_dir()]).all()


def test_indexes_unused_for_a_month_are_pruned_when_a_new_one_is_written(parts: dict[str, Any],
                                                                          tmp_path: Path) -> None:
    old, recent = tmp_path / "index-old.npz", tmp_path / "index-recent.npz"
    for f in (old, recent):
        f.write_bytes(b"x")
    month_ago = time.time() - 40 * 24 * 3600
    os.utime(old, (month_ago, month_ago))
    _engine(parts, tmp_path)
    assert not old.exists() and recent.exists()


def test_a_start_that_finds_its_index_folds_no_entry_text(parts: dict[str, Any], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _engine(parts, tmp_path)
    folded: list[str] = []
    real_fold = engine_module.fold

    def counting(text: str) -> str:
        folded.append(text)
        return real_fold(text)

    monkeypatch.setattr("bot.matching.engine.fold", counting)
    loaded = _engine(parts, tmp_path)
    assert all(i.loaded_from is not None for i in (loaded.index, loaded.alternates, loaded.context))
    answers = {e.answer for p in parts["personas"] for e in p.entries}
    assert not answers & set(folded)  # names and terms only, no entry's text


def test_the_context_index_is_stale_when_what_it_is_made_of_changes(parts: dict[str, Any], tmp_path: Path) -> None:
    _engine(parts, tmp_path)
    before = set(_files(tmp_path))
    first, *others = parts["personas"]
    renamed = first.model_copy(update={"role": first.role + "（前）"})
    changed = _engine(parts, tmp_path, [renamed, *others])
    assert changed.index.loaded_from is not None and changed.alternates.loaded_from is not None
    assert changed.context.loaded_from is None and len(set(_files(tmp_path)) - before) == 1


def test_ingest_builds_the_index_the_next_start_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`persona-bot ingest` leaves the index in the cache: the first start after it builds nothing."""
    import subprocess
    import sys

    cache, out = tmp_path / "cache", tmp_path / "personas"
    env = {**os.environ, "PERSONA_BOT_CACHE": str(cache)}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", "--out", str(out)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"cached in {cache / 'indexes'}" in result.stdout
    monkeypatch.setenv("PERSONA_BOT_CACHE", str(cache))
    engine = Engine.load(out)
    assert all(i.loaded_from is not None for i in (engine.index, engine.alternates, engine.context))
    assert engine.answer("AI会不会造成大量的失业？").matches


def test_the_folded_texts_are_folds_to_the_byte_built_or_loaded(parts: dict[str, Any], tmp_path: Path) -> None:
    texts = [engine_module._texts(e) for p in parts["personas"] for e in p.entries]
    texts += [("Ｈｅｌｌｏ\n  World ", ""), ("資料\t軟體", "人工智慧", "")]  # width, white space, empty texts
    built = FoldedTexts(texts, b"recipe", tmp_path)
    loaded = FoldedTexts(texts, b"recipe", tmp_path)
    assert built.loaded_from is None and loaded.loaded_from is not None
    for i, entry in enumerate(texts):
        assert built[i] == loaded[i] == [fold(t) for t in entry]
    assert FoldedTexts(texts, b"another recipe", tmp_path).loaded_from is None  # another key


def test_damaged_folded_texts_are_folded_again(parts: dict[str, Any], tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    texts = [engine_module._texts(e) for p in parts["personas"] for e in p.entries]
    FoldedTexts(texts, b"recipe", tmp_path)
    [path] = tmp_path.glob("folded-*.npz")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    with caplog.at_level(logging.WARNING):
        again = FoldedTexts(texts, b"recipe", tmp_path)
    assert "damaged" in caplog.text and again.loaded_from is None
    assert path.read_bytes() == whole and again[0] == [fold(t) for t in texts[0]]
