"""Persona data faults: every problem reported at once as FILE:LINE, exit 2, no traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PERSONAS = ROOT / "personas"


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, input=stdin,
                          cwd=ROOT, timeout=120)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of the real personas with one fault of each kind."""
    out = tmp_path / "personas"
    shutil.copytree(PERSONAS, out)
    # broken YAML in one file
    text = (out / "ma-chao.yaml").read_text(encoding="utf-8").splitlines()
    text[10] = text[10] + " : : ["
    (out / "ma-chao.yaml").write_text("\n".join(text), encoding="utf-8")
    # a missing field and an unknown source id in another
    du = (out / "du-xiawei.yaml").read_text(encoding="utf-8")
    du = du.replace("  outlet: 智能网（2025China.cn）\n", "", 1).replace("    source: '002'", "    source: '999'", 1)
    (out / "du-xiawei.yaml").write_text(du, encoding="utf-8")
    # a duplicate persona id under another file name
    shutil.copy(out / "an-xiaopeng.yaml", out / "an-xiaopeng-copy.yaml")
    return out


def test_validate_ok_on_the_real_personas() -> None:
    result = _cli("validate")
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_validate_reports_every_problem_with_file_and_line(broken: Path) -> None:
    result = _cli("validate", str(broken))
    assert result.returncode == 2
    err = result.stderr
    assert "Traceback" not in err
    assert f"{broken / 'ma-chao.yaml'}:11: broken YAML" in err
    assert f"{broken / 'du-xiawei.yaml'}:" in err and "outlet" in err and "Field required" in err
    assert "unknown source id '999'" in err
    assert "duplicate persona id 'an-xiaopeng'" in err
    # the line numbers point at the fault
    line = next(ln for ln in err.splitlines() if "'999'" in ln)
    number = int(line.split(":")[1])
    assert "source: '999'" in (broken / "du-xiawei.yaml").read_text(encoding="utf-8").splitlines()[number - 1]


def test_duplicate_entry_id_and_source_missing_from_sources_yaml(tmp_path: Path) -> None:
    out = tmp_path / "p"
    shutil.copytree(PERSONAS, out)
    text = (out / "yin-yuhui.yaml").read_text(encoding="utf-8")
    text = text.replace("yin-yuhui-002-04e88e", "yin-yuhui-002-16da28")
    (out / "yin-yuhui.yaml").write_text(text, encoding="utf-8")
    shen = (out / "shen-wei.yaml").read_text(encoding="utf-8").replace("'004'", "'044'")
    (out / "shen-wei.yaml").write_text(shen, encoding="utf-8")
    result = _cli("validate", str(out))
    assert result.returncode == 2
    assert "duplicate entry id 'yin-yuhui-002-16da28'" in result.stderr
    assert "source '044' is not in sources.yaml" in result.stderr


@pytest.mark.parametrize("command", [["ask", "开源怎么看"], ["chat"], ["experts"]])
def test_commands_refuse_to_serve_half_the_data(broken: Path, command: list[str]) -> None:
    result = _cli(*command, "--personas", str(broken), stdin="/experts\n")
    assert result.returncode == 2
    assert "broken YAML" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("setup", ["missing", "empty"])
def test_missing_or_empty_personas_directory(tmp_path: Path, setup: str) -> None:
    target = tmp_path / "nothing"
    if setup == "empty":
        target.mkdir()
    result = _cli("ask", "开源", "--personas", str(target))
    assert result.returncode == 2
    expected = "does not exist" if setup == "missing" else "no persona files"
    assert expected in result.stderr and str(target) in result.stderr


def test_ingest_check_detects_stale_personas(tmp_path: Path) -> None:
    out = tmp_path / "p"
    shutil.copytree(PERSONAS, out)
    assert _cli("ingest", "--check", "--out", str(out)).returncode == 0
    (out / "ma-chao.yaml").write_text((out / "ma-chao.yaml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    result = _cli("ingest", "--check", "--out", str(out))
    assert result.returncode == 1
    assert "ma-chao.yaml" in result.stderr
