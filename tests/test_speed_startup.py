"""jieba's dictionary cache: in a directory the user owns, reused when sound, rebuilt when not."""

from __future__ import annotations

import marshal
from pathlib import Path

import jieba
import pytest

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
