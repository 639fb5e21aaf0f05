"""Run the bot as a real subprocess against the test server, and stop it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """`python -m bot.telegram` (or any argv) with a test environment; output captured to files."""

    def __init__(self, token: str, api_base_url: str, personas: Path, data_dir: Path, *,
                 argv: Sequence[str] | None = None, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.argv = list(argv or [sys.executable, "-m", "bot.telegram"])
        self.argv += ["--api-base-url", api_base_url, "--personas", str(personas), "--data-dir", str(data_dir)]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "PERSONA_BOT_"))}
        self.env.update({"TELEGRAM_BOT_TOKEN": token, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)})
        self.env.update(env or {})
        self.cwd = cwd or data_dir.parent
        self.log_dir = data_dir.parent
        self.proc: asyncio.subprocess.Process | None = None
        self.runs = 0

    @property
    def stdout_path(self) -> Path:
        return self.log_dir / f"bot-{self.runs}.out"

    @property
    def stderr_path(self) -> Path:
        return self.log_dir / f"bot-{self.runs}.err"

    async def start(self) -> None:
        self.runs += 1
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = await asyncio.create_subprocess_exec(*self.argv, stdout=out, stderr=err, env=self.env,
                                                             cwd=self.cwd)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send sig and wait for the exit code; SIGKILL if it does not exit in time."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        assert self.proc.returncode is not None
        return self.proc.returncode

    def output(self) -> str:
        """Everything every run printed, stdout and stderr."""
        texts = []
        for run in range(1, self.runs + 1):
            for suffix in ("out", "err"):
                path = self.log_dir / f"bot-{run}.{suffix}"
                if path.exists():
                    texts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(texts)
