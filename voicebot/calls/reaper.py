"""Closes calls left `active` by a crash, a kill -9 or an outage: outcome `interrupted`, and the caller of
an inbound one gets a callback (a missed call, in law and in practice).

A call is dead when no process runs it: it belongs to this process (`meta.node`) but started before
this process did, or it is older than `stale_call_seconds` whoever ran it. Calls this process is running
or expecting (the ledger's) are never touched, nor MAX conversations waiting for the resident's next
message (kept in `max_conversations`, they continue after a restart; the MAX idle sweep ends them).
The reaper waits while the local journal still holds records: the end of a call may be among them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from voicebot.calls.records import CallRecords
from voicebot.db.callbacks import schedule_callback
from voicebot.metrics import CALLS_REAPED
from voicebot.sla.callbacks import normalize_phone

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"

_REAP = text(
    """
    WITH dead AS (
        SELECT id FROM calls
         WHERE status = 'active' AND NOT (id = ANY(:live))
           AND ((meta->>'node' = :node AND started_at < :born) OR started_at < :stale)
           AND NOT EXISTS (SELECT 1 FROM max_conversations m
                            WHERE m.call_id = calls.id AND m.state IS NOT NULL AND m.seen_at >= :stale)
         ORDER BY started_at
         LIMIT 500
         FOR UPDATE SKIP LOCKED)
    UPDATE calls c
       SET status = 'ended', outcome = :outcome, ended_at = :now,
           meta = COALESCE(c.meta, '{}'::jsonb) || '{"reaped": true}'::jsonb
      FROM dead WHERE c.id = dead.id
    RETURNING c.id, c.direction, c.phone, c.scenario, c.started_at
    """
).bindparams(bindparam("live", type_=ARRAY(UUID(as_uuid=True))))


class Reaper:
    def __init__(
        self,
        records: CallRecords,
        *,
        node: str,
        stale_after: timedelta,
        every: float = 60.0,
        callback_delay: timedelta = timedelta(minutes=1),
        born: datetime | None = None,
    ) -> None:
        self.records = records
        self.node = node
        self.stale_after = stale_after
        self.every = every
        self.callback_delay = callback_delay
        self.born = born or datetime.now(UTC)  # calls of this node started before this are dead

    def _live(self) -> list[uuid.UUID]:
        ledger = self.records.ledger
        return [*ledger.active, *ledger.expected]

    async def reap_once(self) -> int:
        """Close the dead calls found now; returns how many (0 while the journal still replays)."""
        replayer = self.records.replayer
        if replayer is not None and (replayer.backlog != 0 or not replayer.database_up):
            return 0
        now = datetime.now(UTC)
        params = {"live": self._live(), "node": self.node, "born": self.born, "stale": now - self.stale_after,
                  "outcome": INTERRUPTED, "now": now}  # fmt: skip
        async with self.records.db.transaction() as session:
            reaped = (await session.execute(_REAP, params)).all()
            for row in reaped:
                phone = normalize_phone(row.phone)
                if row.direction == "inbound" and phone:
                    await schedule_callback(session, phone, "missed", missed_at=now, delay=self.callback_delay,
                                            source_call_id=row.id, scenario=row.scenario)  # fmt: skip
        if reaped:
            CALLS_REAPED.inc(len(reaped))
            log.warning("calls left active closed as interrupted", extra={"calls": len(reaped)})
        return len(reaped)

    async def run(self) -> None:
        """Soon after start (once the journal is replayed), then every `every` seconds."""
        first = True
        while True:
            try:
                reaped = await self.reap_once()
            except Exception as exc:  # the database may be away; next round
                log.warning("reaper round failed", extra={"error": repr(exc)})
                reaped = None
            waiting = reaped == 0 and self._journal_pending()
            await asyncio.sleep(1.0 if first and waiting else self.every)
            first = first and waiting

    def _journal_pending(self) -> bool:
        replayer = self.records.replayer
        return replayer is not None and (replayer.backlog != 0 or not replayer.database_up)
