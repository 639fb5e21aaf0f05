"""The Telegram bot: build the PTB Application, register handlers, run by polling or webhook.

`persona-bot run` (bot/cli.py) and `python -m bot.telegram` both call `add_run_arguments` and
`run_from_args`, so the two entry points cannot drift apart.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dtm
import logging
import signal
import sys
from urllib.parse import urlparse

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.conversation import COMMANDS, Conversation
from bot.matching import Engine
from bot.model import DataError
from bot.telegram import handlers
from bot.telegram.config import API_BASE_ENV, DATA_DIR_ENV, ConfigError, Settings, settings_from
from bot.telegram.delivery import PollingRequest, ReliableRateLimiter
from bot.telegram.logs import setup_logging
from bot.telegram.persistence import JsonChatPersistence
from bot.telegram.services import KEY, Services

logger = logging.getLogger(__name__)

# Edited messages and channel posts are not asked for at all: ignoring them is deliberate.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `persona-bot run`. The token comes from TELEGRAM_BOT_TOKEN or ./.env only."""
    parser.add_argument("--personas", metavar="DIR", help="personas directory (default: the shipped one)")
    parser.add_argument("--data-dir", metavar="DIR", help=f"chat state directory (env {DATA_DIR_ENV}, default ./.data)")
    parser.add_argument("--api-base-url", metavar="URL",
                        help=f"root of another Bot API server, e.g. http://127.0.0.1:8081 (env {API_BASE_ENV})")
    parser.add_argument("--webhook-url", metavar="URL", help="public HTTPS URL: use a webhook instead of polling")
    parser.add_argument("--listen", default="127.0.0.1", help="webhook: address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8443, help="webhook: port to listen on (default 8443)")
    parser.add_argument("--secret-token", help="webhook: secret Telegram sends in X-Telegram-Bot-Api-Secret-Token")
    parser.add_argument("--poll-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="polling: how long each getUpdates long poll waits for news (default 10)")


def build_application(settings: Settings, engine: Engine) -> Application:  # type: ignore[type-arg]
    """An Application with flood control and retries, atomic chat persistence, HTML defaults, all handlers."""
    builder = (
        Application.builder()
        .token(settings.token)
        .rate_limiter(ReliableRateLimiter())
        .get_updates_request(PollingRequest())
        .persistence(JsonChatPersistence(settings.data_dir))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_post_init)
    )
    if settings.api_base_url:
        builder = builder.base_url(f"{settings.api_base_url}/bot").base_file_url(f"{settings.api_base_url}/file/bot")
    application = builder.build()
    application.bot_data[KEY] = Services(Conversation(engine), settings)
    _register(application)
    return application


def _register(app: Application) -> None:  # type: ignore[type-arg]
    """Every handler in one block; order matters only for the catch-alls at the end."""
    message = filters.UpdateType.MESSAGE  # never edited messages or channel posts
    app.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    app.add_handler(CommandHandler("start", handlers.start, filters=message))
    app.add_handler(CommandHandler("help", handlers.help_command, filters=message))
    app.add_handler(CommandHandler("about", handlers.about, filters=message))
    app.add_handler(CommandHandler("experts", handlers.experts, filters=message))
    app.add_handler(CommandHandler("expert", handlers.expert, filters=message))
    app.add_handler(CommandHandler("all", handlers.all_experts, filters=message))
    app.add_handler(CommandHandler("ask", handlers.ask, filters=message))
    app.add_handler(CommandHandler("topics", handlers.topics, filters=message))
    app.add_handler(CommandHandler("compare", handlers.compare, filters=message))
    # block=False: updates keep flowing (answered by the old data) while /reload loads the new
    app.add_handler(CommandHandler("reload", handlers.reload, filters=message, block=False))
    app.add_handler(MessageHandler(message & filters.COMMAND, handlers.unknown_command))
    app.add_handler(MessageHandler(message & filters.TEXT & handlers.ADDRESSED, handlers.question))
    app.add_handler(MessageHandler(message & filters.ChatType.PRIVATE & ~filters.TEXT, handlers.unsupported))
    app.add_handler(CallbackQueryHandler(handlers.button))
    app.add_handler(InlineQueryHandler(handlers.inline_query))
    app.add_error_handler(handlers.on_error)


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    """Publish the command menu, then say (without the token) that the bot is up."""
    await app.bot.set_my_commands([BotCommand(name, description) for name, description in COMMANDS])
    conv = app.bot_data[KEY].conversation
    logger.info("persona-bot ready as @%s: %d experts", app.bot.username, len(conv.engine.personas))


def _load_engine(settings: Settings) -> Engine | None:
    """The engine, or None after one line on stderr saying what is wrong with the personas."""
    try:
        return Engine.load(settings.personas_dir)
    except DataError as exc:
        problems = exc.problems
        if problems:
            first = problems[0]
            where = f"{first.file}:{first.line}" if first.line else first.file
            what = f"{where}: {first.message}"
        else:
            what = "unknown problem"
        more = f" (and {len(problems) - 1} more; run `persona-bot validate`)" if len(problems) > 1 else ""
        print(f"persona-bot: cannot load personas: {what}{more}", file=sys.stderr)
    except OSError as exc:
        print(f"persona-bot: cannot read personas: {exc.strerror or exc}: {exc.filename or settings.personas_dir}",
              file=sys.stderr)
    return None


def _stop_on_signals(application: Application) -> None:  # type: ignore[type-arg]
    """SIGINT/SIGTERM: say so in one line, give pending replies a short grace, then stop as PTB does.

    PTB's own handlers raise SystemExit silently; these also tell the rate limiter to stop retrying
    soon, so a shutdown during a network outage still finishes within seconds.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # run_polling/run_webhook pick this loop up
    limiter = application.bot.rate_limiter

    def stop(sig: signal.Signals) -> None:
        logger.info("received %s: finishing pending replies, then stopping", sig.name)
        if isinstance(limiter, ReliableRateLimiter):
            limiter.stopping()
        raise SystemExit

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)


def run_from_args(args: argparse.Namespace) -> int:
    """Run the bot until SIGINT/SIGTERM; returns the process exit code (2 = configuration)."""
    try:
        settings = settings_from(args)
    except ConfigError as exc:
        print(f"persona-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    redactor = setup_logging(settings.token)
    engine = _load_engine(settings)
    if engine is None:
        return EXIT_CONFIG
    application = build_application(settings, engine)
    _stop_on_signals(application)
    try:
        if settings.webhook_url:
            application.run_webhook(
                listen=settings.listen,
                port=settings.port,
                url_path=urlparse(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url,
                secret_token=settings.secret_token,
                allowed_updates=ALLOWED_UPDATES,
                stop_signals=None,
            )
        else:
            poll = dtm.timedelta(seconds=settings.poll_timeout)
            application.run_polling(allowed_updates=ALLOWED_UPDATES, timeout=poll, stop_signals=None)
    except InvalidToken:
        print("persona-bot: Telegram rejected the token (check TELEGRAM_BOT_TOKEN)", file=sys.stderr)
        return EXIT_CONFIG
    except TelegramError as exc:
        print(redactor.redact(f"persona-bot: Telegram error: {exc}"), file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # a crash must not print an unredacted traceback
        logger.exception("persona-bot stopped by an unexpected error")
        print(redactor.redact(f"persona-bot: unexpected error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
