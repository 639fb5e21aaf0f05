"""Settings, token redaction and crash-safe persistence."""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from botapi.process import ROOT

from bot.telegram.app import add_run_arguments
from bot.telegram.config import ConfigError, read_dotenv, settings_from
from bot.telegram.logs import REDACTED, RedactToken
from bot.telegram.persistence import FILE_NAME, JsonChatPersistence

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
