"""Logging that can never print the bot token.

The token is the bot's password and sits in every Bot API URL, so any library that logs a URL or
an exception leaks it. httpx is turned down to WARNING (PTB's examples do the same) and a filter on
every root handler rewrites each record, its arguments and its formatted traceback.
"""

from __future__ import annotations

import logging
import sys

from telegram.error import Conflict, NetworkError, RetryAfter

REDACTED = "<token>"
# Bot API failures a bot must expect (5xx, resets, timeouts, flood waits, a second poller): a
# traceback of them only shows PTB's internals, so they are logged as one line.
EXPECTED = (NetworkError, RetryAfter, Conflict)


class RedactToken(logging.Filter):
    """Replace the token (and its secret half) in the final text of every record."""

    def __init__(self, token: str) -> None:
        super().__init__()
        secret = token.split(":", 1)[1] if ":" in token else token
        self._secrets = [s for s in (token, secret) if len(s) >= 8]

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class OneLineExpected(logging.Filter):
    """Turn a record carrying an expected Bot API exception into one line: message + `Type: text`."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, EXPECTED):
            detail = " ".join(str(exc).split())
            record.msg = f"{record.getMessage()} ({type(exc).__name__}: {detail})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def setup_logging(token: str, level: int = logging.INFO) -> RedactToken:
    """Log to stderr through the redacting filter; warnings.warn goes through it too."""
    root = logging.getLogger()
    if not root.handlers:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stream)
    root.setLevel(level)
    redactor = RedactToken(token)
    for handler in root.handlers:
        handler.addFilter(OneLineExpected())
        handler.addFilter(redactor)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return redactor
