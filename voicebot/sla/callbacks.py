"""The callback queue: missed, abandoned and overflowed calls are called back within 10 minutes.

Rows in `callbacks` are created by the FastAGI router (overflow), the AMI watcher below (a caller who
hung up before anyone answered, or gave up in the operators' queue), voice messages and the dialogues
themselves (a resident who asked to be called back). One pending callback per phone: a second miss from
the same number does not queue a second call, it only brings the first one forward.

Workers claim due rows with `FOR UPDATE SKIP LOCKED` and a lease (owner, expiry) exactly like campaign
contacts; the dialer serves this queue before any campaign, so callbacks outrank campaign calls.
Calls are only placed inside the legal calling hours of the company's time zone.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text, update

from voicebot import rules
from voicebot.asterisk.ami_originate import OriginateResult
from voicebot.db.models import Callback
from voicebot.db.session import Database
from voicebot.values import parse_phone

log = logging.getLogger(__name__)


def normalize_phone(raw: str | None) -> str | None:
    """E.164 for a dialable caller id; None for anonymous or junk numbers."""
    if not raw or raw in ("unknown", "anonymous", "<unknown>"):
        return None
    try:
        return parse_phone(raw)
    except ValueError:
        return None


@dataclass(frozen=True)
class ClaimedCallback:
    id: int
    phone: str
    reason: str
    scenario: str | None
    attempts: int  # including the one about to be made
    call_id: uuid.UUID
    missed_at: datetime | None


_CLAIM = text(
    """
    WITH picked AS (
        SELECT id FROM callbacks
         WHERE (status = 'pending' AND due_at <= :now)
            OR (status = 'in_progress' AND lease_expires_at <= :now)
         ORDER BY due_at, id
         LIMIT :n
         FOR UPDATE SKIP LOCKED)
    UPDATE callbacks c
       SET status = 'in_progress', lease_owner = :worker, lease_expires_at = :lease
      FROM picked WHERE c.id = picked.id
    RETURNING c.id, c.phone, c.reason, c.scenario, c.attempts, c.missed_at
    """
)


class CallbackQueue:
    def __init__(
        self,
        db: Database,
        *,
        worker: str,
        timezone: str = "Europe/Moscow",
        max_attempts: int = 3,
        retry_delay: timedelta = timedelta(minutes=2),
        lease: timedelta = timedelta(seconds=90),
    ) -> None:
        self.db = db
        self.worker = worker
        self.zone = ZoneInfo(timezone)
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.lease = lease

    async def claim(self, limit: int, now: datetime) -> list[ClaimedCallback]:
        """Lease due callbacks; those outside the calling hours go back with the window's start."""
        if limit <= 0:
            return []
        params = {"now": now, "n": limit, "worker": self.worker, "lease": now + self.lease}
        async with self.db.transaction() as session:
            rows = (await session.execute(_CLAIM, params)).all()
            if not rows:
                return []
            local = now.astimezone(self.zone)
            if not rules.within_calling_hours(local):
                opens = rules.next_calling_time(local).astimezone(now.tzinfo)
                await session.execute(
                    update(Callback)
                    .where(Callback.id.in_([r.id for r in rows]))
                    .values(status="pending", due_at=opens, lease_owner=None, lease_expires_at=None)
                )
                return []
            claimed = [
                ClaimedCallback(
                    r.id, r.phone, r.reason, r.scenario, r.attempts + 1, uuid.uuid4(), r.missed_at
                )
                for r in rows
            ]
            table = Callback.__table__
            await session.execute(
                table.update()
                .where(table.c.id == bindparam("cb"))
                .values(attempts=bindparam("n"), last_attempt_at=now),
                [{"cb": c.id, "n": c.attempts} for c in claimed],
            )
        return claimed

    async def record(self, callback: ClaimedCallback, result: OriginateResult, now: datetime) -> None:
        """Answered: done. Otherwise retried after `retry_delay` until `max_attempts`, then failed."""
        values: dict[str, Any] = {"result": result.value, "lease_owner": None, "lease_expires_at": None}
        if result is OriginateResult.ANSWERED:
            values["status"] = "done"
        elif callback.attempts >= self.max_attempts:
            values["status"] = "failed"
        else:
            values |= {"status": "pending", "due_at": now + self.retry_delay}
        async with self.db.transaction() as session:
            await session.execute(
                update(Callback)
                .where(Callback.id == callback.id, Callback.lease_owner == self.worker)
                .values(**values)
            )
        log.info("callback attempt", extra={"callback_id": callback.id, "result": result.value})

    async def release(self, callback: ClaimedCallback, now: datetime, *, retry_in: timedelta) -> None:
        """The call could not even be tried (AMI down): give the attempt back."""
        async with self.db.transaction() as session:
            await session.execute(
                update(Callback)
                .where(Callback.id == callback.id, Callback.lease_owner == self.worker)
                .values(
                    status="pending",
                    attempts=callback.attempts - 1,
                    due_at=now + retry_in,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )

    async def link_call(self, callback_id: int, call_id: uuid.UUID) -> None:
        """Point the callback at the dialogue's calls row once it exists."""
        async with self.db.transaction() as session:
            await session.execute(
                text(
                    "UPDATE callbacks SET placed_call_id = :call WHERE id = :cb "
                    "AND EXISTS (SELECT 1 FROM calls WHERE id = :call)"
                ),
                {"call": call_id, "cb": callback_id},
            )

    async def renew(self, ids: list[int], now: datetime) -> None:
        if not ids:
            return
        async with self.db.transaction() as session:
            await session.execute(
                update(Callback)
                .where(Callback.id.in_(ids), Callback.lease_owner == self.worker)
                .values(lease_expires_at=now + self.lease)
            )
