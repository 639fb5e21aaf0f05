"""The update journal: every update fetched from Telegram, on disk until it has been answered.

Telegram forgets an update once the next getUpdates confirms it (offset past it), and PTB's own
polling confirms a whole batch as soon as it is fetched, so a SIGKILL lost everything fetched and
not yet answered. Here an update is confirmed only after it is *handled or durably queued*: each
fetched batch is appended to this journal and fsynced before the offset moves past it. Handling
an update appends `started` and `done` marks. After a restart every update without `done` is
handled again; one with `started` (a Bot API call for it had left) may have had its reply sent
just before the kill, so it is logged as a possible duplicate (the only case where a user can see
a reply twice).

The ids of recently received updates are kept too, so an update Telegram delivers again (its
confirmation never reached Telegram, or a webhook retry) is recognised and not answered twice.
Ids are compared as a set, not as a watermark: after a week without updates Telegram may restart
its numbering anywhere.

Format: one JSON object a line, `{"u": update}`, `{"s": id}`, `{"d": id}`, and a first line
`{"v": 1, "seen": [ids]}` after each compaction (a rewrite holding only what is still pending).
Marks are plain appends (an `os.write` survives the process being killed; the batch fsync that
follows makes them durable against a machine crash too).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.telegram.persistence import FILE_MODE, write_private

logger = logging.getLogger(__name__)

JOURNAL_NAME = "updates.jsonl"
_VERSION = 1
RECENT_IDS = 10_000  # received ids remembered for deduplication; far more than Telegram re-sends
COMPACT_AFTER = 5_000  # records appended before the file is rewritten with only what is pending

Raw = dict[str, Any]


@dataclass(frozen=True)
class Pending:
    """An update read back from the journal at start: not answered before the last stop."""

    raw: Raw
    started: bool  # its handling had begun: a reply may already have been sent

    @property
    def update_id(self) -> int:
        return int(self.raw["update_id"])


class Journal:
    """Append-only record of fetched and handled updates in `<data dir>/updates.jsonl` (0600)."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / JOURNAL_NAME
        self._fd: int | None = None
        self._pending: dict[int, Raw] = {}
        self._started: set[int] = set()
        self._recent: deque[int] = deque()
        self._recent_set: set[int] = set()
        self._records = 0
        self._failing: str | None = None

    # ---- start and stop ----

    def recover(self) -> list[Pending]:
        """Read the journal, compact it, open it for appending; return what is left to answer, in order.

        Raises OSError when the file cannot be written (the caller refuses to start).
        """
        skipped = self._read()
        if skipped:
            logger.warning("%s: skipped %d unreadable lines (a write cut short?)", self.path, skipped)
        left = [Pending(raw, uid in self._started) for uid, raw in self._pending.items()]
        self._compact()
        return left

    def close(self) -> None:
        """Rewrite the journal with only what is pending, and close it."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self._compact()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    # ---- what the intake calls ----

    def admit(self, raws: list[Raw]) -> list[Raw]:
        """The updates not seen before, journaled and fsynced before they are returned.

        Only after this may the offset move past them. When the disk fails they are still returned
        (the bot keeps answering) and the failure is logged: availability over the restart guarantee.
        """
        fresh: list[Raw] = []
        for raw in raws:
            uid = raw.get("update_id")
            if not isinstance(uid, int) or self._known(uid):
                continue
            self._remember(uid)
            self._pending[uid] = raw
            fresh.append(raw)
        if fresh:
            self._append([{"u": raw} for raw in fresh], sync=True)
        return fresh

    def started(self, update_id: int) -> None:
        """A Bot API call for this update is on its way: from now on a kill may repeat a reply."""
        if update_id in self._pending and update_id not in self._started:
            self._started.add(update_id)
            self._append([{"s": update_id}])

    def done(self, update_id: int) -> None:
        if self._pending.pop(update_id, None) is None:
            return
        self._started.discard(update_id)
        self._append([{"d": update_id}])
        if self._records >= COMPACT_AFTER:
            try:
                self._compact()
            except OSError as exc:
                self._failed(exc)

    # ---- the file ----

    def _read(self) -> int:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        skipped = 0
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                self._apply(record)
            except (ValueError, TypeError, KeyError):
                skipped += 1
        return skipped

    def _apply(self, record: Any) -> None:
        if not isinstance(record, dict):
            raise TypeError("not an object")
        if "u" in record:
            raw = record["u"]
            uid = raw["update_id"]
            if not isinstance(uid, int):
                raise TypeError("update_id")
            if uid not in self._recent_set:
                self._remember(uid)
            self._pending[uid] = raw
        elif "s" in record:
            if record["s"] in self._pending:
                self._started.add(int(record["s"]))
        elif "d" in record:
            self._pending.pop(record["d"], None)
            self._started.discard(record["d"])
        elif "seen" in record:
            for uid in record["seen"]:
                if isinstance(uid, int) and uid not in self._recent_set:
                    self._remember(uid)
        else:
            raise KeyError("unknown record")

    def _known(self, uid: int) -> bool:
        return uid in self._recent_set or uid in self._pending

    def _remember(self, uid: int) -> None:
        """Add a received id to the bounded window of recent ones (pending ids are known regardless)."""
        self._recent.append(uid)
        self._recent_set.add(uid)
        if len(self._recent) > RECENT_IDS:
            self._recent_set.discard(self._recent.popleft())

    def _compact(self) -> None:
        lines = [{"v": _VERSION, "seen": list(self._recent)}]
        for uid, raw in self._pending.items():
            lines.append({"u": raw})
            if uid in self._started:
                lines.append({"s": uid})
        write_private(self.path, _encode(lines))
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        self._records = len(lines)

    def _append(self, records: list[Any], *, sync: bool = False) -> None:
        if self._fd is None:
            return
        try:
            payload = _encode(records)
            written = os.write(self._fd, payload)
            if written != len(payload):  # a full disk: the line is cut; readers skip it
                raise OSError(errno.ENOSPC, "short write (disk full?)")
            if sync:
                os.fsync(self._fd)
        except OSError as exc:
            self._failed(exc)
            return
        self._records += len(records)
        if self._failing is not None:
            logger.info("%s: writing again", self.path)
            self._failing = None

    def _failed(self, exc: OSError) -> None:
        reason = exc.strerror or str(exc)
        if reason != self._failing:
            logger.error("%s: cannot write (%s); updates are still answered, but one fetched and not yet "
                         "answered at a crash would be lost", self.path, reason)
        self._failing = reason


def _encode(records: list[Any]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
                    for r in records)
