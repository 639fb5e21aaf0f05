"""Where the feedback store lives and whether the bot records at all: one resolution for `run`,
`review` and `stats`, so the curator's commands find the bot's store with no flags.

The database is `--feedback-db FILE`, else `$PERSONA_BOT_FEEDBACK_DB`, else `feedback.sqlite3`
in the bot's data directory (`--data-dir`, else `$PERSONA_BOT_DATA_DIR`, else `./.data`: the
same default as the Telegram bot's chat state). Environment variables may also come from `./.env`,
as for `run`. Recording is on unless `--no-log` or `PERSONA_BOT_NO_LOG=1`; retention is
`--retention-days N`, else `$PERSONA_BOT_RETENTION_DAYS`, else settings.yaml's `retention_days`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.feedback.settings import settings

# The Telegram bot's own data-directory setting and .env reader (no Telegram import behind them):
# sharing them is what makes `review` find the store of `run` with no flags.
from bot.telegram.config import DATA_DIR_ENV as DATA_DIR_ENV
from bot.telegram.config import DEFAULT_DATA_DIR, read_dotenv

DB_ENV = "PERSONA_BOT_FEEDBACK_DB"
NO_LOG_ENV = "PERSONA_BOT_NO_LOG"
RETENTION_ENV = "PERSONA_BOT_RETENTION_DAYS"
SECRET_ENV = "PERSONA_BOT_FEEDBACK_SECRET"  # optional; else a key file made once beside the database
DB_NAME = "feedback.sqlite3"
KEY_NAME = "feedback.key"
_TRUE = frozenset({"1", "true", "yes", "on"})


class FeedbackConfigError(ValueError):
    """A feedback setting that cannot be used; one line for the operator."""


@dataclass(frozen=True)
class FeedbackConfig:
    path: Path
    enabled: bool = True
    retention_days: int = 90
    secret: str | None = None  # from the environment; None = the key file beside the database
    corpus: Path | None = None  # where /review writes (None: paths.editable_corpus_dir())
    tune: Path | None = None  # the tune set /review adds negatives to (None: the checkout's, if any)

    @property
    def key_path(self) -> Path:
        return self.path.with_name(KEY_NAME)


def add_arguments(parser: argparse.ArgumentParser, *, recording: bool = False, data_dir: bool = True) -> None:
    """--feedback-db (and --data-dir unless the command has it already); `run` adds --no-log and
    --retention-days with `recording=True`."""
    if data_dir:
        parser.add_argument("--data-dir", metavar="DIR", default=None,
                            help=f"the bot's data directory (env {DATA_DIR_ENV}, default ./.data)")
    parser.add_argument("--feedback-db", metavar="FILE", type=Path, default=None,
                        help=f"the feedback database (env {DB_ENV}, default DATA_DIR/{DB_NAME})")
    if recording:
        parser.add_argument("--no-log", action="store_true",
                            help=f"record nothing users ask (env {NO_LOG_ENV}=1)")
        parser.add_argument("--retention-days", type=int, metavar="N", default=None,
                            help=f"delete recorded questions after N days (env {RETENTION_ENV}, "
                                 f"default {settings().retention_days})")
        parser.add_argument("--corpus", metavar="DIR", type=Path, default=None,
                            help="the corpus /review writes alternates and declined questions to "
                                 "(default: the project's, or the user's when installed)")
        parser.add_argument("--tune", metavar="FILE", type=Path, default=None,
                            help="the tune set /review adds declined questions to (default: the checkout's)")


def config_from(args: argparse.Namespace, environ: Mapping[str, str] | None = None,
                dotenv: Path | None = None) -> FeedbackConfig:
    """Combine argv, the environment and ./.env (the environment wins over .env, argv over both)."""
    env = {**read_dotenv(dotenv or Path.cwd() / ".env"), **(environ if environ is not None else os.environ)}
    path = getattr(args, "feedback_db", None) or env.get(DB_ENV)
    if not path:
        data_dir = getattr(args, "data_dir", None) or env.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
        path = Path(data_dir) / DB_NAME
    no_log = bool(getattr(args, "no_log", False)) or env.get(NO_LOG_ENV, "").strip().lower() in _TRUE
    days = getattr(args, "retention_days", None)
    if days is None and env.get(RETENTION_ENV, "").strip():
        raw = env[RETENTION_ENV].strip()
        if not raw.isdigit():
            raise FeedbackConfigError(f"{RETENTION_ENV} must be a whole number of days, not {raw!r}")
        days = int(raw)
    if days is None:
        days = settings().retention_days
    if days < 1:
        raise FeedbackConfigError("retention must be at least 1 day (use --no-log to record nothing)")
    return FeedbackConfig(Path(path), enabled=not no_log, retention_days=days, secret=env.get(SECRET_ENV) or None,
                          corpus=getattr(args, "corpus", None), tune=getattr(args, "tune", None))
