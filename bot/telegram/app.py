"""The Telegram bot: build the PTB Application, register handlers, run by polling or webhook.

`persona-bot run` (bot/cli.py) and `python -m bot.telegram` both call `add_run_arguments` and
`run_from_args`, so the two entry points cannot drift apart.

The Application runs without PTB's Updater: `intake.py` fetches updates (or takes webhook
POSTs), journals them and hands each chat's updates to its own ordered lane. Start-up refuses,
in one line and before touching Telegram, anything it cannot serve correctly: bad settings, bad
persona data, a data directory it cannot write; then a token Telegram rejects.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import signal
import sys
from urllib.parse import urlparse

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
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

from bot.conversation import COMMANDS, MENU, Conversation
from bot.feedback import config as feedback_config
from bot.feedback.config import FeedbackConfig
from bot.feedback.recorder import Recorder
from bot.matching import Engine
from bot.model import DataError
from bot.telegram import feedback, handlers
from bot.telegram.config import (
    API_BASE_ENV,
    DATA_DIR_ENV,
    WEBHOOK_SECRET_ENV,
    ConfigError,
    Settings,
    settings_from,
)
from bot.telegram.delivery import PollingRequest, ReliableRateLimiter, describe
from bot.telegram.intake import STOP_GRACE, Intake, WebhookServer, poll
from bot.telegram.journal import Journal, Pending
from bot.telegram.logs import setup_logging
from bot.telegram.persistence import DataDirError, JsonChatPersistence, prepare_data_dir
from bot.telegram.services import CONTEXT_TYPES, KEY, Services

logger = logging.getLogger(__name__)

# Edited messages and channel posts are not asked for at all: ignoring them is deliberate.
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


class StartError(Exception):
    """Something the bot needs at start is not there (a port to listen on); one line for the operator."""


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `persona-bot run`. The token comes from TELEGRAM_BOT_TOKEN or ./.env only."""
    parser.add_argument("--personas", metavar="DIR", help="personas directory (default: the shipped one)")
    parser.add_argument("--data-dir", metavar="DIR", help=f"chat state directory (env {DATA_DIR_ENV}, default ./.data)")
    parser.add_argument("--api-base-url", metavar="URL",
                        help=f"root of another Bot API server, e.g. http://127.0.0.1:8081 (env {API_BASE_ENV})")
    parser.add_argument("--webhook-url", metavar="URL",
                        help="public HTTPS URL: use a webhook instead of polling (secret: env "
                             f"{WEBHOOK_SECRET_ENV} or {WEBHOOK_SECRET_ENV}_FILE; default: random per run)")
    parser.add_argument("--listen", default="127.0.0.1", help="webhook: address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8443, help="webhook: port to listen on (default 8443)")
    parser.add_argument("--secret-token", help=argparse.SUPPRESS)  # refused with a pointer to the env variable
    parser.add_argument("--poll-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="polling: how long each getUpdates long poll waits for news (default 10)")
    feedback_config.add_arguments(parser, recording=True, data_dir=False)  # --no-log, --feedback-db, ...


def build_application(settings: Settings, engine: Engine,
                      feedback: FeedbackConfig | None = None) -> Application:  # type: ignore[type-arg]
    """An Application with flood control and retries, atomic chat persistence, HTML defaults, all handlers.

    With `feedback`, questions are recorded for the curator loop (bot/feedback/) unless it is off."""
    builder = (
        Application.builder()
        .token(settings.token)
        .updater(None)  # updates come through intake.py: journaled, confirmed only once on disk
        .rate_limiter(ReliableRateLimiter(stop_grace=STOP_GRACE * 2 / 3))
        .get_updates_request(PollingRequest())
        .persistence(JsonChatPersistence(settings.data_dir))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_post_init)
        .context_types(CONTEXT_TYPES)  # typed bot_data (services.BotData)
    )
    if settings.api_base_url:
        builder = builder.base_url(f"{settings.api_base_url}/bot").base_file_url(f"{settings.api_base_url}/file/bot")
    application = builder.build()
    recorder = Recorder(feedback, via="telegram") if feedback is not None and feedback.enabled else None
    application.bot_data[KEY] = Services(Conversation(engine, recorder=recorder), settings, feedback=feedback,
                                         recorder=recorder)
    _register(application)
    return application


COMMAND_HANDLERS = {
    "start": handlers.start, "help": handlers.help_command, "about": handlers.about, "privacy": handlers.privacy,
    "experts": handlers.experts, "expert": handlers.expert, "all": handlers.all_experts, "ask": handlers.ask,
    "topics": handlers.topics, "compare": handlers.compare, "default": handlers.default,
    "reload": handlers.reload, "review": feedback.review_command,
}
"""Command name -> its handler; a test checks this covers the command table exactly."""


def _register(app: Application) -> None:  # type: ignore[type-arg]
    """Every handler in one block; order matters only for the catch-alls at the end."""
    message = filters.UpdateType.MESSAGE  # new messages; edited ones only as questions (below); no channel posts
    app.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    # Every command of the one table (bot/conversation/commands.py) has its handler here.
    for command in COMMANDS:
        # blocking like the rest: other chats have their own lanes, so they are answered while /reload loads
        app.add_handler(CommandHandler(command.name, COMMAND_HANDLERS[command.name], filters=message))
    app.add_handler(MessageHandler(message & filters.COMMAND, handlers.unknown_command))
    app.add_handler(MessageHandler(message & filters.TEXT & handlers.ADDRESSED, handlers.question))
    # An edited question is answered again; an edited command is not run twice.
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT & ~filters.COMMAND
                                   & handlers.ADDRESSED, handlers.question))
    app.add_handler(MessageHandler(message & filters.ChatType.PRIVATE & ~filters.TEXT, handlers.unsupported))
    app.add_handler(CallbackQueryHandler(handlers.button))
    app.add_handler(InlineQueryHandler(handlers.inline_query))
    app.add_error_handler(handlers.on_error)


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    """Publish the command menu, then say (without the token) that the bot is up."""
    try:
        await app.bot.set_my_commands([BotCommand(c.name, c.zh) for c in MENU])
        await app.bot.set_my_commands([BotCommand(c.name, c.en) for c in MENU], language_code="en")
    except TelegramError as exc:  # the menu is a courtesy: serving does not depend on it
        logger.warning("command menu not published: %s", describe(exc))
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
    except Exception as exc:  # a bug, but start-up must still end in one line, not a traceback
        logger.debug("loading personas failed", exc_info=exc)
        print(f"persona-bot: cannot load personas: {describe(exc)}", file=sys.stderr)
    return None


def run_from_args(args: argparse.Namespace) -> int:
    """Run the bot until SIGINT/SIGTERM; returns the process exit code (2 = configuration)."""
    try:
        settings = settings_from(args)
        feedback_settings = feedback_config.config_from(args)
    except (ConfigError, feedback_config.FeedbackConfigError) as exc:
        print(f"persona-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    redactor = setup_logging(settings.token)
    engine = _load_engine(settings)
    if engine is None:
        return EXIT_CONFIG
    journal = Journal(settings.data_dir)
    try:
        prepare_data_dir(settings.data_dir)
        pending = journal.recover()
    except DataDirError as exc:
        print(f"persona-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:
        print(f"persona-bot: cannot write to data directory {settings.data_dir}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_CONFIG
    logger.info("%s", settings.access_policy())
    if settings.allowed_chats is not None and settings.admins - settings.allowed_chats:
        locked_out = ", ".join(str(i) for i in sorted(settings.admins - settings.allowed_chats))
        logger.warning("admins %s cannot /reload in a private chat: their ids are not in the allow-list", locked_out)
    logger.info("feedback: %s", f"recording questions to {feedback_settings.path}, kept "
                f"{feedback_settings.retention_days} days" if feedback_settings.enabled else "not recording (--no-log)")
    application = build_application(settings, engine, feedback_settings)
    try:
        return asyncio.run(_serve(application, settings, journal, pending))
    except InvalidToken:
        print("persona-bot: Telegram rejected the token (check TELEGRAM_BOT_TOKEN)", file=sys.stderr)
        return EXIT_CONFIG
    except StartError as exc:
        print(f"persona-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except TelegramError as exc:
        print(redactor.redact(f"persona-bot: Telegram error: {exc}"), file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # a crash must not print an unredacted traceback
        logger.exception("persona-bot stopped by an unexpected error")
        print(redactor.redact(f"persona-bot: unexpected error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        return EXIT_FAILED
    finally:
        journal.close()


async def _serve(application: Application, settings: Settings, journal: Journal,  # type: ignore[type-arg]
                 pending: list[Pending]) -> int:
    """Connect, replay what the journal holds, take updates until a signal; stop without draining."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    limiter = application.bot.rate_limiter

    def on_signal(sig: signal.Signals) -> None:
        logger.info("received %s: stopping; what is not answered yet is answered after the next start", sig.name)
        if isinstance(limiter, ReliableRateLimiter):
            limiter.stopping()  # a reply being retried gets only a short grace
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    if not await _until_stopped(_connect(application), stop):
        return EXIT_OK
    await application.start()
    intake = Intake(application.bot, application.process_update, journal)
    webhook: WebhookServer | None = None
    try:
        await _until_stopped(_post_init(application), stop)
        intake.replay(pending)
        if stop.is_set():
            pass
        elif settings.webhook_url:
            webhook = await _start_webhook(application, settings, intake)
            await stop.wait()
        else:
            receiving = asyncio.ensure_future(
                poll(intake, timeout=settings.poll_timeout, allowed_updates=ALLOWED_UPDATES))
            await _until_stopped(receiving, stop)
    finally:
        if webhook is not None:
            await webhook.stop()
        await intake.stop()
        await application.stop()
        await application.shutdown()
        application.bot_data[KEY].engine_thread.shutdown(wait=False)
        if application.bot_data[KEY].recorder is not None:
            application.bot_data[KEY].recorder.close()
    return EXIT_OK


async def _until_stopped(work: object, stop: asyncio.Event) -> bool:
    """Await `work` (a coroutine or future) unless `stop` is set first (then cancel it); True if it finished."""
    task = asyncio.ensure_future(work)  # type: ignore[call-overload]
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task.done():
        task.result()  # re-raises InvalidToken and bugs
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


async def _connect(application: Application) -> None:  # type: ignore[type-arg]
    """getMe until Telegram answers (the delivery layer retries; an outage at start is waited out)."""
    while True:
        try:
            await application.initialize()
            return
        except NetworkError as exc:
            logger.warning("cannot reach Telegram (%s); trying again in 5 s", describe(exc))
            await asyncio.sleep(5)


async def _start_webhook(application: Application, settings: Settings,  # type: ignore[type-arg]
                         intake: Intake) -> WebhookServer:
    assert settings.webhook_url is not None
    secret = settings.secret_token
    if secret is None:
        secret = secrets.token_urlsafe(32)
        logger.info("webhook secret: none set (%s), using a random one for this run", WEBHOOK_SECRET_ENV)
    server = WebhookServer(intake, listen=settings.listen, port=settings.port,
                           path=urlparse(settings.webhook_url).path, secret=secret)
    try:
        await server.start()
    except OSError as exc:
        raise StartError(f"cannot listen on {settings.listen}:{settings.port}: {exc.strerror or exc}") from None
    await application.bot.set_webhook(settings.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
    return server
