"""The feedback store: one SQLite file (standard library `sqlite3`, WAL) of what users asked.

Per asked question it keeps the text (contact details masked, `mask.py`), its language, the
expert it was put to, whether an answer was given, the entries the bot offered with their model
probabilities, and the 👍/👎 verdicts, each with a timestamp. No user id, no name, no chat id:
a verdict is stored under a keyed hash of (chat, message, user) made with a per-deployment secret
(`recorder.py`), so a second tap replaces the first and nobody can be looked up.

WAL lets `persona-bot review` and `stats` read (and mark groups reviewed) beside a running bot.
The schema is versioned with `PRAGMA user_version`: `MIGRATIONS[i]` takes a database from
version i to i + 1, each in one transaction, so an older file is upgraded in place and a file
written by a newer persona-bot is refused (`NewerSchema`) rather than damaged.

Every method runs on the thread that opened the store; the bot writes from one background thread
(`Recorder`), the curator's commands from the main thread of their own process.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.feedback.mask import language, mask

MIGRATIONS: tuple[str, ...] = (
    # 1: questions, the entries offered, verdicts, review decisions.
    """
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        ref TEXT NOT NULL UNIQUE,          -- random; what a 👍/👎 button carries
        asked_at REAL NOT NULL,            -- unix time, UTC
        text TEXT NOT NULL,                -- as asked, phone numbers and e-mail addresses masked
        language TEXT NOT NULL,            -- zh-Hans, zh-Hant, en, other
        expert TEXT,                       -- persona id the question was put to; NULL = everyone
        answered INTEGER NOT NULL,         -- 1 when an answer was given
        via TEXT NOT NULL                  -- the front end: telegram, chat
    );
    CREATE INDEX questions_asked_at ON questions (asked_at);
    CREATE TABLE candidates (
        question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
        rank INTEGER NOT NULL,             -- 0 = best
        entry_id TEXT NOT NULL,
        persona_id TEXT NOT NULL,
        topic TEXT,                        -- the entry's first topic
        probability REAL NOT NULL,         -- the model's P(right answer)
        shown INTEGER NOT NULL,            -- 1 when given as an answer, 0 for a near miss
        PRIMARY KEY (question_id, rank)
    );
    CREATE TABLE verdicts (
        key TEXT PRIMARY KEY,              -- keyed hash of chat, message and user: never the ids
        question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
        good INTEGER NOT NULL,             -- 1 = 👍, 0 = 👎
        at REAL NOT NULL
    );
    CREATE INDEX verdicts_question ON verdicts (question_id);
    CREATE TABLE reviews (
        question_id INTEGER PRIMARY KEY REFERENCES questions (id) ON DELETE CASCADE,
        action TEXT NOT NULL CHECK (action IN ('attached', 'declined')),
        entry_id TEXT,                     -- the entry it was attached to
        at REAL NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
FILE_MODE = 0o600  # what users asked is nobody else's business
DAY = 86400.0


class NewerSchema(sqlite3.DatabaseError):
    """The file was written by a newer persona-bot: read nothing, write nothing."""


@dataclass(frozen=True)
class Candidate:
    """An entry the bot offered (or nearly offered) for a question."""

    entry_id: str
    persona_id: str
    probability: float
    topic: str | None = None
    shown: bool = True


@dataclass(frozen=True)
class Asked:
    """One asked question as the front end saw it; masked and classified when stored."""

    ref: str
    text: str
    expert: str | None
    answered: bool
    candidates: tuple[Candidate, ...] = ()
    via: str = "telegram"
    asked_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Stored:
    """A question as read back from the store."""

    id: int
    ref: str
    asked_at: float
    text: str
    language: str
    expert: str | None
    answered: bool
    via: str
    candidates: tuple[Candidate, ...]
    thumbs_up: int
    thumbs_down: int
    reviewed: str | None  # 'attached', 'declined' or None

    @property
    def top_probability(self) -> float | None:
        shown = [c.probability for c in self.candidates if c.shown]
        return max(shown) if shown else None


def connect(path: Path, busy_timeout_ms: int = 3000) -> sqlite3.Connection:
    """A connection in WAL mode with foreign keys on (not yet migrated: see `FeedbackStore.open`)."""
    conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection, migrations: Sequence[str] = MIGRATIONS) -> int:
    """Bring the database to the newest version, one transaction per step; returns the version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > len(migrations):
        raise NewerSchema(f"schema version {version} is newer than this persona-bot's {len(migrations)}")
    for number in range(version, len(migrations)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if int(conn.execute("PRAGMA user_version").fetchone()[0]) == number:  # another process won
                for statement in _statements(migrations[number]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return len(migrations)


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our open transaction)."""
    out: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line.split("--", 1)[0].rstrip() + "\n" if "--" in line else line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


class FeedbackStore:
    """Synchronous access to one feedback database; `Recorder` wraps it for the bot."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path, busy_timeout_ms: int = 3000, create: bool = True) -> FeedbackStore:
        """Open (creating the file and its directory when `create`) and migrate; raises sqlite3 errors."""
        if not create and not path.exists():
            raise FileNotFoundError(f"no feedback database at {path}")
        if create:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Made 0600 before SQLite opens it: its -wal and -shm files copy the database's mode.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE))
        conn = connect(path, busy_timeout_ms)
        try:
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---- writing ----

    def add(self, asked: Asked) -> int:
        """Store one question (masked) with its candidates; returns its row id."""
        with _transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO questions (ref, asked_at, text, language, expert, answered, via) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (asked.ref, asked.asked_at, mask(asked.text), language(asked.text), asked.expert,
                 int(asked.answered), asked.via))
            question_id = int(cur.lastrowid or 0)
            self.conn.executemany(
                "INSERT INTO candidates (question_id, rank, entry_id, persona_id, topic, probability, shown) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(question_id, rank, c.entry_id, c.persona_id, c.topic, float(c.probability), int(c.shown))
                 for rank, c in enumerate(asked.candidates)])
        return question_id

    def set_verdict(self, ref: str, key: str, good: bool, at: float | None = None) -> bool:
        """One verdict per key (person and message): a second call replaces it. False when the
        question is not stored (recording was off or failed then, or it has expired)."""
        with _transaction(self.conn):
            row = self.conn.execute("SELECT id FROM questions WHERE ref = ?", (ref,)).fetchone()
            if row is None:
                return False
            self.conn.execute(
                "INSERT INTO verdicts (key, question_id, good, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET question_id = excluded.question_id, good = excluded.good, "
                "at = excluded.at",
                (key, int(row[0]), int(good), time.time() if at is None else at))
        return True

    def mark_reviewed(self, question_ids: Iterable[int], action: str, entry_id: str | None = None) -> None:
        """Take questions out of the review queue: attached to an entry, or declined."""
        now = time.time()
        with _transaction(self.conn):
            self.conn.executemany(
                "INSERT INTO reviews (question_id, action, entry_id, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (question_id) DO UPDATE SET action = excluded.action, "
                "entry_id = excluded.entry_id, at = excluded.at",
                [(int(q), action, entry_id, now) for q in question_ids])

    def prune(self, retention_days: float, now: float | None = None) -> int:
        """Delete questions older than the retention (their candidates and verdicts go with them)."""
        cutoff = (time.time() if now is None else now) - retention_days * DAY
        with _transaction(self.conn):
            cur = self.conn.execute("DELETE FROM questions WHERE asked_at < ?", (cutoff,))
        return cur.rowcount

    # ---- reading ----

    def questions(self, since: float | None = None, until: float | None = None,
                  include_reviewed: bool = True) -> list[Stored]:
        """Questions asked in [since, until), oldest first, with candidates, verdict counts, review."""
        where, params = ["1 = 1"], []
        if since is not None:
            where.append("q.asked_at >= ?")
            params.append(since)
        if until is not None:
            where.append("q.asked_at < ?")
            params.append(until)
        if not include_reviewed:
            where.append("r.question_id IS NULL")
        rows = self.conn.execute(
            "SELECT q.id, q.ref, q.asked_at, q.text, q.language, q.expert, q.answered, q.via, r.action, "
            "(SELECT COUNT(*) FROM verdicts v WHERE v.question_id = q.id AND v.good = 1), "
            "(SELECT COUNT(*) FROM verdicts v WHERE v.question_id = q.id AND v.good = 0) "
            "FROM questions q LEFT JOIN reviews r ON r.question_id = q.id "
            f"WHERE {' AND '.join(where)} ORDER BY q.asked_at, q.id", params).fetchall()
        if not rows:
            return []
        candidates: dict[int, list[Candidate]] = {}
        ids = [int(r[0]) for r in rows]
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            marks = ",".join("?" * len(part))
            for qid, entry_id, persona_id, topic, probability, shown in self.conn.execute(
                    "SELECT question_id, entry_id, persona_id, topic, probability, shown FROM candidates "
                    f"WHERE question_id IN ({marks}) ORDER BY question_id, rank", part):
                candidates.setdefault(int(qid), []).append(
                    Candidate(entry_id, persona_id, float(probability), topic, bool(shown)))
        return [
            Stored(int(r[0]), r[1], float(r[2]), r[3], r[4], r[5], bool(r[6]), r[7],
                   tuple(candidates.get(int(r[0]), ())), int(r[9]), int(r[10]), r[8])
            for r in rows
        ]


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): the connection runs in autocommit mode."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_rest: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
