"""The feedback store: schema migrations, what is stored of a question (masked, no ids), verdicts,
retention, and the recorder's promise that a database fault never touches answering."""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.conversation import AnswerReply, ChatState, Conversation, Privacy
from bot.feedback import config as fconfig
from bot.feedback.config import FeedbackConfig, config_from
from bot.feedback.mask import language, mask
from bot.feedback.recorder import Recorder
from bot.feedback.store import MIGRATIONS, Asked, Candidate, FeedbackStore, NewerSchema, connect, migrate
from bot.matching import Engine

ASKED = "开源怎么看"  # answered by the tiny personas when put to 丁磊
OFF_TOPIC = "红烧肉怎么做才好吃"


@pytest.fixture(scope="module")
def engine(tiny_personas_dir: Path) -> Engine:
    return Engine.load(tiny_personas_dir)


def _recorder(path: Path) -> Recorder:
    return Recorder(FeedbackConfig(path), via="test")


def _rows(path: Path, sql: str = "SELECT text FROM questions ORDER BY id") -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def _feedback_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("bot.feedback") and r.levelno >= logging.WARNING]


# ---- what is stored ----


@pytest.mark.parametrize(("text", "stored"), [
    ("我的电话是13800138000，回我", "我的电话是[phone]，回我"),
    ("call +86 138-0013-8000 please", "call [phone] please"),
    ("(010) 6512 3456 是座机", "[phone] 是座机"),
    ("电话１３８００１３８０００", "电话[phone]"),
    ("mail me: wang.lei+ai@example.com.cn", "mail me: [email]"),
    ("2023-2024年大模型怎么样", "2023-2024年大模型怎么样"),  # years and dates are not numbers to hide
    ("2023-07-26那次访谈", "2023-07-26那次访谈"),
    ("GPT-4和GPT-3.5差在哪，参数1000亿够吗", "GPT-4和GPT-3.5差在哪，参数1000亿够吗"),
])
def test_contact_details_are_masked(text: str, stored: str) -> None:
    assert mask(text) == stored


def test_language() -> None:
    assert [language(t) for t in ["開源大模型怎麼看", "开源大模型怎么看", "Will AI take my job?", "？！"]] == [
        "zh-Hant", "zh-Hans", "en", "other"]


def test_a_question_is_stored_masked_with_its_answer_and_no_ids(tmp_path: Path, engine: Engine) -> None:
    db = tmp_path / "feedback.sqlite3"
    recorder = _recorder(db)
    conv = Conversation(engine, recorder=recorder)
    reply = conv.handle(f"{ASKED} 我电话13800138000 邮箱 a@b.com", ChatState())
    assert isinstance(reply, AnswerReply) and not reply.answer.matches and reply.record
    assert recorder.verdict(reply.record, False, chat_id=-1009876543210, message_id=4242424, user_id=777000111)
    assert recorder.flush()
    with FeedbackStore.open(db) as store:
        [q] = store.questions()
    assert q.text == f"{ASKED} 我电话[phone] 邮箱 [email]" and q.language == "zh-Hans"
    assert not q.answered and q.expert is None and q.via == "test" and q.thumbs_down == 1
    assert q.candidates == ()  # nothing was offered (review looks up near misses with the engine of its day)
    answered = conv.handle(ASKED, ChatState(expert_id="ding-lei"))
    assert isinstance(answered, AnswerReply) and answered.answer.matches
    assert recorder.flush()
    with FeedbackStore.open(db) as store:
        q = store.questions()[-1]
    assert q.answered and q.expert == "ding-lei" and q.top_probability is not None
    assert [c.entry_id for c in q.candidates] == [m.entry.id for m in answered.answer.matches]
    assert all(c.shown for c in q.candidates)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (b"13800138000", b"a@b.com", b"9876543210", b"4242424", b"777000111"):
        assert secret not in raw  # neither the number nor any id, anywhere in the directory
    for made in tmp_path.iterdir():  # the database, its -wal and -shm, the key
        assert oct(made.stat().st_mode & 0o777) == "0o600", made
    recorder.close()


def test_one_verdict_per_person_per_message_and_a_second_tap_changes_it(tmp_path: Path) -> None:
    recorder = _recorder(tmp_path / "f.sqlite3")
    with FeedbackStore.open(tmp_path / "f.sqlite3") as store:
        store.add(Asked("ref1", "问题", None, True, (Candidate("e-1", "p", 0.9),)))
    recorder.verdict("ref1", True, chat_id=-100, message_id=5, user_id=1)
    recorder.verdict("ref1", False, chat_id=-100, message_id=5, user_id=1)  # changed their mind
    recorder.verdict("ref1", True, chat_id=-100, message_id=5, user_id=2)   # another group member
    recorder.verdict("nope", True, chat_id=-100, message_id=5, user_id=3)   # not recorded: ignored
    assert recorder.flush()
    with FeedbackStore.open(tmp_path / "f.sqlite3") as store:
        [q] = store.questions()
    assert (q.thumbs_up, q.thumbs_down) == (1, 1)
    assert recorder.verdict_key(1, 2, 3) == recorder.verdict_key(1, 2, 3) != recorder.verdict_key(1, 2, 4)
    other = Recorder(FeedbackConfig(tmp_path / "other" / "f.sqlite3"))
    assert other.verdict_key(1, 2, 3) != recorder.verdict_key(1, 2, 3)  # a secret per deployment
    recorder.close()


def test_retention_deletes_old_questions_with_their_verdicts(tmp_path: Path) -> None:
    now = time.time()
    with FeedbackStore.open(tmp_path / "f.sqlite3") as store:
        store.add(Asked("old", "旧问题", None, False, asked_at=now - 31 * 86400))
        store.add(Asked("new", "新问题", None, False, asked_at=now - 29 * 86400))
        store.set_verdict("old", "k", False)
        assert store.prune(30, now) == 1
        assert [q.ref for q in store.questions()] == ["new"]
        assert store.conn.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] == 0


def test_no_log_records_nothing_and_privacy_says_so(tmp_path: Path, engine: Engine,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = config_from(argparse.Namespace(data_dir=str(tmp_path), no_log=False), {fconfig.NO_LOG_ENV: "1"})
    assert not cfg.enabled
    conv = Conversation(engine, recorder=Recorder(cfg))
    reply = conv.handle(ASKED, _ding())
    assert isinstance(reply, AnswerReply) and reply.record is None
    assert not (tmp_path / "feedback.sqlite3").exists()
    privacy = conv.handle("/privacy", ChatState())
    assert isinstance(privacy, Privacy) and "不记录" in privacy.text
    on = Conversation(engine, recorder=_recorder(tmp_path / "f.sqlite3")).handle("/privacy", ChatState())
    assert isinstance(on, Privacy) and "90 天" in on.text and "用户 ID" in on.text and "遮盖" in on.text


def test_the_store_is_found_like_the_bot_finds_its_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.telegram import config as tconfig

    monkeypatch.chdir(tmp_path)
    assert fconfig.DATA_DIR_ENV == tconfig.DATA_DIR_ENV
    empty = argparse.Namespace()
    assert config_from(empty, {}).path == Path(".data") / "feedback.sqlite3"
    assert config_from(empty, {"PERSONA_BOT_DATA_DIR": "/srv/bot"}).path == Path("/srv/bot/feedback.sqlite3")
    (tmp_path / ".env").write_text("PERSONA_BOT_DATA_DIR=/from/dotenv\n")
    assert config_from(empty, {}).path == Path("/from/dotenv/feedback.sqlite3")
    assert config_from(argparse.Namespace(data_dir="d"), {}).path == Path("d/feedback.sqlite3")
    assert config_from(argparse.Namespace(feedback_db=Path("x.db")), {fconfig.DB_ENV: "y.db"}).path == Path("x.db")
    assert config_from(empty, {fconfig.RETENTION_ENV: "7"}).retention_days == 7
    with pytest.raises(fconfig.FeedbackConfigError):
        config_from(empty, {fconfig.RETENTION_ENV: "a week"})


# ---- migrations ----


def test_migrations_upgrade_an_old_file_in_place_and_refuse_a_newer_one(tmp_path: Path) -> None:
    db = tmp_path / "f.sqlite3"
    with FeedbackStore.open(db) as store:
        store.add(Asked("r", "问题", None, False))
    later = (*MIGRATIONS, "ALTER TABLE questions ADD COLUMN channel_kind TEXT;")
    conn = connect(db)
    assert migrate(conn, later) == len(MIGRATIONS) + 1
    assert migrate(conn, later) == len(MIGRATIONS) + 1  # idempotent
    assert conn.execute("SELECT text, channel_kind FROM questions").fetchall() == [("问题", None)]
    conn.close()
    with pytest.raises(NewerSchema):  # this persona-bot does not know version 2: hands off
        FeedbackStore.open(db)


# ---- faults: answering goes on, nothing crashes, one log line ----


def _ding() -> ChatState:
    return ChatState(expert_id="ding-lei")


def _ask_many(conv: Conversation, n: int = 3) -> None:
    for _ in range(n):
        reply = conv.handle(ASKED, _ding())
        assert isinstance(reply, AnswerReply) and reply.answer.matches
        reply = conv.handle(OFF_TOPIC, ChatState())
        assert isinstance(reply, AnswerReply)


def test_read_only_database(tmp_path: Path, engine: Engine, caplog: pytest.LogCaptureFixture,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "f.sqlite3"
    FeedbackStore.open(db).close()
    if os.getuid() == 0:  # root writes through chmod: open the file read-only as the OS would make it
        from bot.feedback import store as store_module

        monkeypatch.setattr(store_module, "connect", lambda path, busy_timeout_ms=3000: _read_only(path))
    else:
        db.chmod(0o444)
    recorder = _recorder(db)
    conv = Conversation(engine, recorder=recorder)
    _ask_many(conv)
    assert recorder.flush()
    warnings = _feedback_warnings(caplog)
    assert len(warnings) == 1 and "cannot write" in warnings[0], warnings
    recorder.close()


def _read_only(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def test_database_locked_by_another_process(tmp_path: Path, engine: Engine,
                                             caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "f.sqlite3"
    FeedbackStore.open(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
         "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(30)", str(db)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        recorder = Recorder(FeedbackConfig(db), via="test", tuning=_fast_busy())
        conv = Conversation(engine, recorder=recorder)
        started = time.perf_counter()
        _ask_many(conv)
        assert time.perf_counter() - started < 2.0  # answering never waited for the lock
        assert recorder.flush(30)
        warnings = _feedback_warnings(caplog)
        assert len(warnings) == 1 and "locked" in warnings[0], warnings
    finally:
        holder.kill()
        holder.wait()
    conv.handle(ASKED, _ding())  # the lock is gone: recording works again
    assert recorder.flush()
    assert _rows(db) == [(ASKED,)]
    recorder.close()


def _fast_busy() -> object:
    from dataclasses import replace

    from bot.feedback.settings import settings

    return replace(settings(), busy_timeout_ms=100)


def test_database_deleted_while_the_bot_runs(tmp_path: Path, engine: Engine,
                                             caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "f.sqlite3"
    recorder = _recorder(db)
    conv = Conversation(engine, recorder=recorder)
    conv.handle(ASKED, _ding())
    assert recorder.flush() and db.exists()
    for p in tmp_path.glob("f.sqlite3*"):
        p.unlink()
    _ask_many(conv, 2)
    assert recorder.flush()
    assert len(_rows(db)) == 4  # a new database, with everything asked after the deletion
    warnings = _feedback_warnings(caplog)
    assert len(warnings) == 1 and "deleted" in warnings[0], warnings
    recorder.close()


def test_corrupt_database_is_moved_aside(tmp_path: Path, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "f.sqlite3"
    db.write_bytes(b"this is not a database at all " * 200)
    recorder = _recorder(db)
    conv = Conversation(engine, recorder=recorder)
    _ask_many(conv)
    assert recorder.flush()
    assert len(_rows(db)) == 6
    aside = list(tmp_path.glob("f.sqlite3.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
    warnings = _feedback_warnings(caplog)
    assert len(warnings) == 1 and "corrupt" in warnings[0], warnings
    recorder.close()


def test_database_corrupted_while_the_bot_runs(tmp_path: Path, engine: Engine,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """Damage under an open WAL connection may go unseen (SQLite keeps its pages, and a checkpoint
    may even write the damaged pages back whole); either way answering goes on, and the next start
    records again, into the repaired file or a new one with the damaged one moved aside."""
    db = tmp_path / "f.sqlite3"
    recorder = _recorder(db)
    conv = Conversation(engine, recorder=recorder)
    conv.handle(ASKED, _ding())
    assert recorder.flush()
    with open(db, "r+b") as f:  # overwrite the header and the first pages in place
        f.write(b"\xff" * 8192)
    _ask_many(conv, 2)
    assert recorder.flush()
    recorder.close()
    assert len(_feedback_warnings(caplog)) <= 1
    caplog.clear()
    restarted = _recorder(db)
    _ask_many(Conversation(engine, recorder=restarted), 1)
    assert restarted.flush()
    aside = list(tmp_path.glob("f.sqlite3.corrupt-*"))
    assert len(_rows(db)) == (2 if aside else 7)
    assert len(_feedback_warnings(caplog)) == len(aside) <= 1
    restarted.close()


def test_a_broken_recorder_never_breaks_an_answer(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Recorder):
        def record(self, *args: object, **kwargs: object) -> str | None:
            raise RuntimeError("bug")

    conv = Conversation(engine, recorder=Broken(FeedbackConfig(Path("/nonexistent/f.sqlite3"))))
    for _ in range(3):
        reply = conv.handle(ASKED, _ding())
        assert isinstance(reply, AnswerReply) and reply.answer.matches and reply.record is None
    assert sum("recording a question failed" in r.getMessage() for r in caplog.records) == 1


def test_unwritable_directory(engine: Engine, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    recorder = _recorder(blocker / "sub" / "f.sqlite3")  # a path under a regular file can never be created
    conv = Conversation(engine, recorder=recorder)
    _ask_many(conv)
    assert recorder.flush()
    assert len(_feedback_warnings(caplog)) == 1
    recorder.close()
