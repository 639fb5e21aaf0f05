"""Persona files that once crashed every command: each is now `FILE:LINE: what`, exit 2, and /reload answers.

An entry id that is a list or a mapping (TypeError: unhashable), 5,000 nested brackets
(RecursionError), a 40 MB file (accepted, then 48 s per question), bytes that are not UTF-8
(reported at line 1), and an alias chain that expands to a billion values. Through the CLI
(`validate`, `ask`), `run` (one line) and an admin's /reload over the test server, where the old
data keeps serving.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from botapi import BotApiServer
from botapi.harness import InProcessBot
from botapi.personas import write_personas
from botapi.process import ROOT

from bot.cli import main
from bot.matching import Engine

ADMIN = 8101
TOKEN = "505050:PERSONAS-secret-token-0123456789abcdef"


@dataclass(frozen=True)
class Case:
    """Breaks one file of a valid personas directory; `file` and `line` are where the report must point."""

    file: str
    line: int
    says: str
    make: Callable[[Path], None]


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def _huge(path: Path) -> None:
    entry = "  - {id: big-%d, question: 问题, answer: '%s', topics: [t], source: s, position: 1}\n"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id: big\nname: 大\nname_simplified: 大\npinyin: Da\nsources: []\ntopics:\n  t:\n")
        i = 0
        while fh.tell() < 40 * 2**20:
            fh.write(entry % (i, "很长的回答。" * 200))
            i += 1


def _nested(path: Path) -> None:
    path.write_text("id: nested\nname: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")


def _not_utf8(path: Path) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[6] += " 张亚勤".encode("gbk")  # line 7, saved by an editor in GBK
    path.write_bytes(b"\n".join(lines))


def _alias_bomb(path: Path) -> None:
    lines = ["id: lol", "name: x", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


CASES = {
    "entry-id-is-a-list": Case("ding-lei.yaml", 0, "topics.open-source.1.id: Input should be a valid string",
                               lambda d: _replace(d / "ding-lei.yaml", "- id: dl-002", "- id: [a, b]")),
    "entry-id-is-a-mapping": Case("ding-lei.yaml", 0, "topics.open-source.1.id: Input should be a valid string",
                                  lambda d: _replace(d / "ding-lei.yaml", "- id: dl-002", "- id: {x: 1}")),
    "5000-nested-brackets": Case("nested.yaml", 2, "nested deeper than 12 levels", lambda d: _nested(d / "nested.yaml")),
    "40-mb-file": Case("big.yaml", 1, "file is 40.0 MB, over the 4 MB limit for one persona file",
                       lambda d: _huge(d / "big.yaml")),
    "not-utf-8": Case("zhang-yaqin.yaml", 7, "not UTF-8: byte 0x", lambda d: _not_utf8(d / "zhang-yaqin.yaml")),
    "alias-bomb": Case("lol.yaml", 0, "more than 500,000 values once aliases are expanded", lambda d: _alias_bomb(d / "lol.yaml")),
}


# `run` formats the first problem the same way whatever it is; two cases show it (a process each).
RUN_TOO = {"entry-id-is-a-list", "5000-nested-brackets"}


def broken_dir(tmp_path: Path, name: str) -> tuple[Path, str]:
    """A valid personas directory with one case applied; returns it and the `FILE:LINE: what` expected."""
    case = CASES[name]
    directory = write_personas(tmp_path / name)
    case.make(directory)
    path = directory / case.file
    line = case.line or _line_of(path, {"entry-id-is-a-list": "id: [a, b]", "entry-id-is-a-mapping": "id: {x: 1}",
                                        "alias-bomb": "a5:"}[name])
    return directory, f"{path}:{line}: {case.says}"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env={**base, **(env or {})})


@pytest.mark.parametrize("name", list(CASES))
def test_validate_and_run_report_file_line_and_exit_2(tmp_path: Path, name: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    directory, expected = broken_dir(tmp_path, name)
    assert main(["validate", str(directory)]) == 2
    err = capsys.readouterr().err
    assert any(line.startswith(expected) for line in err.splitlines()), (expected, err)
    if name not in RUN_TOO:
        return
    run = cli("run", "--personas", str(directory), "--api-base-url", "http://127.0.0.1:9", "--data-dir",
              str(tmp_path / "data"), env={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert run.returncode == 2
    [line] = run.stderr.strip().splitlines()
    assert line.startswith(f"persona-bot: cannot load personas: {expected}"), line


def test_a_40_mb_file_is_refused_before_ask_spends_a_minute_on_it(tmp_path: Path) -> None:
    directory, expected = broken_dir(tmp_path, "40-mb-file")
    ask = cli("ask", "开源怎么看", "--personas", str(directory))
    assert ask.returncode == 2 and ask.stdout == "" and "Traceback" not in ask.stderr
    assert ask.stderr.splitlines()[0] == expected


# ---- /reload always answers the admin ----


@pytest_asyncio.fixture
async def admin_bot(tmp_path: Path) -> AsyncIterator[InProcessBot]:
    live = write_personas(tmp_path / "live")
    async with BotApiServer(TOKEN) as server:
        server.private_chat(ADMIN, "Admin")
        bot = InProcessBot(server, Engine.load(live), live, tmp_path / "data", admins=frozenset({ADMIN}))
        await bot.start()
        try:
            yield bot
        finally:
            await bot.stop()


async def say(bot: InProcessBot, text: str) -> str:
    mark = bot.server.mark()
    await bot.server.send_text(ADMIN, text)
    await bot.pump()
    return "\n".join(m.text for m in bot.server.messages(ADMIN, mark))


async def test_reload_answers_every_broken_case_and_keeps_serving_the_old_data(
    admin_bot: InProcessBot, tmp_path: Path
) -> None:
    live = admin_bot.settings.personas_dir
    assert live is not None
    assert "已重新加载：3 位专家，9 条回答。" in await say(admin_bot, "/reload")
    originals = {p.name: p.read_bytes() for p in live.iterdir()}
    for name in CASES:
        directory, expected = broken_dir(tmp_path / "cases", name)
        for path in directory.iterdir():  # the live directory becomes the broken one
            (live / path.name).write_bytes(path.read_bytes())
        report = await say(admin_bot, "/reload")
        assert report.startswith("重新加载失败，继续使用原来的数据："), (name, report)
        assert expected.replace(str(directory), str(live)) in report, (name, report)
        assert "监管要跟上技术的发展" in await say(admin_bot, "/ask 丁磊 人工智能需要监管吗")  # the old data serves
        for path in live.iterdir():
            if path.name in originals:
                path.write_bytes(originals[path.name])
            else:
                path.unlink()


async def test_reload_answers_even_when_loading_fails_unexpectedly(
    admin_bot: InProcessBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*_: object) -> Engine:
        raise RuntimeError("index exploded")

    monkeypatch.setattr(Engine, "load", bug)
    report = await say(admin_bot, "/reload")
    assert report == "重新加载失败，继续使用原来的数据：\nRuntimeError: index exploded"
    assert "监管要跟上技术的发展" in await say(admin_bot, "/ask 丁磊 人工智能需要监管吗")
