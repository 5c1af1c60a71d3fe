"""MAX Bot API updates (https://dev.max.ru/docs-api/objects/Update) read into one typed event.

Only what the channel acts on is kept: a resident's text, a pressed inline button, a shared contact and
the start of a dialog with the bot. A shared contact yields a phone only when the card is the sender's
own (`max_info.user_id` is the sender): a forwarded card of someone else must not identify anyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from voicebot.values import parse_phone

EventKind = Literal["text", "button", "contact", "start", "ignored"]

_TEL = re.compile(r"^TEL[^:]*:(.+)$", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class MaxEvent:
    kind: EventKind
    user_id: int | None = None
    name: str = ""
    chat_type: str = "dialog"
    text: str = ""
    payload: str | None = None
    callback_id: str | None = None
    message_id: str | None = None
    phone: str | None = None
    foreign_contact: bool = False
    update_type: str = ""


def parse_update(update: dict[str, Any]) -> MaxEvent:
    """One raw update as the channel's event; anything else becomes an `ignored` event."""
    kind = str(update.get("update_type") or "")
    if kind == "bot_started":
        user = update.get("user") or {}
        return MaxEvent("start", _user_id(user), _name(user), update_type=kind)
    if kind == "message_callback":
        callback = update.get("callback") or {}
        user = callback.get("user") or {}
        body = (update.get("message") or {}).get("body") or {}
        return MaxEvent(
            "button",
            _user_id(user),
            _name(user),
            payload=str(callback.get("payload") or ""),
            callback_id=callback.get("callback_id"),
            message_id=body.get("mid"),
            update_type=kind,
        )
    if kind == "message_created":
        return _message(update.get("message") or {}, kind)
    return MaxEvent("ignored", update_type=kind)


def _message(message: dict[str, Any], kind: str) -> MaxEvent:
    sender = message.get("sender") or {}
    recipient = message.get("recipient") or {}
    body = message.get("body") or {}
    user_id = _user_id(sender)
    chat_type = str(recipient.get("chat_type") or "dialog")
    if sender.get("is_bot") or chat_type != "dialog":
        return MaxEvent("ignored", user_id, chat_type=chat_type, update_type=kind)  # house chats: not ours
    for attachment in body.get("attachments") or []:
        if attachment.get("type") == "contact":
            return _contact(attachment.get("payload") or {}, user_id, _name(sender), kind)
    text = str(body.get("text") or "").strip()
    if not text:
        return MaxEvent("ignored", user_id, update_type=kind)
    return MaxEvent("text", user_id, _name(sender), text=text, message_id=body.get("mid"), update_type=kind)


def _contact(payload: dict[str, Any], user_id: int | None, name: str, kind: str) -> MaxEvent:
    owner = _user_id(payload.get("max_info") or {})
    if owner is None or owner != user_id:
        return MaxEvent("contact", user_id, name, foreign_contact=True, update_type=kind)
    match = _TEL.search(str(payload.get("vcf_info") or ""))
    phone = None
    if match:
        try:
            phone = parse_phone(match.group(1))
        except ValueError:
            phone = None
    return MaxEvent("contact", user_id, name, phone=phone, update_type=kind)


def _user_id(user: dict[str, Any]) -> int | None:
    value = user.get("user_id")
    return int(value) if isinstance(value, int | str) and str(value).lstrip("-").isdigit() else None


def _name(user: dict[str, Any]) -> str:
    return str(user.get("first_name") or user.get("name") or "")


def update_key(update: dict[str, Any]) -> str:
    """What tells one delivery of an update from another: MAX delivers at least once (a long poll cut off
    by a restart, a webhook retried), so the channel skips a key it has already handled."""
    callback = update.get("callback") or {}
    if callback.get("callback_id"):
        return f"cb:{callback['callback_id']}"
    mid = ((update.get("message") or {}).get("body") or {}).get("mid")
    if mid:
        return f"m:{mid}"
    return f"{update.get('update_type')}:{update.get('timestamp')}"
