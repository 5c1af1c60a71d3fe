"""The MAX Bot API client the channel uses: a small typed facade over `maxapi.Bot`.

`maxapi` does the HTTP work (auth header, retries on 502/503/504, request and response models); this
module keeps the channel's vocabulary small: send a text with buttons to a resident or a house chat,
edit or delete it, answer a pressed button, fetch updates, manage the webhook subscription.
`base_url` points it at any server speaking the API (the emulator in tests).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from maxapi import Bot
from maxapi.types import CallbackButton, RequestContactButton
from maxapi.types.attachments.attachment import ButtonsPayload
from maxapi.types.updates.message_callback import MessageForCallback

MAX_TEXT = 3999  # the API rejects texts of 4000 characters and more


@dataclass(frozen=True)
class Button:
    """An inline button: `payload` comes back in the callback; `contact` asks for the phone instead."""

    text: str
    payload: str = ""
    contact: bool = False


Keyboard = Sequence[Sequence[Button]]


class MaxClient:
    def __init__(self, token: str, base_url: str) -> None:
        if not token:
            raise ValueError("MAX bot token is empty: set VOICEBOT_MAX_BOT_TOKEN")
        self.bot = Bot(token=token, auto_requests=False, auto_check_subscriptions=False)
        self.bot.set_api_url(base_url)

    async def close(self) -> None:
        await self.bot.close_session()

    async def send(
        self, text: str, *, user_id: int | None = None, chat_id: int | None = None, keyboard: Keyboard = ()
    ) -> str:
        """Send a message; returns its id (`mid`) for later edits."""
        sent = await self.bot.send_message(
            chat_id=chat_id, user_id=user_id, text=_fit(text), attachments=_attachments(keyboard)
        )
        if sent is None or sent.message.body is None:
            raise RuntimeError("MAX did not return the sent message")
        return sent.message.body.mid

    async def edit(self, message_id: str, text: str, *, keyboard: Keyboard = ()) -> None:
        await self.bot.edit_message(message_id, text=_fit(text), attachments=_attachments(keyboard))

    async def delete(self, message_id: str) -> None:
        await self.bot.delete_message(message_id)

    async def answer_button(self, callback_id: str, *, shown_text: str | None = None) -> None:
        """Acknowledge a pressed button; with `shown_text` the message is replaced by it, without buttons."""
        message = MessageForCallback(text=_fit(shown_text), attachments=[]) if shown_text else None
        await self.bot.send_callback(callback_id, message=message, notification=None if message else "✓")

    async def chat_members(self, chat_id: int) -> int:
        """How many people a (house) chat has: the reach of a post there."""
        chat = await self.bot.get_chat_by_id(chat_id)
        return int(chat.participants_count or 0)

    async def updates(self, marker: int | None, wait_seconds: int) -> tuple[list[dict[str, Any]], int | None]:
        raw = await self.bot.get_updates(marker=marker, timeout=wait_seconds, limit=100)
        return list(raw.get("updates") or []), raw.get("marker", marker)

    async def subscribe(self, url: str, secret: str | None) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # plain http is refused by MAX itself; local tests use it
            await self.bot.subscribe_webhook(url, secret=secret or None)

    async def unsubscribe(self, url: str) -> None:
        await self.bot.unsubscribe_webhook(url)


def _fit(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _attachments(keyboard: Keyboard) -> list[Any]:
    rows = [[_button(b) for b in row] for row in keyboard if row]
    return [ButtonsPayload(buttons=rows).pack()] if rows else []


def _button(button: Button) -> Any:
    if button.contact:
        return RequestContactButton(text=button.text)
    return CallbackButton(text=button.text[:128], payload=button.payload[:1024])
