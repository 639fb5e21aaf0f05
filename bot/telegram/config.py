"""Run settings from command-line arguments, the environment and a `.env` file.

The token and the webhook secret only ever come from the environment, `.env` or a file named
there (never argv, where `ps` would show them). Environment variables win over `.env`, so a
deployment can override a developer's file.

Access settings fail closed: unset means "everyone" (allow-list) or "nobody" (admins), and the
log says so at start; set but blank or unparsable refuses to start rather than guess.
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
WEBHOOK_SECRET_ENV = "PERSONA_BOT_WEBHOOK_SECRET"
FILE_SUFFIX = "_FILE"  # TELEGRAM_BOT_TOKEN_FILE=/run/secrets/token, as Docker secrets are mounted
DEFAULT_DATA_DIR = Path(".data")
_SECRET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


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
    secret_token: str | None = None  # webhook: None = a random one per run
    poll_timeout: float = 10.0
    allowed_chats: frozenset[int] | None = None  # None = every chat
    admins: frozenset[int] = field(default_factory=frozenset)

    def access_policy(self) -> str:
        """The effective access settings in one line, logged at start."""
        if self.allowed_chats is None:
            chats = f"public: any chat may use the bot ({ALLOWED_CHATS_ENV} is not set)"
        else:
            chats = f"private: only chats {_list(self.allowed_chats)} ({ALLOWED_CHATS_ENV})"
        if self.admins:
            admins = f"/reload by users {_list(self.admins)} ({ADMINS_ENV})"
        else:
            admins = f"/reload by nobody ({ADMINS_ENV} is not set)"
        return f"access {chats}; {admins}"


def _list(ids: frozenset[int]) -> str:
    return ", ".join(str(i) for i in sorted(ids))


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
    """Comma-separated ids; None when unset. Set but blank, or any item not an integer, is an error:
    `""` must not silently open a private bot to everyone, nor `","` silently lock everyone out."""
    if raw is None:
        return None
    items = [part.strip() for part in raw.split(",")]
    if not raw.strip():
        raise ConfigError(f"{name} is set but empty: list chat or user ids (e.g. {name}=123,-100456), "
                          "or unset it")
    bad = [item for item in items if not _is_int(item)]
    if bad:
        shown = ", ".join(repr(b) for b in bad[:3])
        raise ConfigError(f"{name} must be comma-separated numeric ids; cannot read {shown} in {raw!r}")
    return frozenset(int(item) for item in items)


def _is_int(text: str) -> bool:
    return text.removeprefix("-").isdigit() and text.isascii()


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """NAME from the environment, or the contents of the file NAME_FILE names; None when neither is set."""
    path = env.get(name + FILE_SUFFIX)
    if path is None:
        return env.get(name)
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(f"cannot read {name}{FILE_SUFFIX} ({path}): {reason}") from None


def settings_from(args: argparse.Namespace, environ: Mapping[str, str] | None = None,
                  dotenv: Path | None = None) -> Settings:
    """Combine argv, the environment and ./.env; raise ConfigError for anything unusable."""
    env = {**read_dotenv(dotenv or Path.cwd() / ".env"), **(environ if environ is not None else os.environ)}
    if getattr(args, "secret_token", None):
        raise ConfigError(f"--secret-token would be visible to every user in `ps`; put the webhook secret in "
                          f"{WEBHOOK_SECRET_ENV} (or .env), or in a file named by {WEBHOOK_SECRET_ENV}{FILE_SUFFIX}")
    token = (_secret(env, TOKEN_ENV) or "").strip()
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
    secret = _secret(env, WEBHOOK_SECRET_ENV)
    if secret is not None and not (1 <= len(secret) <= 256 and set(secret) <= _SECRET_CHARS):
        raise ConfigError(f"{WEBHOOK_SECRET_ENV} must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                          "(Telegram's rule for secret_token)")
    return Settings(
        token=token,
        personas_dir=Path(personas) if personas else None,
        data_dir=Path(data_dir),
        api_base_url=base.rstrip("/") if base else None,
        webhook_url=getattr(args, "webhook_url", None),
        listen=getattr(args, "listen", None) or "127.0.0.1",
        port=int(getattr(args, "port", None) or 8443),
        secret_token=secret,
        poll_timeout=float(getattr(args, "poll_timeout", None) or 10.0),
        allowed_chats=_ids(env.get(ALLOWED_CHATS_ENV), ALLOWED_CHATS_ENV),
        admins=_ids(env.get(ADMINS_ENV), ADMINS_ENV) or frozenset(),
    )
