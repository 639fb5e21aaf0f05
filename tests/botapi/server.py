"""A local Telegram Bot API server for end-to-end tests: strict like Telegram, driven from Python.

The bot under test talks to it over real HTTP (`--api-base-url http://127.0.0.1:PORT`), so the
whole stack runs: PTB's request layer, rate limiter, retries, polling or webhook. Tests act as
users through the control methods (`send_text`, `press`, `inline_query`, ...), read what the bot
sent (`messages`, `next_message`, `wait_call`) and wait on conditions, never on sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from . import updates as build
from . import validate
from .faults import Fault, FaultPlan
from .validate import BadRequest

T = TypeVar("T")
Params = dict[str, Any]
DEFAULT_TOKEN = "123456:TEST-abcdefghijklmnopqrstuvwxyz0123456"
_STRING_FIELDS = frozenset(
    {"text", "caption", "callback_query_id", "inline_query_id", "url", "secret_token", "parse_mode",
     "next_offset", "description", "short_description", "language_code", "action", "inline_message_id",
     "switch_pm_text", "switch_pm_parameter"}
)
_CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice", "upload_document",
     "choose_sticker", "find_location", "record_video_note", "upload_video_note"}
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
_OLD_QUERY = "Bad Request: query is too old and response timeout expired or query ID is invalid"


@dataclass
class Call:
    """One HTTP call the bot made, with the parameters as the server understood them."""

    index: int
    method: str
    params: Params
    status: int
    response: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when the server answered


@dataclass
class Version:
    html: str
    text: str
    reply_markup: dict[str, Any] | None


@dataclass
class SentMessage:
    """A message the bot sent, in its current state; `edits` holds earlier versions."""

    message_id: int
    chat_id: int
    html: str  # the text parameter as sent
    text: str  # visible text after entity parsing
    parse_mode: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    call_index: int
    reply_to: int | None = None
    edits: list[Version] = field(default_factory=list)
    deleted: bool = False

    @property
    def buttons(self) -> list[dict[str, Any]]:
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]

    @property
    def button_texts(self) -> list[str]:
        return [b["text"] for b in self.buttons]

    def button(self, text: str) -> dict[str, Any]:
        """The first button whose label contains text."""
        for b in self.buttons:
            if text in b["text"]:
                return b
        raise AssertionError(f"no button {text!r} in {self.button_texts}")


class BotApiServer:
    """The fake Bot API. `async with BotApiServer() as server:` listens on a free 127.0.0.1 port."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, username: str = "PersonaTestBot", port: int = 0) -> None:
        self.token = token
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "Persona", "username": username}
        self.username = username
        self.port = port
        self.faults = FaultPlan()
        self.calls: list[Call] = []
        self.sent: list[SentMessage] = []
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.callback_answers: dict[str, Params] = {}
        self.inline_answers: dict[str, Params] = {}
        self.webhook: Params = {}
        self.listening = False
        self.timeout = 10.0  # default wait in seconds; raise it on a busy machine
        self.polls_waiting = 0  # long polls currently parked in getUpdates
        # Telegram's flood control per chat: (messages, seconds), e.g. (20, 1.0); None = unlimited.
        self.chat_flood_limit: tuple[int, float] | None = None
        self._chat_sends: dict[int, list[float]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._admins: dict[int, set[int]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._by_id: dict[tuple[int, int], SentMessage] = {}
        self._updates: list[dict[str, Any]] = []
        self.pushed: list[dict[str, Any]] = []  # every update users caused, in order (for update ids)
        self._allowed: set[str] | None = None
        self._queries: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._poll_generation = 0
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._methods: dict[str, Callable[[Params], Coroutine[Any, Any, Any]]] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "answerinlinequery": self._answer_inline_query,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendchataction": self._send_chat_action,
            "deletemessage": self._delete_message,
            "getchatmember": self._get_chat_member,
            "logout": self._true,
            "close": self._true,
        }

    # ---- lifecycle ----

    @property
    def root_url(self) -> str:
        """What the bot gets as --api-base-url; it appends /bot<token>/METHOD itself."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._no_file)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        await self._listen()

    async def stop(self) -> None:
        self.listening = False
        await self._notify()  # parked long polls return instead of holding the shutdown
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        self.listening = False

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()
        self.port = self._site.port
        self.listening = True
        await self._notify()

    async def pause(self, seconds: float, until: Callable[[], bool] | None = None) -> None:
        """The server goes away (stops listening, drops open connections) and comes back on the same
        port after `seconds`, and not before `until()` holds (e.g. the client has met the outage:
        on a loaded machine a client may take longer than the outage to start)."""
        assert self._site is not None and self._runner is not None and self._runner.server is not None
        await self._site.stop()
        self.listening = False
        for proto in self._runner.server.connections:
            if proto.transport is not None:
                proto.transport.abort()
        await self._notify()
        self._spawn(self._come_back(seconds, until))

    async def _come_back(self, seconds: float, until: Callable[[], bool] | None) -> None:
        await asyncio.sleep(seconds)  # the outage itself, not synchronisation
        while until is not None and not until():
            await asyncio.sleep(0.1)
        await self._listen()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- waiting ----

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def wait_for(
        self, predicate: Callable[[], T | None], timeout: float | None = None, what: str = "condition"
    ) -> T:
        """Wait until predicate() is truthy (re-checked whenever the server state changes); return its value."""
        timeout = self.timeout if timeout is None else timeout
        async with self._cond:
            try:
                result = await asyncio.wait_for(self._cond.wait_for(predicate), timeout)
                assert result is not None
                return result
            except TimeoutError:
                recent = [f"{c.method} {c.status}" for c in self.calls[-8:] if c.method != "getUpdates"]
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; recent calls: {recent}") from None

    @property
    def pending_updates(self) -> int:
        """Updates Telegram still holds for the bot: not yet fetched, or fetched and not confirmed by an offset."""
        return len(self._updates)

    def mark(self) -> int:
        """A point in time: pass it as `since` to see only what the bot did afterwards."""
        return len(self.calls)

    def messages(self, chat: int | None = None, since: int = 0) -> list[SentMessage]:
        return [m for m in self.sent if m.call_index >= since and (chat is None or m.chat_id == chat)]

    def calls_of(self, method: str, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if c.method.lower() == method.lower()]

    async def next_message(
        self,
        chat: int,
        since: int,
        predicate: Callable[[SentMessage], bool] | None = None,
        timeout: float | None = None,
    ) -> SentMessage:
        """The first message the bot sent to chat after `since` that satisfies predicate."""

        def found() -> SentMessage | None:
            return next((m for m in self.messages(chat, since) if predicate is None or predicate(m)), None)

        return await self.wait_for(found, timeout, what=f"a message to chat {chat}")

    async def wait_call(
        self, method: str, since: int, predicate: Callable[[Call], bool] | None = None, timeout: float | None = None
    ) -> Call:
        def found() -> Call | None:
            return next((c for c in self.calls_of(method, since) if predicate is None or predicate(c)), None)

        return await self.wait_for(found, timeout, what=f"a {method} call")

    # ---- acting as users ----

    def private_chat(self, user_id: int = 1001, first_name: str = "Alice", username: str | None = None,
                     language: str = "zh-hans") -> int:
        """A private chat with a user (Telegram app language `language`); returns the chat id (= user id)."""
        user = build.user(user_id, first_name, username, language)
        self._users[user_id] = user
        self._chats[user_id] = {"id": user_id, "type": "private", "first_name": first_name}
        return user_id

    def group_chat(self, chat_id: int = -1001234567890, title: str = "AI 讨论组", members: tuple[int, ...] = (),
                   admins: tuple[int, ...] = ()) -> int:
        """A supergroup; `admins` (also members) are its administrators, as getChatMember reports."""
        self._chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": title}
        for uid in (*members, *admins):
            self._users.setdefault(uid, build.user(uid, f"User{uid}", None))
        self._admins[chat_id] = set(admins)
        return chat_id

    def _sender(self, chat: int, user: int | None) -> dict[str, Any]:
        uid = user if user is not None else chat
        if uid not in self._users:
            self._users[uid] = build.user(uid, f"User{uid}", None)
        return self._users[uid]

    async def _push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self._updates.append(update)
        self.pushed.append(update)
        if self.webhook.get("url"):
            self._spawn(self._deliver_webhook())
        await self._notify()
        return update

    def _user_message(self, chat: int, user: int | None, **content: Any) -> dict[str, Any]:
        if chat not in self._chats:
            raise KeyError(f"unknown chat {chat}: create it with private_chat() or group_chat()")
        message = {"message_id": next(self._ids), "from": self._sender(chat, user), "chat": self._chats[chat],
                   "date": int(time.time()), **content}
        self._messages[(chat, message["message_id"])] = message
        return message

    async def send_text(
        self, chat: int, text: str, *, user: int | None = None, reply_to: SentMessage | dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A user writes text; commands and @mentions get the entities Telegram would attach."""
        content: dict[str, Any] = {"text": text}
        entities = build.text_entities(text)
        if entities:
            content["entities"] = entities
        if reply_to is not None:
            key = (chat, reply_to.message_id if isinstance(reply_to, SentMessage) else reply_to["message_id"])
            content["reply_to_message"] = self._messages[key]
        message = self._user_message(chat, user, **content)
        await self._push("message", message)
        return message

    async def send_media(self, chat: int, kind: str, *, user: int | None = None) -> dict[str, Any]:
        """A sticker, photo, voice, location, document, ... (see updates.MEDIA)."""
        message = self._user_message(chat, user, **build.media(kind))
        await self._push("message", message)
        return message

    async def edit_text(self, message: dict[str, Any], text: str) -> None:
        """The user edits an earlier message: an edited_message update."""
        edited = {**message, "text": text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        if build.text_entities(text):
            edited["entities"] = build.text_entities(text)
        await self._push("edited_message", edited)

    async def channel_post(self, text: str, chat_id: int = -1009999999999) -> None:
        self._chats.setdefault(chat_id, {"id": chat_id, "type": "channel", "title": "频道"})
        post = {"message_id": next(self._ids), "chat": self._chats[chat_id], "date": int(time.time()), "text": text}
        if build.text_entities(text):
            post["entities"] = build.text_entities(text)
        await self._push("channel_post", post)

    async def press(
        self, message: SentMessage, text: str | None = None, *, data: str | None = None, user: int | None = None
    ) -> str:
        """Tap a callback button (by label substring) under a bot message, or send raw data; returns the query id."""
        if data is None:
            button = message.button(text or "")
            if "callback_data" not in button:
                raise AssertionError(f"button {button['text']!r} is not a callback button")
            data = button["callback_data"]
        current = self._messages[(message.chat_id, message.message_id)]
        qid = str(next(self._ids) * 7919)
        query = {"id": qid, "from": self._sender(message.chat_id, user), "message": current,
                 "chat_instance": str(message.chat_id * 31), "data": data}
        self._queries[qid] = {"kind": "callback"}
        await self._push("callback_query", query)
        return qid

    async def inline_query(self, query: str, *, user: int = 1001) -> str:
        qid = str(next(self._ids) * 104729)
        self._queries[qid] = {"kind": "inline"}
        payload = {"id": qid, "from": self._sender(user, user), "query": query, "offset": "", "chat_type": "private"}
        await self._push("inline_query", payload)
        return qid

    async def redeliver(self, update: dict[str, Any]) -> None:
        """Telegram sends an update again (its confirmation was lost): same update_id, queued anew."""
        self._updates.append(update)
        self._updates.sort(key=lambda u: u["update_id"])
        if self.webhook.get("url"):
            self._spawn(self._deliver_webhook())
        await self._notify()

    def update_of(self, message: dict[str, Any]) -> int:
        """The update_id of the update that carried a user's message."""
        chat, mid = message["chat"]["id"], message["message_id"]
        return int(next(u["update_id"] for u in self.pushed if u.get("message", {}).get("message_id") == mid
                        and u["message"]["chat"]["id"] == chat))

    def take_updates(self) -> list[dict[str, Any]]:
        """Hand pending updates over directly (in-process tests feed them to Application.process_update)."""
        pending, self._updates = self._updates, []
        return pending

    async def callback_answer(self, qid: str, timeout: float | None = None) -> Params:
        return await self.wait_for(lambda: self.callback_answers.get(qid), timeout, what=f"answer to callback {qid}")

    async def inline_answer(self, qid: str, timeout: float | None = None) -> Params:
        return await self.wait_for(lambda: self.inline_answers.get(qid), timeout, what=f"answer to inline {qid}")

    # ---- HTTP ----

    async def _no_file(self, request: web.Request) -> web.Response:
        return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _read_params(request)
        fault = self.faults.take(method.lower(), params.get("chat_id"))
        if fault is not None:
            await self._notify()  # a test may be waiting for the fault to be taken (a call now in flight)
            try:
                faulted = await self._apply_fault(fault, request)
            except asyncio.CancelledError:  # the client hung up during an injected delay: nothing processed
                gone = {"ok": False, "error_code": 599, "description": "client gone before the answer"}
                self.calls.append(Call(len(self.calls), method, params, 599, gone))
                raise
            if faulted is not None:
                await self._record(method, params, faulted.status, json.loads(faulted.text or "{}"))
                return faulted
        if request.match_info["token"] != self.token:
            body: dict[str, Any] = {"ok": False, "error_code": 401, "description": "Unauthorized"}
        elif (flood := self._flood_wait(method.lower(), params)) is not None:
            body = {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {flood}",
                    "parameters": {"retry_after": flood}}
        elif (handler := self._methods.get(method.lower())) is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        else:
            try:
                body = {"ok": True, "result": await handler(params)}
            except BadRequest as exc:
                body = {"ok": False, "error_code": exc.code, "description": exc.description}
        status = 200 if body["ok"] else int(body["error_code"])
        await self._record(method, params, status, body)
        return _json(body, status)

    async def _record(self, method: str, params: Params, status: int, body: dict[str, Any]) -> None:
        self.calls.append(Call(len(self.calls), method, params, status, body))
        await self._notify()

    def _flood_wait(self, method: str, params: Params) -> int | None:
        """With chat_flood_limit set, a send over the limit gets 429 and the seconds to wait."""
        if self.chat_flood_limit is None or method not in ("sendmessage", "editmessagetext"):
            return None
        try:
            chat = int(params.get("chat_id") or 0)
        except (TypeError, ValueError):
            return None
        limit, window = self.chat_flood_limit
        now = time.monotonic()
        recent = [t for t in self._chat_sends.get(chat, []) if now - t < window]
        if len(recent) >= limit:
            self._chat_sends[chat] = recent
            return max(1, math.ceil(recent[0] + window - now))
        self._chat_sends[chat] = [*recent, now]
        return None

    async def _apply_fault(self, fault: Fault, request: web.Request) -> web.Response | None:
        if fault.kind == "delay":
            await asyncio.sleep(fault.delay)  # the injected slowness itself
            if request.transport is None or request.transport.is_closing():  # the client gave up: not processed
                return _json({"ok": False, "error_code": 599, "description": "client gone before the answer"}, 599)
            return None
        if fault.kind == "reset":
            if request.transport is not None:
                request.transport.abort()
            return _json({"ok": False, "error_code": 599, "description": "connection reset by test"}, 599)
        if fault.kind == "flood":
            description = f"Too Many Requests: retry after {fault.retry_after}"
            body = {"ok": False, "error_code": 429, "description": description,
                    "parameters": {"retry_after": fault.retry_after}}
            return _json(body, 429)
        reason = {500: "Internal Server Error", 502: "Bad Gateway"}.get(fault.status, "Server Error")
        return _json({"ok": False, "error_code": fault.status, "description": reason}, fault.status)

    # ---- Bot API methods ----

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        try:
            return self._chats[int(chat_id)]
        except (KeyError, TypeError, ValueError):
            raise BadRequest("Bad Request: chat not found") from None

    async def _true(self, params: Params) -> bool:
        return True

    async def _get_me(self, params: Params) -> dict[str, Any]:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": True, "can_connect_to_business": False, "has_main_web_app": False}

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        """Long polling: confirm below offset, then wait up to timeout seconds for something new."""
        if self.webhook.get("url"):
            raise BadRequest("Conflict: can't use getUpdates method while webhook is active; "
                             "use deleteWebhook to delete the webhook first", 409)
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if isinstance(params.get("allowed_updates"), list):
            self._allowed = set(params["allowed_updates"]) or None
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._cond:
            while True:
                ready = self._deliverable(limit)
                if ready or timeout == 0:
                    return ready
                if not self.listening:  # gone away or stopping: end parked polls (their clients are cut off)
                    return []
                if generation != self._poll_generation:
                    raise BadRequest("Conflict: terminated by other getUpdates request; "
                                     "make sure that only one bot instance is running", 409)
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    return []
                self.polls_waiting += 1
                self._cond.notify_all()  # lets tests wait until the bot is really polling
                try:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._cond.wait(), remaining)
                finally:
                    self.polls_waiting -= 1

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        """Pending updates of the kinds the bot asked for; others are dropped, as Telegram does."""
        if self._allowed is not None:
            self._updates = [u for u in self._updates if build.kind(u) in self._allowed]
        return self._updates[:limit]

    async def _send_message(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        parsed = validate.message_text(params.get("text"), params.get("parse_mode"))
        markup = validate.reply_markup(params.get("reply_markup"))
        reply_to = params.get("reply_to_message_id") or (params.get("reply_parameters") or {}).get("message_id")
        message: dict[str, Any] = {"message_id": next(self._ids), "from": self.bot_user, "chat": chat,
                                   "date": int(time.time()), "text": parsed.text}
        if parsed.entities:
            message["entities"] = parsed.entities
        if markup:
            message["reply_markup"] = markup
        if reply_to and (chat["id"], int(reply_to)) in self._messages:
            message["reply_to_message"] = self._messages[(chat["id"], int(reply_to))]
        self._messages[(chat["id"], message["message_id"])] = message
        sent = SentMessage(message["message_id"], chat["id"], str(params["text"]), parsed.text,
                           params.get("parse_mode"), parsed.entities, markup, len(self.calls),
                           int(reply_to) if reply_to else None)
        self.sent.append(sent)
        self._by_id[(chat["id"], sent.message_id)] = sent
        return message

    def _own_message(self, params: Params, action: str = "edit") -> SentMessage:
        chat = self._chat(params.get("chat_id"))
        key = (chat["id"], int(params.get("message_id") or 0))
        if key not in self._messages or self._by_id.get(key) is None or self._by_id[key].deleted:
            raise BadRequest(f"Bad Request: message to {action} not found")
        return self._by_id[key]

    async def _edit_message_text(self, params: Params) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            validate.message_text(params.get("text"), params.get("parse_mode"))
            return True
        sent = self._own_message(params)
        parsed = validate.message_text(params.get("text"), params.get("parse_mode"))
        markup = validate.reply_markup(params.get("reply_markup"))
        if (parsed.text, parsed.entities, markup) == (sent.text, sent.entities, sent.reply_markup):
            raise BadRequest(_NOT_MODIFIED)
        return self._apply_edit(sent, str(params["text"]), parsed.text, parsed.entities, params.get("parse_mode"),
                                markup)

    async def _edit_reply_markup(self, params: Params) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            validate.reply_markup(params.get("reply_markup"))
            return True
        sent = self._own_message(params)
        markup = validate.reply_markup(params.get("reply_markup"))
        if markup == sent.reply_markup:
            raise BadRequest(_NOT_MODIFIED)
        return self._apply_edit(sent, sent.html, sent.text, sent.entities, sent.parse_mode, markup)

    def _apply_edit(
        self, sent: SentMessage, html: str, text: str, entities: list[dict[str, Any]], parse_mode: str | None,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        sent.edits.append(Version(sent.html, sent.text, sent.reply_markup))
        sent.html, sent.text, sent.entities = html, text, entities
        sent.parse_mode, sent.reply_markup = parse_mode, markup
        message = dict(self._messages[(sent.chat_id, sent.message_id)])
        message.update(text=text, edit_date=int(time.time()))
        message.pop("entities", None)
        message.pop("reply_markup", None)
        if entities:
            message["entities"] = entities
        if markup:
            message["reply_markup"] = markup
        self._messages[(sent.chat_id, sent.message_id)] = message
        return message

    async def _answer_callback_query(self, params: Params) -> bool:
        qid = str(params.get("callback_query_id"))
        if self._queries.get(qid, {}).get("kind") != "callback" or qid in self.callback_answers:
            raise BadRequest(_OLD_QUERY)
        if len(str(params.get("text") or "")) > validate.MAX_CALLBACK_ANSWER:
            raise BadRequest("Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[qid] = params
        return True

    async def _answer_inline_query(self, params: Params) -> bool:
        qid = str(params.get("inline_query_id"))
        if self._queries.get(qid, {}).get("kind") != "inline" or qid in self.inline_answers:
            raise BadRequest(_OLD_QUERY)
        validate.inline_results(params.get("results"))
        self.inline_answers[qid] = params
        return True

    @staticmethod
    def _scope_key(params: Params) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + str(params.get("language_code") or "")

    async def _set_my_commands(self, params: Params) -> bool:
        self.commands[self._scope_key(params)] = validate.commands(params.get("commands"))
        return True

    async def _get_my_commands(self, params: Params) -> list[dict[str, str]]:
        return self.commands.get(self._scope_key(params), [])

    async def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._scope_key(params), None)
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        self.webhook = {}
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        return True

    async def _set_webhook(self, params: Params) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith(("http://", "https://")):
            raise BadRequest("Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {"url": url, "secret_token": params.get("secret_token")} if url else {}
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        if url and self._updates:
            self._spawn(self._deliver_webhook())
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    async def _send_chat_action(self, params: Params) -> bool:
        self._chat(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise BadRequest("Bad Request: wrong parameter action in request")
        return True

    async def _get_chat_member(self, params: Params) -> dict[str, Any]:
        """A group's admins are "administrator", everyone else "member" (private chats: the user)."""
        chat = self._chat(params.get("chat_id"))
        user_id = int(params.get("user_id") or 0)
        if user_id not in self._users:
            raise BadRequest("Bad Request: PARTICIPANT_ID_INVALID")
        user = self._users[user_id]
        if user_id in self._admins.get(chat["id"], set()):
            rights = dict.fromkeys(("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                                    "can_restrict_members", "can_promote_members", "can_change_info",
                                    "can_invite_users", "can_post_stories", "can_edit_stories",
                                    "can_delete_stories"), True)
            return {"status": "administrator", "user": user, "can_be_edited": False, "is_anonymous": False, **rights}
        return {"status": "member", "user": user}

    async def _delete_message(self, params: Params) -> bool:
        self._own_message(params, "delete").deleted = True
        return True

    async def _deliver_webhook(self) -> None:
        """Webhook mode: POST pending updates in order with the secret header, as Telegram does."""
        url = self.webhook.get("url")
        headers = {"X-Telegram-Bot-Api-Secret-Token": str(self.webhook["secret_token"])} if self.webhook.get(
            "secret_token") else {}
        async with aiohttp.ClientSession() as session:
            while self._updates and self.webhook.get("url") == url:
                update = self._updates[0]
                try:
                    async with session.post(str(url), json=update, headers=headers) as resp:
                        ok = resp.status == 200
                except aiohttp.ClientError:
                    ok = False
                if ok:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    await self._notify()
                else:
                    await asyncio.sleep(0.2)  # retry back-off, as Telegram retries a failing webhook


async def _read_params(request: web.Request) -> Params:
    """Bot API parameters from the query string, a JSON body or a form (PTB sends forms)."""
    params: Params = {k: _coerce(k, v) for k, v in request.query.items()}
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    else:
        form = await request.post()
        params.update({k: _coerce(k, v) for k, v in form.items() if isinstance(v, str)})
    return params


def _coerce(key: str, value: str) -> Any:
    """Form values are strings; JSON-looking ones (numbers, arrays, objects) are decoded."""
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _json(body: dict[str, Any], status: int) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))
