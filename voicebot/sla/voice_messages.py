"""Voice messages: stored from the dialplan's AMI UserEvent, listed for staff, reviewed within 10 minutes.

`[voicebot-voicemail]` sends `UserEvent: VoicebotVoiceMessage` from its `h` extension with `Uniqueid`,
`VoicebotUUID`, `CallerIDNum`, `DNID`, `File`, `Status` (RECORD_STATUS) and `Reason`. A message that was
recorded becomes a `voice_messages` row due for review in 10 minutes. A caller who left nothing (empty
Status: hung up before the beep) or whose call overflowed, or who asked for it (`Callback: 1`), gets a
callback as well — one per phone, see callbacks.py.
"""

from __future__ import annotations

import logging
import uuid
import wave
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot import rules
from voicebot.db.callbacks import CallbackRefused, schedule_callback
from voicebot.db.models import Call, VoiceMessage
from voicebot.db.session import Database
from voicebot.security.masking import mask_phone
from voicebot.sla.callbacks import normalize_phone

log = logging.getLogger(__name__)

EVENT_NAME = "VoicebotVoiceMessage"
RECORDED_STATUSES = {"SILENCE", "SKIP", "TIMEOUT", "HANGUP", "DTMF"}


@dataclass(frozen=True)
class VoiceMessageView:
    id: int
    phone: str | None
    call_id: str | None
    recording_path: str | None
    created_at: datetime
    review_due_at: datetime
    reviewed_at: datetime | None
    reviewed_by: str | None
    overdue: bool

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


def recording_seconds(path: str | None) -> float | None:
    """Length of a recorded WAV as the bot sees it; None (logged) when it cannot read it: a relative or
    unshared VOICEBOT_VM_DIR means Asterisk wrote the message somewhere else."""
    if not path:
        return None
    if not path.startswith("/"):
        log.error("voice message path %r is relative: set an absolute VOICEBOT_VM_DIR in the dialplan", path)
        return None
    try:
        with wave.open(path) as recording:
            return round(recording.getnframes() / recording.getframerate(), 2)
    except (OSError, EOFError, wave.Error) as exc:
        log.warning("voice message not readable here: %s", exc)
        return None


def _as_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def store_voice_message_event(
    db: Database, fields: dict[str, str], now: datetime, *, callback_delay: Any = None
) -> int | None:
    """One `VoicebotVoiceMessage` event → a voice_messages row (id returned) and maybe a callback."""
    async with db.transaction() as session:
        return await apply_voice_message_event(session, voice_message_payload(fields, now, callback_delay))


def voice_message_payload(
    fields: dict[str, str], now: datetime, callback_delay: Any = None
) -> dict[str, Any]:
    """What the journal keeps of the event (op `VOICE_MESSAGE_EVENT`): replayed later, it means the same."""
    delay = callback_delay.total_seconds() if callback_delay is not None else None
    return {"fields": {k: str(v) for k, v in fields.items()}, "now": now, "delay_seconds": delay}


async def apply_voice_message_event(session: AsyncSession, p: dict[str, Any]) -> int | None:
    fields: dict[str, str] = p["fields"]
    now: datetime = p["now"]
    phone = normalize_phone(fields.get("CallerIDNum"))
    status = (fields.get("Status") or "").upper()
    path = fields.get("File") or None
    reason = (fields.get("Reason") or "").lower()
    recorded = status in RECORDED_STATUSES and bool(path)
    wants_callback = (
        fields.get("Callback", "") in ("1", "yes", "true") or reason == "overflow" or not recorded
    )
    message_id = None
    call_id = _as_uuid(fields.get("VoicebotUUID"))
    if call_id is not None and not await session.scalar(select(Call.id).where(Call.id == call_id)):
        call_id = None  # the FK needs a calls row; the uuid alone is kept in the log
    if recorded:
        message_id = await session.scalar(
            insert(VoiceMessage)
            .values(
                call_id=call_id,
                phone=phone or fields.get("CallerIDNum"),
                recording_path=path,
                duration=recording_seconds(path),
                review_due_at=now + rules.VOICE_MESSAGE_REVIEW_WITHIN,
            )
            .returning(VoiceMessage.id)
        )
    if phone and wants_callback:
        kind = "overflow" if reason == "overflow" else ("requested" if recorded else "missed")
        kwargs = (
            {"delay": timedelta(seconds=p["delay_seconds"])} if p.get("delay_seconds") is not None else {}
        )
        try:  # the dialplan's own event on the AMI link stands for the call when it has no row
            await schedule_callback(
                session, phone, kind, missed_at=now, source_call_id=call_id,
                asterisk_event=call_id is None, **kwargs,
            )  # fmt: skip
        except CallbackRefused as exc:  # the message is kept; only the call back is refused
            log.warning(
                "voice message callback refused", extra={"phone": mask_phone(phone), "reason": str(exc)}
            )
    log.info(
        "voice message event",
        extra={"voice_message_id": message_id, "status": status, "uuid": fields.get("VoicebotUUID")},
    )
    return message_id


async def list_voice_messages(
    db: Database, now: datetime, *, pending_only: bool = True, overdue_only: bool = False, limit: int = 100
) -> list[VoiceMessageView]:
    """Newest first; `overdue` = not reviewed and past its 10-minute review deadline."""
    query = select(VoiceMessage).order_by(VoiceMessage.review_due_at).limit(min(max(limit, 1), 1000))
    if pending_only or overdue_only:
        query = query.where(VoiceMessage.reviewed_at.is_(None))
    if overdue_only:
        query = query.where(VoiceMessage.review_due_at < now)
    async with db.session() as session:
        rows = (await session.execute(query)).scalars().all()
    return [_view(row, now) for row in rows]


def _view(row: VoiceMessage, now: datetime) -> VoiceMessageView:
    return VoiceMessageView(
        row.id,
        row.phone,
        str(row.call_id) if row.call_id else None,
        row.recording_path,
        row.created_at,
        row.review_due_at,
        row.reviewed_at,
        row.reviewed_by,
        row.reviewed_at is None and row.review_due_at < now,
    )


async def review_voice_message(
    db: Database, message_id: int, reviewer: str, now: datetime
) -> VoiceMessageView:
    """Mark reviewed (idempotent: the first review stands). Raises LookupError for an unknown id."""
    async with db.transaction() as session:
        await session.execute(
            update(VoiceMessage)
            .where(VoiceMessage.id == message_id, VoiceMessage.reviewed_at.is_(None))
            .values(reviewed_at=now, reviewed_by=reviewer)
        )
        row = await session.get(VoiceMessage, message_id)
        if row is None:
            raise LookupError(f"voice message {message_id} does not exist")
        return _view(row, now)


async def overdue_count(db: Database, now: datetime) -> int:
    async with db.session() as session:
        return int(
            await session.scalar(
                select(func.count()).where(
                    VoiceMessage.reviewed_at.is_(None), VoiceMessage.review_due_at < now
                )
            )
            or 0
        )
