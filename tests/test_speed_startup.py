"""jieba's dictionary cache: in a directory the user owns, reused when sound, rebuilt when not."""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jieba
import pytest

from bot.model import DataError, load_personas
from bot.text import Tokenizer

SAMPLE = "大模型的算力够不够用，開源模型怎么看"


def _words(cache: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("PERSONA_BOT_CACHE", str(cache))
    return Tokenizer(["算力"]).search_words(SAMPLE)


def _cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("jieba-*.cache"))


def test_cache_written_privately_then_loaded_without_rebuilding(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cache"
    first = _words(folder, monkeypatch)
    [cache] = _cache_files(folder)
    assert folder.stat().st_mode & 0o777 == 0o700
    freq, total = marshal.loads(cache.read_bytes())
    assert isinstance(freq, dict) and total > 0

    def no_rebuild(self: jieba.Tokenizer, f: object) -> None:
        raise AssertionError("the dictionary was rebuilt although a sound cache exists")

    monkeypatch.setattr(jieba.Tokenizer, "gen_pfdict", no_rebuild)
    assert _words(folder, monkeypatch) == first


def test_truncated_or_corrupt_cache_is_rebuilt_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cache"
    expected = _words(folder, monkeypatch)
    [cache] = _cache_files(folder)
    whole = cache.read_bytes()
    for damaged in (whole[: len(whole) // 2], b"\x00garbage", marshal.dumps(("not", "a cache"))):
        cache.write_bytes(damaged)
        assert _words(folder, monkeypatch) == expected
        assert cache.read_bytes() == whole  # jieba wrote a sound one again


def test_a_directory_others_can_write_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    expected = _words(tmp_path / "private", monkeypatch)
    assert _words(shared, monkeypatch) == expected
    assert _cache_files(shared) == []


# ---- the parsed copy of the personas (bot/model.py) ----

PERSONAS = Path(__file__).resolve().parents[1] / "personas"


def _copies(cache: Path) -> list[Path]:
    return sorted(cache.glob("persona-*.json"))


def test_a_parsed_copy_is_written_then_read_instead_of_the_yaml(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "personas-cache"
    cache.mkdir()
    parsed = load_personas(PERSONAS, cache=cache)
    copies = _copies(cache)
    assert len(copies) == len(parsed)

    def no_yaml(*args: object, **kwargs: object) -> None:
        raise AssertionError("YAML parsed although a sound copy exists")

    monkeypatch.setattr("bot.model._parse_persona", no_yaml)
    assert load_personas(PERSONAS, cache=cache) == parsed
    assert _copies(cache) == copies


def test_an_edited_file_is_parsed_again(tmp_path: Path) -> None:
    cache, personas = tmp_path / "cache", tmp_path / "personas"
    cache.mkdir()
    shutil.copytree(PERSONAS, personas)
    before = load_personas(personas, cache=cache)
    first = sorted(personas.glob("*.yaml"))[0]
    first.write_text(first.read_text(encoding="utf-8").replace("role: ", "role: 前", 1), encoding="utf-8")
    after = load_personas(personas, cache=cache)
    assert after != before and after == load_personas(personas)  # what the YAML says, not the old copy
    assert len(_copies(cache)) == len(before) + 1


def test_a_damaged_copy_is_refused_and_rewritten(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    expected = load_personas(PERSONAS, cache=cache)
    copy = _copies(cache)[0]
    whole = copy.read_bytes()
    for damaged in (whole[: len(whole) // 2], b"{}", whole.replace(b'"source":"', b'"source":"x', 1)):
        copy.write_bytes(damaged)
        assert load_personas(PERSONAS, cache=cache) == expected
        assert copy.read_bytes() == whole
    assert "is damaged: reading the YAML again" in caplog.text


def test_a_broken_file_is_reported_with_a_copy_cache_as_without(tmp_path: Path) -> None:
    cache, personas = tmp_path / "cache", tmp_path / "personas"
    cache.mkdir()
    shutil.copytree(PERSONAS, personas)
    load_personas(personas, cache=cache)
    first = sorted(personas.glob("*.yaml"))[0]
    first.write_text(first.read_text(encoding="utf-8").replace("source: ", "source: nowhere-", 1), encoding="utf-8")
    with pytest.raises(DataError) as cached:
        load_personas(personas, cache=cache)
    with pytest.raises(DataError) as parsed:
        load_personas(personas)
    assert [str(p) for p in cached.value.problems] == [str(p) for p in parsed.value.problems]
    assert f"{first}:" in str(cached.value.problems[0])


def test_an_unwritable_cache_only_costs_the_parse(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o500)
    try:
        assert load_personas(PERSONAS, cache=cache) == load_personas(PERSONAS)
    finally:
        cache.chmod(0o700)
    assert _copies(cache) == [] or os.geteuid() == 0


# ---- what a command imports ----


def test_ask_imports_neither_telegram_nor_ingest_nor_the_feedback_store(tmp_path: Path) -> None:
    code = ("import sys, io, contextlib\n"
            "from bot.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['ask', '开源模型怎么看', '--json'])\n"
            "print('\\n'.join(sorted(sys.modules)))\n")
    env = dict(os.environ, PERSONA_BOT_CACHE=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    for heavy in ("telegram", "bot.telegram", "bot.ingest", "bot.feedback.store", "sqlite3", "scipy", "bs4",
                  "markdown_it", "jieba.analyse", "jieba.posseg", "aiohttp", "tornado"):
        assert heavy not in loaded, heavy
