"""Settings, token redaction and crash-safe persistence."""

from __future__ import annotations

import argparse
import json
import logging
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from botapi.process import ROOT

from bot.telegram.app import add_run_arguments
from bot.telegram.config import ConfigError, read_dotenv, settings_from
from bot.telegram.logs import REDACTED, RedactToken
from bot.telegram.persistence import FILE_NAME, DataDirError, JsonChatPersistence, prepare_data_dir

TOKEN = "987654:SECRET-part-of-the-token-xyz"


def args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    return parser.parse_args(list(argv))


def test_dotenv_parsing(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(textwrap.dedent("""\
        # comment
        export TELEGRAM_BOT_TOKEN="1:abc"
        PERSONA_BOT_ADMINS = 5, 6  # trailing comment
        EMPTY=
        not a pair
        """), encoding="utf-8")
    assert read_dotenv(env) == {"TELEGRAM_BOT_TOKEN": "1:abc", "PERSONA_BOT_ADMINS": "5, 6", "EMPTY": ""}
    assert read_dotenv(tmp_path / "missing") == {}


def test_settings_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = "TELEGRAM_BOT_TOKEN=1:fromfile\nPERSONA_BOT_ALLOWED_CHATS=1,-100\n"
    (tmp_path / ".env").write_text(dotenv, encoding="utf-8")
    settings = settings_from(args("--api-base-url", "http://127.0.0.1:8081/"), {"TELEGRAM_BOT_TOKEN": "2:env"},
                             tmp_path / ".env")
    assert settings.token == "2:env" and settings.allowed_chats == frozenset({1, -100})
    assert settings.api_base_url == "http://127.0.0.1:8081" and settings.data_dir == Path(".data")
    env = {"TELEGRAM_BOT_TOKEN": "2:env", "TELEGRAM_API_BASE_URL": "http://h:1", "PERSONA_BOT_DATA_DIR": "/d",
           "PERSONA_BOT_ADMINS": "7"}
    settings = settings_from(args(), env, tmp_path / "none")
    assert settings.api_base_url == "http://h:1" and settings.data_dir == Path("/d") and settings.admins == {7}


def test_settings_refuse_missing_or_malformed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"TELEGRAM_BOT_TOKEN.*persona-bot chat"):
        settings_from(args(), {}, tmp_path / "none")
    with pytest.raises(ConfigError, match="does not look like"):
        settings_from(args(), {"TELEGRAM_BOT_TOKEN": "nonsense"}, tmp_path / "none")
    with pytest.raises(ConfigError, match="PERSONA_BOT_ADMINS"):
        settings_from(args(), {"TELEGRAM_BOT_TOKEN": "1:a", "PERSONA_BOT_ADMINS": "bob"}, tmp_path / "none")


def test_redaction_covers_message_args_and_traceback() -> None:
    redactor = RedactToken(TOKEN)
    try:
        raise RuntimeError(f"GET https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "url %s", (f"/bot{TOKEN}/x",), sys.exc_info())
    assert redactor.filter(record)
    text = logging.Formatter().format(record)
    assert TOKEN not in text and "SECRET-part" not in text and text.count(REDACTED) == 2


def test_logging_in_a_real_process_never_prints_the_token() -> None:
    code = textwrap.dedent(f"""
        import logging, warnings
        from bot.telegram.logs import setup_logging
        setup_logging({TOKEN!r})
        logging.getLogger("telegram.ext").error("polling %s", "https://x/bot{TOKEN}/getUpdates")
        logging.getLogger("httpx").info("HTTP Request: POST https://x/bot{TOKEN}/getMe")
        warnings.warn("see bot{TOKEN}")
        try:
            raise ValueError("{TOKEN}")
        except ValueError:
            logging.getLogger("y").exception("boom")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    output = result.stdout + result.stderr
    assert "polling" in output and "boom" in output and "ValueError" in output
    assert TOKEN not in output and "SECRET-part" not in output and "HTTP Request" not in output


async def test_persistence_round_trip_is_atomic(tmp_path: Path) -> None:
    store = JsonChatPersistence(tmp_path)
    assert await store.get_chat_data() == {}
    await store.update_chat_data(5, {"expert": "ding-lei"})
    await store.update_chat_data(-7, {"expert": "shen-xiangyang", "stash": {"k": "问题"}})
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE_NAME]  # no temp file left behind
    again = JsonChatPersistence(tmp_path)
    assert await again.get_chat_data() == {5: {"expert": "ding-lei"}, -7: {"expert": "shen-xiangyang",
                                                                             "stash": {"k": "问题"}}}
    await again.drop_chat_data(5)
    assert list(json.loads((tmp_path / FILE_NAME).read_text(encoding="utf-8"))["chat_data"]) == ["-7"]


@pytest.mark.parametrize("content", ["{not json", '{"chat_data": [1, 2]}', "", '{"version": 1}'])
async def test_corrupt_file_is_moved_aside_with_a_warning(tmp_path: Path, content: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / FILE_NAME).write_text(content, encoding="utf-8")
    store = JsonChatPersistence(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert await store.get_chat_data() == {}
    assert "corrupt" in caplog.text
    assert [p.name.startswith(f"{FILE_NAME}.corrupt-") for p in tmp_path.iterdir()] == [True]
    await store.update_chat_data(1, {"expert": "x"})
    assert (tmp_path / FILE_NAME).exists()


# ---- access settings fail closed; secrets never on argv ----

BASE = {"TELEGRAM_BOT_TOKEN": "1:abcdefgh"}


@pytest.mark.parametrize("name", ["PERSONA_BOT_ALLOWED_CHATS", "PERSONA_BOT_ADMINS"])
@pytest.mark.parametrize(("value", "says"), [
    ("", "is set but empty"), ("  ", "is set but empty"), (",", "cannot read ''"), ("1,,2", "cannot read ''"),
    ("12, bob", "cannot read 'bob'"), ("1;2", "cannot read '1;2'"), ("1.5", "cannot read '1.5'"),
    ("１２", "cannot read '１２'"),  # full-width digits: int() would take them, a typo it should not guess at
])
def test_access_settings_set_but_blank_or_unparsable_refuse_to_start(tmp_path: Path, name: str, value: str,
                                                                      says: str) -> None:
    with pytest.raises(ConfigError, match=name) as caught:
        settings_from(args(), {**BASE, name: value}, tmp_path / "none")
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_access_settings_blank_in_dotenv_refuse_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=1:abcdefgh\nPERSONA_BOT_ALLOWED_CHATS=\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="PERSONA_BOT_ALLOWED_CHATS is set but empty"):
        settings_from(args(), {}, tmp_path / ".env")


def test_effective_access_policy_in_one_line(tmp_path: Path) -> None:
    public = settings_from(args(), BASE, tmp_path / "none")
    assert public.allowed_chats is None and public.admins == frozenset()
    assert public.access_policy() == ("access public: any chat may use the bot (PERSONA_BOT_ALLOWED_CHATS is not "
                                      "set); /reload by nobody (PERSONA_BOT_ADMINS is not set)")
    private = settings_from(args(), {**BASE, "PERSONA_BOT_ALLOWED_CHATS": " -100, 7 ,5", "PERSONA_BOT_ADMINS": "7"},
                            tmp_path / "none")
    assert private.allowed_chats == frozenset({-100, 5, 7}) and private.admins == frozenset({7})
    assert private.access_policy() == ("access private: only chats -100, 5, 7 (PERSONA_BOT_ALLOWED_CHATS); "
                                       "/reload by users 7 (PERSONA_BOT_ADMINS)")


def test_webhook_secret_from_environment_or_file_never_argv(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"visible to every user in `ps`.*PERSONA_BOT_WEBHOOK_SECRET"):
        settings_from(args("--secret-token", "s3cret"), BASE, tmp_path / "none")
    env = {**BASE, "PERSONA_BOT_WEBHOOK_SECRET": "from-env_1"}
    assert settings_from(args(), env, tmp_path / "none").secret_token == "from-env_1"
    (tmp_path / "secret").write_text("from-file_2\n", encoding="utf-8")
    env = {**BASE, "PERSONA_BOT_WEBHOOK_SECRET_FILE": str(tmp_path / "secret")}
    assert settings_from(args(), env, tmp_path / "none").secret_token == "from-file_2"
    assert settings_from(args(), BASE, tmp_path / "none").secret_token is None  # a random one per run
    with pytest.raises(ConfigError, match="1-256 characters"):
        settings_from(args(), {**BASE, "PERSONA_BOT_WEBHOOK_SECRET": "has space"}, tmp_path / "none")
    with pytest.raises(ConfigError, match="cannot read PERSONA_BOT_WEBHOOK_SECRET_FILE"):
        settings_from(args(), {**BASE, "PERSONA_BOT_WEBHOOK_SECRET_FILE": str(tmp_path / "nope")}, tmp_path / "none")


def test_token_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(f"{TOKEN}\n", encoding="utf-8")
    settings = settings_from(args(), {"TELEGRAM_BOT_TOKEN_FILE": str(tmp_path / "token")}, tmp_path / "none")
    assert settings.token == TOKEN


# ---- the data directory is private ----


async def test_state_files_are_0600_in_a_0700_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / FILE_NAME).write_text('{"version": 1, "chat_data": {}}', encoding="utf-8")
    os.chmod(data / FILE_NAME, 0o644)  # written by an older version
    prepare_data_dir(data)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / FILE_NAME).stat().st_mode) == 0o600
    store = JsonChatPersistence(data)
    await store.update_chat_data(5, {"expert": "ding-lei"})
    assert stat.S_IMODE((data / FILE_NAME).stat().st_mode) == 0o600
    fresh = tmp_path / "a" / "b"
    prepare_data_dir(fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    assert list(fresh.iterdir()) == []  # the write probe is gone


def test_an_unusable_data_directory_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(DataDirError, match=r"^cannot write to data directory .*file/data: Not a directory$"):
        prepare_data_dir(tmp_path / "file" / "data")
    with pytest.raises(DataDirError, match="is not a directory"):
        prepare_data_dir(tmp_path / "file")


async def test_a_failing_disk_is_one_warning_and_the_state_stays_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = JsonChatPersistence(tmp_path)
    await store.update_chat_data(1, {"expert": "a"})

    def full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bot.telegram.persistence.write_private", full)
    with caplog.at_level(logging.WARNING):
        await store.update_chat_data(2, {"expert": "b"})
        await store.update_chat_data(3, {"expert": "c"})
    assert [r.getMessage() for r in caplog.records if "cannot save" in r.getMessage()] == [
        f"cannot save chat state to {tmp_path / FILE_NAME} (No space left on device); kept in memory, "
        "saved again on the next change"]
    assert all(r.exc_info is None for r in caplog.records)
    assert (await store.get_chat_data())[3] == {"expert": "c"}
    monkeypatch.undo()
    await store.update_chat_data(4, {"expert": "d"})
    assert set(json.loads((tmp_path / FILE_NAME).read_text(encoding="utf-8"))["chat_data"]) == {"1", "2", "3", "4"}
