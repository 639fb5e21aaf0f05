"""Run settings from command-line arguments, the environment and a `.env` file.

The token only ever comes from the environment or `.env` (never argv, where `ps` would show it).
Environment variables win over `.env`, so a deployment can override a developer's file.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
API_BASE_ENV = "TELEGRAM_API_BASE_URL"
DATA_DIR_ENV = "PERSONA_BOT_DATA_DIR"
ALLOWED_CHATS_ENV = "PERSONA_BOT_ALLOWED_CHATS"
ADMINS_ENV = "PERSONA_BOT_ADMINS"
DEFAULT_DATA_DIR = Path(".data")


class ConfigError(ValueError):
    """A setting the bot cannot start with; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    token: str
    personas_dir: Path | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    api_base_url: str | None = None
    webhook_url: str | None = None
    listen: str = "127.0.0.1"
    port: int = 8443
    secret_token: str | None = None
    poll_timeout: float = 10.0
    allowed_chats: frozenset[int] | None = None  # None = every chat
    admins: frozenset[int] = field(default_factory=frozenset)


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (optional `export`, quotes, # comments); a missing file is empty."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    values: dict[str, str] = {}
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if key:
            values[key] = value
    return values


def _ids(raw: str | None, name: str) -> frozenset[int] | None:
    if raw is None or not raw.strip():
        return None
    try:
        return frozenset(int(part) for part in raw.replace(" ", "").split(",") if part)
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated numeric ids, got {raw!r}") from None


def settings_from(args: argparse.Namespace, environ: Mapping[str, str] | None = None,
                  dotenv: Path | None = None) -> Settings:
    """Combine argv, the environment and ./.env; raise ConfigError for anything unusable."""
    env = {**read_dotenv(dotenv or Path.cwd() / ".env"), **(environ if environ is not None else os.environ)}
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(
            f"no bot token: set {TOKEN_ENV} in the environment or in a .env file "
            f"({TOKEN_ENV}=123456:ABC...); `persona-bot chat` works without one"
        )
    if ":" not in token or not token.split(":", 1)[0].isdigit():
        raise ConfigError(f"{TOKEN_ENV} does not look like a bot token (expected <digits>:<secret> from @BotFather)")
    base = getattr(args, "api_base_url", None) or env.get(API_BASE_ENV) or None
    data_dir = getattr(args, "data_dir", None) or env.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    personas = getattr(args, "personas", None)
    return Settings(
        token=token,
        personas_dir=Path(personas) if personas else None,
        data_dir=Path(data_dir),
        api_base_url=base.rstrip("/") if base else None,
        webhook_url=getattr(args, "webhook_url", None),
        listen=getattr(args, "listen", None) or "127.0.0.1",
        port=int(getattr(args, "port", None) or 8443),
        secret_token=getattr(args, "secret_token", None),
        poll_timeout=float(getattr(args, "poll_timeout", None) or 10.0),
        allowed_chats=_ids(env.get(ALLOWED_CHATS_ENV), ALLOWED_CHATS_ENV),
        admins=_ids(env.get(ADMINS_ENV), ADMINS_ENV) or frozenset(),
    )
