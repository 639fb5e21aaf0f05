"""The image's HEALTHCHECK: healthy once the bot is past start-up and still running.

`persona-bot run` rewrites its journal (`updates.jsonl` in the data directory) at start, only after
the personas loaded and the data directory proved writable, and it exits (code 2) on a bad token or
bad data. So: healthy = the serving process (PID 1 in the container) is alive, neither a zombie nor
stopped, and the journal was written since that process started (a journal left in the volume by
an earlier run does not count). It reads three small files and imports nothing of the bot.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def started_at(pid: int) -> tuple[str, float]:
    """The process's state letter and its start time (seconds since the epoch), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("btime "))
    return fields[0], boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def check(pid: int, data_dir: Path) -> str | None:
    """None when healthy, else why not."""
    try:
        state, start = started_at(pid)
    except (OSError, IndexError, ValueError, StopIteration):
        return f"process {pid} is gone"
    if state in {"Z", "X", "x", "T", "t"}:
        return f"process {pid} is not running (state {state})"
    try:
        written = (data_dir / "updates.jsonl").stat().st_mtime
    except OSError:
        return f"not serving yet: no journal in {data_dir}"
    if written < start - 1:  # /proc/stat's boot time is whole seconds
        return f"not serving yet: the journal in {data_dir} is from an earlier run"
    return None


def main() -> int:
    pid = int(os.environ.get("PERSONA_BOT_HEALTH_PID", "1"))
    data_dir = Path(os.environ.get("PERSONA_BOT_DATA_DIR", ".data"))
    problem = check(pid, data_dir)
    print(f"unhealthy: {problem}" if problem else "healthy", file=sys.stderr if problem else sys.stdout)
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main())
