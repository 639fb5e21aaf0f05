"""Sounds without pypinyin on every start (bot/matching/sounds.py): exactly what lazy_pinyin gives."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypinyin import lazy_pinyin
from pypinyin.constants import PHRASES_DICT

from bot.matching import sounds
from bot.matching.sounds import TermSounds, char_sounds

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PERSONA_BOT_CACHE", str(tmp_path / "cache"))
    char_sounds.cache_clear()
    yield tmp_path / "cache"
    char_sounds.cache_clear()


def test_every_reading_pypinyin_gives_a_character_is_in_the_table(cache: Path) -> None:
    table = char_sounds()
    for point in range(0x3400, 0xA000):
        assert table.sound(chr(point)) == "".join(lazy_pinyin(chr(point)))
    for phrase in PHRASES_DICT:
        for char, reading in zip(phrase, lazy_pinyin(phrase), strict=True):
            options = table.readings(char)
            assert options is None or reading in options, (phrase, char)


def test_homophones_are_what_lazy_pinyin_finds(cache: Path, tmp_path: Path) -> None:
    terms = ["算力", "开源", "模型", "大模型", "芯片", "前途", "钱途", "人工智能", "数据", "树据", "行业", "银行"]
    expected: dict[str, list[str]] = {}
    for term in terms:
        expected.setdefault("".join(lazy_pinyin(term)), []).append(term)
    rnd = random.Random(0)
    pool = "".join(terms) + "利元魔形新骗钱图书局航星"
    words = ["算利", "开元", "魔型", "前图", "航业", "人工只能", "数局"]
    words += ["".join(rnd.choice(pool) for _ in range(rnd.choice((2, 3)))) for _ in range(2000)]
    for path in (None, tmp_path / "sounds.json", tmp_path / "sounds.json"):  # computed, written, then read
        found = TermSounds(terms, path)
        for word in words:
            assert found.like(word) == sorted(expected.get("".join(lazy_pinyin(word)), [])), word


def test_a_damaged_table_is_made_again_not_trusted(cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "sounds.json"
    TermSounds(["算力", "开源"], path)
    whole = path.read_bytes()
    for damaged in (whole[: len(whole) // 2], whole.replace(b"suanli", b"kaiyuan"), b"{}"):
        path.write_bytes(damaged)
        assert TermSounds(["算力", "开源"], path).like("算利") == ["算力"]
        assert path.read_bytes() == whole
    char_sounds()
    [table] = list(cache.glob("pinyin-*.json"))
    table.write_bytes(table.read_bytes().replace(b'"', b"'", 3))
    char_sounds.cache_clear()
    assert char_sounds().sound("算") == "suan"


def test_a_question_with_no_sound_alike_word_does_not_import_pypinyin(tmp_path: Path) -> None:
    code = ("import sys, io, contextlib\n"
            "from bot.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['ask', sys.argv[1], '--json'])\n"
            "print('pypinyin' in sys.modules)\n")
    env = dict(os.environ, PERSONA_BOT_CACHE=str(tmp_path / "cache"))
    runs = [subprocess.run([sys.executable, "-c", code, "开源模型和闭源模型哪个更有前途"], capture_output=True, text=True,
                           env=env, timeout=300, cwd=ROOT) for _ in range(2)]
    assert [r.stdout.split()[-1] for r in runs] == ["True", "False"], runs[-1].stderr  # first: tables made
    assert sounds.pypinyin_stamp() in " ".join(p.name for p in (tmp_path / "cache").glob("pinyin-*.json"))
