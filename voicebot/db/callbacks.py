"""The one writer of new callbacks: missed calls, overflow, voice messages and a dialogue's "call me back"
all queue through `schedule_callback`, and the partial unique index ux_callbacks_open_phone (migration
0005) makes "one open callback per phone" a fact of the database rather than of this code."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot import rules
from voicebot.db.models import Callback

log = logging.getLogger(__name__)

REASONS = ("missed", "abandoned", "overflow", "requested")
DEFAULT_DELAY = timedelta(minutes=1)


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
) -> int:
    """The one way to queue a call back: a new one, or the phone's open one brought forward (a partial
    unique index holds "one open callback per phone", so two processes cannot both insert). Due `delay`
    (at most 10 minutes: the promise to a caller we missed) after `missed_at`, or at the `due_at` the
    caller asked for. Returns the callback id."""
    if reason not in REASONS:
        raise ValueError(f"callback reason must be one of {', '.join(REASONS)}")
    if due_at is not None:  # a time the caller asked for
        due = due_at
    elif missed_at is None or delay > rules.CALLBACK_WITHIN:
        raise ValueError("a callback must be due within 10 minutes of the missed call")
    else:
        due = missed_at + delay
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
