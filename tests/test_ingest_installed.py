"""Ingest from an installed (non-editable) package: the corpus a user edits is theirs, not the package's.

The wheel's layout is laid out by hand (bot/ with bot/_data/corpus and bot/_data/personas, as
pyproject's package-dir maps them), so the test needs no network or build backend.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _installed(site: Path) -> Path:
    shutil.copytree(ROOT / "bot", site / "bot", ignore=shutil.ignore_patterns("__pycache__", "_data"))
    shutil.copytree(ROOT / "corpus", site / "bot" / "_data" / "corpus")
    shutil.copytree(ROOT / "personas", site / "bot" / "_data" / "personas")
    return site


def _tree(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def _run(site: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(site), "HOME": str(home), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=home,
                          env=env, timeout=300)


def test_the_wheel_ships_the_raw_texts_ingest_needs() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "raw/*" in config["tool"]["setuptools"]["package-data"]["bot._data.corpus"]
    assert "bot.ingest.readers" in config["tool"]["setuptools"]["packages"]


def test_installed_ingest_writes_a_user_corpus_and_personas_never_the_package(tmp_path: Path) -> None:
    site, home = _installed(tmp_path / "site"), tmp_path / "home"
    home.mkdir()
    shipped = _tree(site / "bot" / "_data")
    result = _run(site, home, "ingest")
    assert result.returncode == 0, result.stderr
    user = home / ".local" / "share" / "persona-bot"
    assert f"persona files to {user / 'personas'}" in result.stdout
    assert _tree(user / "personas") == _tree(ROOT / "personas")  # what the checkout ships, byte for byte
    assert (user / "corpus" / "raw").is_dir() and (user / "corpus" / "sources.yaml").is_file()
    added = _run(site, home, "add-source", str(ROOT / "tests" / "fixtures" / "ingest" / "wenda_000.txt"),
                 "--name", "丁磊", "--outlet", "界面新闻")
    assert added.returncode == 0, added.stderr
    assert "entries written: 7 (ding-lei.yaml 7)" in added.stdout
    assert _run(site, home, "ingest", "--check").returncode == 0
    assert _tree(site / "bot" / "_data") == shipped  # the package's own files never change
    experts = _run(site, home, "experts", "--json")
    assert experts.returncode == 0 and "丁磊" in experts.stdout  # answers come from the user's personas
