"""Telegram handlers: each turns one kind of update into a conversation call and sends the reply.

They stay thin on purpose: `bot.conversation` decides what to answer, `bot.views` what the reply
shows, `render` turns that into HTML and `keyboards` into buttons; `state` says whose expert a
message goes to (the asker's own in a group). Engine calls run in one worker thread (services.in_engine_thread)
so a slow query never stalls the event loop (polling, other chats, the rate limiter).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import unicodedata
from collections.abc import Callable
from typing import Any

from telegram import (
    InlineQueryResultsButton,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatMemberStatus, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, filters

from bot.conversation import (
    ChatState,
    Conversation,
    ExpertProfile,
    Notice,
    Reply,
    has_content,
    parse_command,
)
from bot.conversation.commands import USAGE
from bot.matching import Engine
from bot.model import DataError
from bot.smalltalk import is_english
from bot.telegram import buttons, feedback, inline, keyboards, render
from bot.telegram import state as chat_state
from bot.telegram.delivery import describe
from bot.telegram.reload import describe_changes, describe_error
from bot.telegram.services import BotContext, services
from bot.views import View, build

logger = logging.getLogger(__name__)

Context = BotContext
MAX_STASHED_CHATS = 5000
STALE = buttons.STALE
REFUSED = "抱歉，这个机器人目前只对受邀的聊天开放。"
TYPING_AFTER = 0.3  # seconds an answer may take before the chat shows "typing…"
SEND_TEXT = "我只看得懂文字 🙂 请用文字发一个问题，例如：开源大模型怎么看？"


class _AddressedToBot(filters.MessageFilter):
    """Private chats always; groups only when the message mentions the bot or replies to it."""

    def filter(self, message: Message) -> bool:
        if message.chat.type == ChatType.PRIVATE:
            return True
        bot = message.get_bot()
        reply = message.reply_to_message
        if reply is not None and reply.from_user is not None and reply.from_user.id == bot.id:
            return True
        mention = f"@{bot.username}".lower()
        return any(text.lower() == mention for text in message.parse_entities([MessageEntity.MENTION]).values())


ADDRESSED = _AddressedToBot()


# ---- plumbing shared by the handlers ----


def _clean(text: str) -> str:
    """User text without control characters (NUL, BEL, ESC...): they mean nothing in a question."""
    if text.isprintable():
        return text
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch) != "Cc" else " " for ch in text)


def _stash(update: Update, context: Context) -> keyboards.Stash:
    chat = update.effective_chat
    if chat is None:
        return {}
    stashes = services(context).stashes
    if chat.id not in stashes and len(stashes) >= MAX_STASHED_CHATS:
        del stashes[next(iter(stashes))]  # forget the chat that has waited longest
    return stashes.setdefault(chat.id, {})


async def _save(update: Update, context: Context, state: ChatState, before: str | None) -> None:
    """Persist a changed expert choice now (atomically), not at the next periodic flush."""
    if state.expert_id == before or context.chat_data is None or update.effective_chat is None:
        return
    chat_state.store(update, context.chat_data, state)
    await _persist(update, context)


async def _persist(update: Update, context: Context) -> None:
    assert update.effective_chat is not None
    context.application.mark_data_for_update_persistence(chat_ids=update.effective_chat.id)
    await context.application.update_persistence()


async def _run(update: Update, context: Context, call: Callable[[Conversation, ChatState], Reply]) -> View:
    """Run a conversation call with the asker's state (in the engine thread), save the state after,
    and build the reply's view there too. The conversation is read once: /reload swaps it whole."""
    state = chat_state.load(update, context.chat_data)
    before = state.expert_id
    svc = services(context)
    conv = svc.conversation

    def work() -> View:
        return build(call(conv, state))

    view = await svc.in_engine_thread(work)
    await _save(update, context, state, before)
    return view


async def send(update: Update, context: Context, view: View, *, edit: bool = False) -> None:
    """Send a view: split parts in order, the keyboard under the last part.

    With `edit`, a one-part view replaces the message whose button was pressed (paging, pickers).
    For an edited question, the earlier reply is edited to the new answer (extra parts are sent,
    parts no longer needed deleted). In groups the first part quotes the user's message.
    """
    chat = update.effective_chat
    if chat is None:
        return
    parts = render.render(view)
    markup = keyboards.markup(view, _stash(update, context), context.bot.username or "")
    query = update.callback_query
    if edit and query is not None and query.message is not None and len(parts) == 1:
        await _edit(context, chat.id, query.message.message_id, parts[0], markup)
        return
    asked = update.message or update.edited_message
    svc = services(context)
    earlier = svc.replies.get((chat.id, asked.message_id), []) if update.edited_message and asked else []
    group = chat.type != ChatType.PRIVATE
    quote = asked.message_id if asked and (group or (update.edited_message and not earlier)) else None
    sent: list[int] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if i < len(earlier):
            await _edit(context, chat.id, earlier[i], part, markup if last else None)
            sent.append(earlier[i])
            continue
        message = await context.bot.send_message(
            chat.id,
            part,
            reply_markup=markup if last else None,
            reply_parameters=ReplyParameters(quote, allow_sending_without_reply=True) if quote and i == 0 else None,
        )
        sent.append(message.message_id)
    for stale in earlier[len(parts):]:
        with contextlib.suppress(BadRequest):  # already deleted by the user: nothing to do
            await context.bot.delete_message(chat.id, stale)
    if asked is not None and query is None:
        svc.remember_reply(chat.id, asked.message_id, sent)


async def _edit(context: Context, chat_id: int, message_id: int, text: str, markup: Any) -> None:
    """Replace a message's text and keyboard; an edit that changes nothing is no error."""
    try:
        await context.bot.edit_message_text(text, chat_id, message_id, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def _respond(update: Update, context: Context, call: Callable[[Conversation, ChatState], Reply],
                   *, typing: bool = False) -> None:
    """Run the call and send its reply; "typing…" only when the answer takes a noticeable while.

    Most answers take milliseconds: a chat action for each would double the calls counted against
    Telegram's 30-a-second limit and show nothing to the user.
    """
    work = asyncio.ensure_future(_run(update, context, call))
    if typing and update.effective_chat is not None:
        done, _ = await asyncio.wait({work}, timeout=TYPING_AFTER)
        if not done:
            with contextlib.suppress(TelegramError):  # a courtesy; the answer still goes out
                await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
    await send(update, context, await work)


def _args(context: Context) -> str:
    return " ".join(context.args or [])


def _text_args(update: Update) -> str:
    """Command arguments with the user's own spacing (context.args loses line breaks)."""
    text = update.message.text if update.message and update.message.text else ""
    parsed = parse_command(text)
    return _clean(parsed[1]) if parsed else ""


# ---- commands ----


def _english_user(update: Update) -> bool:
    """A command has no question to tell the language by: the user's Telegram language does."""
    user = update.effective_user
    return bool(user and user.language_code and user.language_code.lower().startswith("en"))


async def start(update: Update, context: Context) -> None:
    """/start [expert-id | q_entry]: welcome; deep links open an expert or one quote."""
    english = _english_user(update)
    await _respond(update, context, lambda conv, state: conv.start(_args(context), state, english))


async def help_command(update: Update, context: Context) -> None:
    """/help: the commands and how to ask."""
    english = _english_user(update) or is_english(_text_args(update))
    await _respond(update, context, lambda conv, state: conv.help(state, english))


async def about(update: Update, context: Context) -> None:
    """/about: where the answers come from and how one is chosen."""
    await _respond(update, context, lambda conv, _state: conv.about())


async def privacy(update: Update, context: Context) -> None:
    """/privacy: what is recorded of a question and for how long."""
    await _respond(update, context, lambda conv, _state: conv.privacy())


async def experts(update: Update, context: Context) -> None:
    """/experts: everyone, as buttons."""
    await _respond(update, context, lambda conv, state: conv.experts(state))


async def expert(update: Update, context: Context) -> None:
    """/expert NAME: make NAME the chat's current expert."""
    await _respond(update, context, lambda conv, state: conv.expert(_text_args(update), state))


async def all_experts(update: Update, context: Context) -> None:
    """/all: questions go to every expert again."""
    await _respond(update, context, lambda conv, state: conv.all(state))


async def ask(update: Update, context: Context) -> None:
    """/ask [NAME] QUESTION."""
    await _respond(update, context, lambda conv, state: conv.ask(_text_args(update), state), typing=True)


async def topics(update: Update, context: Context) -> None:
    """/topics [NAME]: topics as buttons."""
    await _respond(update, context, lambda conv, state: conv.topics(_text_args(update), state))


async def compare(update: Update, context: Context) -> None:
    """/compare A B QUESTION, or the pick-two-experts flow without arguments."""
    await _respond(update, context, lambda conv, state: conv.compare(_text_args(update), state), typing=True)


async def default(update: Update, context: Context) -> None:
    """/default NAME (group admins): the group's default expert, for members without their own.

    In a private chat it is /expert. "/default all" clears the group default."""
    chat, user, message = update.effective_chat, update.effective_user, update.message
    if chat is None or user is None or message is None:
        return
    if chat.type == ChatType.PRIVATE:
        await expert(update, context)
        return
    if not await _group_admin(context, chat.id, user.id):
        refused = Notice("抱歉，只有群管理员可以设置本群的默认专家；/expert 名字 只对你自己生效。")
        await _respond(update, context, lambda _c, _s: refused)
        return
    name = _text_args(update)
    if not name:
        await _respond(update, context, lambda _c, _s: Notice("用法：" + USAGE["default"]))
        return
    group = ChatState()
    svc = services(context)
    if name.lower() in {"all", "所有", "所有专家"}:
        reply: Reply = Notice("好的，本群不再有默认专家：没有自己选过专家的成员会问所有专家。")
    else:
        reply = await svc.in_engine_thread(svc.conversation.expert, name, group)
    if group.expert_id is not None or isinstance(reply, Notice):
        assert context.chat_data is not None
        chat_state.store_default(context.chat_data, group.expert_id)
        await _persist(update, context)
    if isinstance(reply, ExpertProfile):
        reply = Notice(f"本群的默认专家现在是{reply.persona.display_name}（自己用 /expert 选过的成员不受影响）。")
    await send(update, context, build(reply))


async def _group_admin(context: Context, chat_id: int, user_id: int) -> bool:
    """A group's creator or administrators (asked of Telegram), or an operator admin."""
    if user_id in services(context).settings.admins:
        return True
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        logger.warning("cannot check admin rights in chat %s: %s", chat_id, describe(exc))
        return False
    return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


async def question(update: Update, context: Context) -> None:
    """Plain text (private chat, mention or reply in a group): a question to the asker's expert.

    An edited question is answered again by editing the earlier reply (`send`)."""
    message = update.message or update.edited_message
    if message is None or message.text is None:
        return
    text = _clean(message.text)
    for value in message.parse_entities([MessageEntity.MENTION]).values():
        if value.lower() == f"@{context.bot.username}".lower():
            text = text.replace(value, " ", 1)
    await _respond(update, context, lambda conv, state: conv.question(text, state), typing=has_content(text))


async def unknown_command(update: Update, context: Context) -> None:
    """A command no handler took: help, unless it is addressed to another bot."""
    text = update.message.text if update.message and update.message.text else ""
    parsed = parse_command(text)
    chat = update.effective_chat
    if parsed is None or chat is None:
        return
    username = parsed[2]
    if username is not None and username.lower() != (context.bot.username or "").lower():
        return  # /ask@OtherBot
    if username is None and chat.type != ChatType.PRIVATE:
        return  # a bare command in a group may belong to another bot
    await _respond(update, context, lambda conv, state: conv.command(parsed[0], parsed[1], state))


async def unsupported(update: Update, context: Context) -> None:
    """Stickers, photos, voice, locations, documents... in a private chat: ask for text."""
    if update.message is not None:
        await update.message.reply_text(SEND_TEXT)


# ---- buttons (what each one does lives in buttons.py) ----


async def button(update: Update, context: Context) -> None:
    """A tap on an inline button: decode its data, run the action, answer the query.

    Stale, foreign or malformed data (old keyboards, other versions) gets a polite toast.
    """
    query = update.callback_query
    if query is None:
        return
    decoded = keyboards.decode(query.data)
    if decoded is not None and decoded[0] in feedback.ACTIONS:  # 👍/👎 and /review: no conversation call
        try:
            await feedback.ACTIONS[decoded[0]](update, context, decoded[1])
        except IndexError:
            await query.answer(STALE)
        return
    if decoded is None or not buttons.known(decoded[0]):
        await query.answer(STALE)
        return
    action, args = decoded
    stash = _stash(update, context)
    try:
        view = await _run(update, context, lambda conv, state: buttons.run(conv, state, action, args, stash))
    except (IndexError, KeyError, ValueError):
        await query.answer(STALE)
        return
    if view.toast is not None:
        await query.answer(view.toast)
        return
    await query.answer()
    await send(update, context, view, edit=buttons.edits_in_place(action, args))


# ---- inline mode ----


async def inline_query(update: Update, context: Context) -> None:
    """@bot QUESTION in any chat: the top recorded answers, each with its source."""
    query = update.inline_query
    if query is None:
        return
    text = query.query.strip()
    if not has_content(text):
        prompt = InlineQueryResultsButton("输入问题，例如：开源怎么看", start_parameter="inline")
        await query.answer([], cache_time=5, button=prompt)
        return
    svc = services(context)
    answer = await svc.in_engine_thread(svc.conversation.engine.answer, text, None, 10)
    results = inline.results(answer.matches)
    button_ = None if results else InlineQueryResultsButton("没有找到贴切的原话，换个问法？", start_parameter="inline")
    await query.answer(results, cache_time=30, is_personal=False, button=button_)


# ---- operations ----


async def gate(update: Update, context: Context) -> None:
    """PERSONA_BOT_ALLOWED_CHATS: chats outside the list get a polite refusal and nothing else."""
    allowed = services(context).settings.allowed_chats
    if allowed is None:
        return
    chat, user = update.effective_chat, update.effective_user
    ident = chat.id if chat is not None else (user.id if user is not None else None)
    if ident in allowed:
        return
    if update.callback_query is not None:
        await update.callback_query.answer(REFUSED)
    elif update.inline_query is not None:
        await update.inline_query.answer([], cache_time=60)
    elif update.message is not None and chat is not None and (
        chat.type == ChatType.PRIVATE or (update.message.text or "").startswith("/")
    ):
        await update.message.reply_text(REFUSED)
    raise ApplicationHandlerStop


async def reload(update: Update, context: Context) -> None:
    """/reload (admins): re-read personas without downtime; on bad data keep serving the old."""
    svc = services(context)
    user = update.effective_user
    if update.message is None:
        return
    if user is None or user.id not in svc.settings.admins:
        await update.message.reply_text("抱歉，只有管理员可以使用 /reload。")
        return
    async with svc.reload_lock:
        old = svc.conversation.engine
        try:
            new = await asyncio.to_thread(Engine.load, svc.settings.personas_dir)  # not the engine thread
        except DataError as exc:
            logger.warning("reload refused: %d problems in persona data", len(exc.problems))
            parts = render.notice("重新加载失败，继续使用原来的数据：", describe_error(exc))
        except Exception as exc:  # a bug while loading: the admin still gets an answer, the old data stays
            logger.error("reload failed: %s", describe(exc), exc_info=exc)
            parts = render.notice("重新加载失败，继续使用原来的数据：", [describe(exc)])
        else:
            svc.conversation = svc.conversation.with_engine(new)  # one reference swapped; running calls keep theirs
            entries = sum(len(p.entries) for p in new.personas)
            logger.info("reloaded personas: %d experts, %d entries", len(new.personas), entries)
            title = f"已重新加载：{len(new.personas)} 位专家，{entries} 条回答。"
            parts = render.notice(title, describe_changes(old.personas, new.personas))
    for part in parts:
        await update.message.reply_text(part)


async def on_error(update: object, context: Context) -> None:
    """One log line per failure (redacted by the logging filter); a traceback only for a bug.

    Bot API failures of a reply were already retried by the delivery layer; the cause is outside
    this program, so no traceback.
    """
    error = context.error
    if error is None or (update is None and isinstance(error, TelegramError)):
        return  # a failed poll: delivery.PollingRequest logged it, PTB polls again after a back-off
    uid: Any = update.update_id if isinstance(update, Update) else None
    if isinstance(error, TelegramError):
        logger.error("update %s: reply not sent: %s", uid, describe(error))
    else:
        logger.error("update %s failed: %s", uid, describe(error), exc_info=error)
