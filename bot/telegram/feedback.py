"""👍/👎 under answers and the admins' /review: the Telegram side of the curator loop (bot/feedback/).

A 👍/👎 button (built in bot/views) carries "v1|f|REF|1" or "v1|f|REF|0", REF being the
recorded question's reference; a tap stores one verdict per person per message (a keyed hash of
chat, message and user: bot/feedback/recorder.py) and is answered with a toast, never a new
message. A second tap replaces the first; in a group each member has their own.

/review (PERSONA_BOT_ADMINS only) shows one group of the review queue at a time, edited in place,
with "→ 1/2/3" (attach to that candidate), "不在范围内" (decline) and "跳过" (skip). Nobody else gets
it, and its buttons refuse anyone else. Queue, attach and decline are bot/feedback/review.py's;
they run on the engine thread (the queue's candidates come from the engine).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.feedback import review
from bot.telegram import keyboards
from bot.telegram.buttons import STALE
from bot.telegram.services import BotContext, Services, services

logger = logging.getLogger(__name__)
Context = BotContext

THANKS = {True: "谢谢！已记下 👍", False: "谢谢！已记下 👎，我们会改进"}
NOT_RECORDING = "这个机器人没有开启反馈记录。"
ADMINS_ONLY = "抱歉，只有管理员可以使用 /review。"
_SKIPPED = "review_skipped"  # bot_data: admin user id -> group ids skipped in this run (memory only)


async def verdict(update: Update, context: Context, args: list[str]) -> None:
    """A 👍/👎 tap: queue it (the ids are hashed at once) and say thanks in a toast."""
    query = update.callback_query
    assert query is not None
    recorder = services(context).recorder
    message = query.message
    ref, good = args[0], args[1] == "1"
    if recorder is None or message is None:
        await query.answer(NOT_RECORDING)
        return
    recorder.verdict(ref, good, chat_id=message.chat.id, message_id=message.message_id, user_id=query.from_user.id)
    await query.answer(THANKS[good])


# ---- /review ----


def _is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and user.id in services(context).settings.admins


def _skipped(update: Update, context: Context) -> set[str]:
    user = update.effective_user
    table: dict[int, set[str]] = context.bot_data.setdefault(_SKIPPED, {})
    return table.setdefault(user.id if user else 0, set())


def _corpus(svc: Services) -> Path:
    from bot.paths import editable_corpus_dir

    return svc.feedback.corpus if svc.feedback and svc.feedback.corpus else editable_corpus_dir()


def _tune(svc: Services) -> Path | None:
    return svc.feedback.tune if svc.feedback and svc.feedback.tune else review.default_tune()


async def review_command(update: Update, context: Context) -> None:
    """/review (admins): the first group of the review queue, with its buttons."""
    if update.message is None:
        return
    if not _is_admin(update, context):
        await update.message.reply_text(ADMINS_ONLY)
        return
    text, markup = await _next_group(update, context)
    await update.message.reply_text(text, reply_markup=markup)


async def review_button(update: Update, context: Context, args: list[str]) -> None:
    """→ n / out of scope / skip under a /review message; anyone but an admin gets a refusal toast."""
    query = update.callback_query
    assert query is not None
    if not _is_admin(update, context):
        await query.answer(ADMINS_ONLY)
        return
    svc = services(context)
    kind, group_id = args[0], args[1]
    if kind == "s":
        _skipped(update, context).add(group_id)
        toast = "已跳过"
    elif svc.feedback is None:
        toast = NOT_RECORDING
    else:
        path, corpus, tune, engine = svc.feedback.path, _corpus(svc), _tune(svc), svc.conversation.engine
        choice = args[2] if kind == "a" else "d"

        def decide() -> str:
            outcome, entry = review.decide(path, engine, corpus, tune, group_id, choice)
            return {"declined": "已标为不在范围内：persona-bot ingest 再 /reload 后生效。",
                    "attached": f"已挂到 {entry}：persona-bot ingest 再 /reload 后生效。",
                    "gone": "这一组已经处理过了。"}.get(outcome, STALE)

        try:
            toast = await svc.in_engine_thread(decide)
        except Exception as exc:  # a broken file or store: say so, keep the bot up
            logger.warning("review: %s", exc)
            toast = "没能写入，请看日志。"
    await query.answer(toast[:190])
    text, markup = await _next_group(update, context)
    await query.edit_message_text(text, reply_markup=markup)


async def _next_group(update: Update, context: Context) -> tuple[str, InlineKeyboardMarkup | None]:
    svc = services(context)
    if svc.feedback is None:
        return NOT_RECORDING, None
    skipped = set(_skipped(update, context))
    try:
        groups = await svc.in_engine_thread(review.pending, svc.feedback.path, svc.conversation.engine, _corpus(svc),
                                            skipped)
    except FileNotFoundError:
        return "还没有记录任何问题。", None
    except Exception as exc:  # a locked or broken store must not break the bot
        logger.warning("review: cannot read the feedback store: %s", exc)
        return "暂时读不了反馈记录，请看日志。", None
    if not groups:
        return "审核队列是空的。" + ("（本次跳过的组不再显示）" if skipped else ""), None
    return _render(groups[0], len(groups)), _buttons(groups[0])


def _render(group: review.Group, total: int) -> str:
    esc = html.escape
    reasons = "，".join(f"{name} {n}" for n, name in ((group.unanswered, "未答"), (group.low_confidence, "低把握"),
                                                     (group.thumbs_down, "👎")) if n)
    lines = [f"<b>待审核 {total} 组</b>：这一组被问了 {group.count} 次（{reasons}）", ""]
    lines += [f"• {esc(p.text[:120])}" + (f" ×{p.count}" if p.count > 1 else "") for p in group.phrasings[:6]]
    lines.append("")
    for i, c in enumerate(group.candidates, 1):
        now = "，现在的回答" if c.answered else ""
        lines.append(f"{i}. <b>{esc(c.persona)}</b>（p={c.probability:.2f}{now}）{esc(c.question[:80])}")
        lines.append(f"<i>{esc(c.answer[:120])}</i>")
    if not group.candidates:
        lines.append("（没有候选回答）")
    return "\n".join(lines)[:4000]


def _buttons(group: review.Group) -> InlineKeyboardMarkup:
    def button(label: str, *args: str) -> InlineKeyboardButton | None:
        data = keyboards.encode(keyboards.REVIEW, *args)
        return InlineKeyboardButton(label, callback_data=data) if data else None

    picks = [button(f"→ 候选 {i}", "a", group.id, str(i)) for i in range(1, len(group.candidates) + 1)]
    decide = [button("不在范围内", "d", group.id), button("跳过", "s", group.id)]
    rows = [[b for b in picks if b], [b for b in decide if b]]
    return InlineKeyboardMarkup([row for row in rows if row])


ACTIONS: dict[str, Callable[[Update, Context, list[str]], Awaitable[None]]] = {
    keyboards.VERDICT: verdict,
    keyboards.REVIEW: review_button,
}
