"""A MAX Bot API emulator: an HTTP server on a free port that speaks the documented formats.

The bot under test talks to it through its real client (maxapi pointed at this base URL). Tests play
residents: they write text, press inline buttons, share their contact, and read what the bot sent. Updates
reach the bot by long polling (`GET /updates` with `marker` and `timeout`) or, after `POST /subscriptions`,
as webhook deliveries carrying the `X-Max-Bot-Api-Secret` header. Every request the bot makes is logged.

Endpoints (https://dev.max.ru/docs-api): GET /me, GET /updates, POST/PUT/DELETE /messages, GET /messages,
POST /answers, GET/POST/DELETE /subscriptions, GET /chats/{chat_id}.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

BOT_USER_ID = 900000001


@dataclass
class SentMessage:
    mid: str
    chat_id: int
    user_id: int | None
    chat_type: str
    text: str
    attachments: list[dict[str, Any]]
    edits: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Every button of the message's inline keyboard, row by row flattened."""
        found: list[dict[str, Any]] = []
        for attachment in self.attachments:
            if attachment.get("type") == "inline_keyboard":
                for row in attachment["payload"]["buttons"]:
                    found.extend(row)
        return found

    def button(self, text: str) -> dict[str, Any]:
        for candidate in self.buttons:
            if candidate["text"] == text or candidate["text"].startswith(text):
                return candidate
        raise AssertionError(f"no button {text!r} in {[b['text'] for b in self.buttons]}")


@dataclass
class ApiRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorized: bool


class MaxApiEmulator:
    """Run with `async with MaxApiEmulator(token) as api:`; `api.url` is the base URL for the bot."""

    def __init__(self, token: str = "test-max-token") -> None:
        self.token = token
        self.requests: list[ApiRequest] = []
        self.messages: dict[str, SentMessage] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.subscription: dict[str, Any] | None = None
        self.webhook_responses: list[int] = []
        self._updates: list[tuple[int, dict[str, Any]]] = []
        self._marker = itertools.count(1)
        self._mids = itertools.count(1)
        self._seq = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""

    # --- lifecycle ----------------------------------------------------------------------------------------

    async def __aenter__(self) -> MaxApiEmulator:
        app = web.Application()
        app.router.add_get("/me", self._me)
        app.router.add_get("/updates", self._get_updates)
        app.router.add_post("/messages", self._post_message)
        app.router.add_put("/messages", self._put_message)
        app.router.add_delete("/messages", self._delete_message)
        app.router.add_get("/messages", self._get_messages)
        app.router.add_post("/answers", self._post_answer)
        app.router.add_get("/subscriptions", self._get_subscriptions)
        app.router.add_post("/subscriptions", self._post_subscription)
        app.router.add_delete("/subscriptions", self._delete_subscription)
        app.router.add_get("/chats/{chat_id}", self._get_chat)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        async with self._changed:
            self._changed.notify_all()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what residents do --------------------------------------------------------------------------------

    def add_chat(self, chat_id: int, title: str, members: int = 0) -> None:
        """A house chat the bot is a member (admin) of."""
        self.chats[chat_id] = {
            "chat_id": chat_id,
            "type": "chat",
            "status": "active",
            "title": title,
            "icon": None,
            "last_event_time": _now_ms(),
            "participants_count": members,
            "is_public": False,
        }

    async def start_bot(self, user_id: int, name: str = "Житель") -> None:
        await self._push(
            {
                "update_type": "bot_started",
                "timestamp": _now_ms(),
                "chat_id": _dialog_chat(user_id),
                "user": _user(user_id, name),
                "payload": None,
                "user_locale": "ru",
            }
        )

    async def write(self, user_id: int, text: str, name: str = "Житель") -> None:
        await self._push(self._message_created(user_id, name, text, []))

    async def share_contact(
        self, user_id: int, phone: str, name: str = "Житель", *, owner_id: int | None = None
    ) -> None:
        """The resident presses the request-contact button; `owner_id` forwards someone else's card."""
        owner = owner_id if owner_id is not None else user_id
        vcf = f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{name}\r\nTEL;TYPE=cell:{phone}\r\nEND:VCARD\r\n"
        attachment = {"type": "contact", "payload": {"vcf_info": vcf, "max_info": _user(owner, name)}}
        await self._push(self._message_created(user_id, name, None, [attachment]))

    async def press(self, user_id: int, message: SentMessage, button_text: str, name: str = "Житель") -> None:
        button = message.button(button_text)
        if button["type"] != "callback":
            raise AssertionError(f"button {button_text!r} is a {button['type']} button")
        await self._push(
            {
                "update_type": "message_callback",
                "timestamp": _now_ms(),
                "callback": {
                    "timestamp": _now_ms(),
                    "callback_id": f"cb.{next(self._mids)}",
                    "payload": button.get("payload"),
                    "user": _user(user_id, name),
                },
                "message": self._message_json(message),
                "user_locale": "ru",
            }
        )

    # --- what tests read ----------------------------------------------------------------------------------

    def sent_to(self, user_id: int) -> list[SentMessage]:
        return [m for m in self.messages.values() if m.user_id == user_id and not m.deleted]

    def sent_to_chat(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.messages.values() if m.chat_id == chat_id and m.chat_type == "chat"]

    async def wait_for(self, user_id: int, count: int, within: float = 20.0) -> list[SentMessage]:
        """Wait until the bot has sent `count` messages to the user in all, and return them."""
        deadline = time.monotonic() + within
        async with self._changed:
            while len(self.sent_to(user_id)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    texts = [m.text for m in self.sent_to(user_id)]
                    raise AssertionError(f"bot sent {len(texts)} of {count} messages to {user_id}: {texts}")
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    continue
        return self.sent_to(user_id)

    # --- internals ----------------------------------------------------------------------------------------

    def _message_created(
        self, user_id: int, name: str, text: str | None, attachments: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "update_type": "message_created",
            "timestamp": _now_ms(),
            "message": {
                "sender": _user(user_id, name),
                "recipient": {"chat_id": _dialog_chat(user_id), "chat_type": "dialog", "user_id": BOT_USER_ID},
                "timestamp": _now_ms(),
                "body": {"mid": f"mid.u{next(self._mids)}", "seq": next(self._seq), "text": text,
                         "attachments": attachments},
            },
            "user_locale": "ru",
        }  # fmt: skip

    async def _push(self, update: dict[str, Any]) -> None:
        if self.subscription is not None:
            await self._deliver(update)
            return
        async with self._changed:
            self._updates.append((next(self._marker), update))
            self._changed.notify_all()

    async def _deliver(self, update: dict[str, Any]) -> None:
        assert self._http is not None and self.subscription is not None
        headers = {}
        if self.subscription.get("secret"):
            headers["X-Max-Bot-Api-Secret"] = self.subscription["secret"]
        try:
            async with self._http.post(self.subscription["url"], json=update, headers=headers) as response:
                self.webhook_responses.append(response.status)
        except aiohttp.ClientError:
            self.webhook_responses.append(0)  # the real platform retries later; tests see the failure

    def _log(self, request: web.Request, body: Any) -> bool:
        authorized = (
            request.headers.get("Authorization") == self.token
            or request.query.get("access_token") == self.token
        )
        self.requests.append(ApiRequest(request.method, request.path, dict(request.query), body, authorized))
        return authorized

    async def _body(self, request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        return await request.json()

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        recipient: dict[str, Any] = {"chat_id": message.chat_id, "chat_type": message.chat_type}
        if message.user_id is not None:
            recipient["user_id"] = message.user_id
        return {
            "sender": _user(BOT_USER_ID, "Бот УК", is_bot=True),
            "recipient": recipient,
            "timestamp": _now_ms(),
            "body": {"mid": message.mid, "seq": next(self._seq), "text": message.text,
                     "attachments": message.attachments},
        }  # fmt: skip

    async def _me(self, request: web.Request) -> web.Response:
        if not self._log(request, None):
            return _unauthorized()
        return web.json_response(_user(BOT_USER_ID, "Бот УК", is_bot=True))

    async def _get_updates(self, request: web.Request) -> web.Response:
        if not self._log(request, None):
            return _unauthorized()
        marker = int(request.query.get("marker", 0) or 0)
        timeout = min(float(request.query.get("timeout", 30)), 90.0)
        limit = int(request.query.get("limit", 100))
        async with self._changed:
            self._updates = [(m, u) for m, u in self._updates if m >= marker]
            if not self._updates:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)
            batch = self._updates[:limit]
        next_marker = batch[-1][0] + 1 if batch else (marker or None)
        return web.json_response({"updates": [u for _, u in batch], "marker": next_marker})

    async def _post_message(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if not self._log(request, body):
            return _unauthorized()
        chat_id = request.query.get("chat_id")
        user_id = request.query.get("user_id")
        if chat_id is None and user_id is None:
            return _error(400, "chat_id or user_id is required")
        if chat_id is not None and int(chat_id) not in self.chats and int(chat_id) > 0:
            return _error(404, f"chat {chat_id} not found")
        text = (body or {}).get("text") or ""
        if len(text) > 4000:
            return _error(400, "text is longer than 4000 characters")
        message = SentMessage(
            mid=f"mid.b{next(self._mids)}",
            chat_id=int(chat_id) if chat_id is not None else _dialog_chat(int(user_id or 0)),
            user_id=int(user_id) if user_id is not None else None,
            chat_type="chat" if chat_id is not None else "dialog",
            text=text,
            attachments=(body or {}).get("attachments") or [],
        )
        self.messages[message.mid] = message
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"message": self._message_json(message)})

    async def _put_message(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if not self._log(request, body):
            return _unauthorized()
        message = self.messages.get(request.query.get("message_id", ""))
        if message is None or message.deleted:
            return _error(404, "message not found")
        message.edits.append(message.text)
        if (body or {}).get("text") is not None:
            message.text = body["text"]
        if (body or {}).get("attachments") is not None:
            message.attachments = body["attachments"]
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"success": True})

    async def _delete_message(self, request: web.Request) -> web.Response:
        if not self._log(request, None):
            return _unauthorized()
        message = self.messages.get(request.query.get("message_id", ""))
        if message is None or message.deleted:
            return _error(404, "message not found")
        message.deleted = True
        return web.json_response({"success": True})

    async def _get_messages(self, request: web.Request) -> web.Response:
        if not self._log(request, None):
            return _unauthorized()
        chat_id = int(request.query.get("chat_id", 0))
        found = [self._message_json(m) for m in self.messages.values() if m.chat_id == chat_id]
        return web.json_response({"messages": found})

    async def _post_answer(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if not self._log(request, body):
            return _unauthorized()
        if not request.query.get("callback_id"):
            return _error(400, "callback_id is required")
        self.callback_answers.append({"callback_id": request.query["callback_id"], **(body or {})})
        return web.json_response({"success": True})

    async def _get_subscriptions(self, request: web.Request) -> web.Response:
        if not self._log(request, None):
            return _unauthorized()
        subs = [self.subscription] if self.subscription else []
        return web.json_response({"subscriptions": subs})

    async def _post_subscription(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if not self._log(request, body):
            return _unauthorized()
        if not (body or {}).get("url", "").startswith(("http://", "https://")):
            return _error(400, "url is required")
        self.subscription = {"url": body["url"], "time": _now_ms(), "secret": body.get("secret"),
                             "update_types": body.get("update_types")}  # fmt: skip
        pending, self._updates = self._updates, []
        for _, update in pending:
            await self._deliver(update)
        return web.json_response({"success": True})

    async def _delete_subscription(self, request: web.Request) -> web.Response:
        if not self._log(request, None):
            return _unauthorized()
        self.subscription = None
        return web.json_response({"success": True})

    async def _get_chat(self, request: web.Request) -> web.Response:
        if not self._log(request, None):
            return _unauthorized()
        chat = self.chats.get(int(request.match_info["chat_id"]))
        if chat is None:
            return _error(404, "chat not found")
        return web.json_response(chat)


def _user(user_id: int, name: str, *, is_bot: bool = False) -> dict[str, Any]:
    return {"user_id": user_id, "first_name": name, "name": name, "is_bot": is_bot,
            "last_activity_time": _now_ms()}  # fmt: skip


def _dialog_chat(user_id: int) -> int:
    return -user_id  # dialogs have their own chat ids; negative keeps them apart from house chats here


def _now_ms() -> int:
    return int(time.time() * 1000)


def _unauthorized() -> web.Response:
    return _error(401, "Invalid access_token")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"code": str(status), "message": message}, status=status)
