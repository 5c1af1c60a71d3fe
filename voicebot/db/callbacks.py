"""The one writer of new callbacks: missed calls, overflow, voice messages and a dialogue's "call me back"
all queue through `schedule_callback`, and the partial unique index ux_callbacks_open_phone (migration
0005) makes "one open callback per phone" a fact of the database rather than of this code.

Policy (toll fraud: nobody makes us dial a number that never called): a callback goes only to
- the number of a recorded call it answers (`source_call_id`: a `calls` row, inbound or outbound, whose
  phone is this number), or
- a number on the registry account of that call (`account_id`: "перезвоните мне на другой номер" may name
  the resident's own registered phone, never an arbitrary one), or
- a caller id Asterisk itself reported on the authenticated AMI link for a call that reached the queue
  (`asterisk_event=True`: missed/abandoned calls and voice messages with no call row).
Everything else raises CallbackRefused, and so does any number outside Russia or on a premium-rate code
(8-803, 8-809: the caller's line pays us, dialling it pays them). The hourly cap per number applies on top.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot import rules
from voicebot.db.models import AccountPhone, Call, Callback
from voicebot.security import dialling
from voicebot.security.masking import mask_phone

log = logging.getLogger(__name__)

REASONS = ("missed", "abandoned", "overflow", "requested")
DEFAULT_DELAY = timedelta(minutes=1)
DEFAULT_MAX_PER_HOUR = 3  # VOICEBOT_CALLBACK_MAX_PER_HOUR: one number cannot make us dial it all day


class CallbackRefused(ValueError):
    """The call back would go to a number that never called (see the module's policy)."""


OPEN = "status IN ('pending', 'in_progress')"  # the predicate of ux_callbacks_open_phone


async def schedule_callback(
    session: AsyncSession,
    phone: str,
    reason: str,
    *,
    missed_at: datetime | None,
    delay: timedelta = DEFAULT_DELAY,
    due_at: datetime | None = None,
    source_call_id: uuid.UUID | None = None,
    scenario: str | None = None,
    account_id: int | None = None,
    max_per_hour: int = DEFAULT_MAX_PER_HOUR,
    asterisk_event: bool = False,
) -> int | None:
    """The one way to queue a call back: a new one, or the phone's open one brought forward (a partial
    unique index holds "one open callback per phone", so two processes cannot both insert). Due `delay`
    (at most 10 minutes: the promise to a caller we missed) after `missed_at`, or at the `due_at` the
    caller asked for. Returns the callback id.

    Toll-fraud guards: the number must come from a real call (the module's policy, else CallbackRefused),
    and a phone that already had `max_per_hour` callbacks queued in the last hour gets no new one (None,
    logged); bringing its open one forward is still fine."""
    if reason not in REASONS:
        raise ValueError(f"callback reason must be one of {', '.join(REASONS)}")
    if due_at is not None:  # a time the caller asked for
        due = due_at
    elif missed_at is None or delay > rules.CALLBACK_WITHIN:
        raise ValueError("a callback must be due within 10 minutes of the missed call")
    else:
        due = missed_at + delay
    await _check_provenance(session, phone, source_call_id, account_id, asterisk_event)
    if await _over_hourly_cap(session, phone, max_per_hour):
        log.warning(
            "callback not queued: hourly cap per number reached",
            extra={"phone": mask_phone(phone), "cap": max_per_hour, "reason": reason},
        )
        return None
    values = {
        "phone": phone, "reason": reason, "scenario": scenario, "account_id": account_id,
        "source_call_id": source_call_id, "missed_at": missed_at, "due_at": due, "status": "pending",
    }  # fmt: skip
    statement = pg_insert(Callback).values(**values)
    merged = statement.on_conflict_do_update(
        index_elements=[Callback.phone],
        index_where=text(OPEN),  # literally the index's predicate, or PostgreSQL will not match it
        set_={
            "due_at": func.least(Callback.due_at, statement.excluded.due_at),
            "source_call_id": func.coalesce(Callback.source_call_id, statement.excluded.source_call_id),
        },
    ).returning(Callback.id)
    callback_id = int(await session.scalar(merged))
    log.info(
        "callback queued", extra={"callback_id": callback_id, "reason": reason, "due_at": due.isoformat()}
    )
    return callback_id


async def _check_provenance(
    session: AsyncSession,
    phone: str,
    source_call_id: uuid.UUID | None,
    account_id: int | None,
    asterisk_event: bool,
) -> None:
    if dialling.refusal(phone) is not None:
        raise CallbackRefused("call backs go to Russian numbers only, never to premium-rate codes")
    if source_call_id is None:
        if asterisk_event:
            return
        raise CallbackRefused("a call back must answer a recorded call")
    caller = await session.scalar(select(Call.phone).where(Call.id == source_call_id))
    if caller is None:
        raise CallbackRefused("a call back must answer a recorded call")
    if _digits(caller) == _digits(phone):
        return
    if account_id is not None:
        registered = await session.scalars(
            select(AccountPhone.phone).where(AccountPhone.account_id == account_id)
        )
        if any(_digits(number) == _digits(phone) for number in registered):
            return
    raise CallbackRefused("a call back goes to the caller's number or a number on the resident's account")


def _digits(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "7" + digits[1:] if len(digits) == 11 and digits[0] == "8" else digits


async def _over_hourly_cap(session: AsyncSession, phone: str, cap: int) -> bool:
    """True when a new callback would exceed the cap: `cap` queued within the hour, none open to merge."""
    recent = (
        select(func.count())
        .select_from(Callback)
        .where(Callback.phone == phone, Callback.created_at > func.now() - timedelta(hours=1))
    )
    if await session.scalar(recent) < cap:
        return False
    still_open = select(Callback.id).where(Callback.phone == phone, text(OPEN)).limit(1)
    return await session.scalar(still_open) is None
