"""The call ledger: the one owner of the `calls` row.

Every path that learns something about a call reports it here as an event: the FastAGI router
(`offered`), the dialogue runtime (`started`, `scenario`, `step`, `ended`), the voice channel (`media`),
the overflow path and the dialer (`unserved`: calls no dialogue served — overflow, missed, busy, no
answer). The ledger turns each event into one `call.upsert` record written through the writer (the local
journal in `serve`), keeps the calls in progress in memory (metrics, the reaper, live views) and fires
the "nobody picked this call up" timer of an offered call, instead of anybody polling the table.

Each upsert carries the full identity of the call, so records replayed after an outage land right
whatever order the database sees them in; `offered_at` only ever moves earlier and `meta` is merged.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal_column
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot.db.models import Call
from voicebot.journal.writer import Writer
from voicebot.metrics import CALLS_ENDED, CALLS_IN_PROGRESS

log = logging.getLogger(__name__)

CALL_UPSERT = "call.upsert"
_COLUMNS = frozenset(c.name for c in Call.__table__.columns) - {"id", "meta"}


def node_name(port: int | None = None) -> str:
    """Which process runs a call: host and AudioSocket port (two processes on a host need two ports)."""
    host = socket.gethostname()
    return f"{host}:{port}" if port else host


async def apply_call_upsert(session: AsyncSession, payload: dict[str, Any]) -> None:
    values = {k: v for k, v in payload["values"].items() if k in _COLUMNS}
    update = [k for k in payload.get("update", ()) if k in values]
    meta = payload.get("meta") or {}
    stmt = pg_insert(Call).values(id=payload["id"], meta=meta, **values)
    excluded = stmt.excluded
    changes: dict[str, Any] = {k: excluded[k] for k in update}
    if "offered_at" in changes:  # the earliest sighting of the call wins
        changes["offered_at"] = func.least(Call.offered_at, excluded.offered_at)
    if meta:
        changes["meta"] = func.coalesce(Call.meta, literal_column("'{}'::jsonb")).op("||")(excluded.meta)
    if changes:
        await session.execute(stmt.on_conflict_do_update(index_elements=[Call.id], set_=changes))
    else:
        await session.execute(stmt.on_conflict_do_nothing(index_elements=[Call.id]))


CALL_OPS = {CALL_UPSERT: apply_call_upsert}


@dataclass
class LiveCall:
    id: uuid.UUID
    channel: str
    scenario: str | None
    direction: str
    identity: dict[str, Any]  # the insert values every later upsert repeats
    step: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


Listener = Callable[[str, LiveCall], None]


class CallLedger:
    def __init__(self, writer: Writer, *, node: str | None = None) -> None:
        self.writer = writer
        self.node = node or node_name()
        self.active: dict[uuid.UUID, LiveCall] = {}
        self._ended: dict[uuid.UUID, LiveCall] = {}  # recently ended: late events (media) keep the identity
        self._expected: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._listeners: list[Listener] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def expected(self) -> list[uuid.UUID]:
        """Calls offered to a dialogue that has not started yet."""
        return list(self._expected)

    def subscribe(self, listener: Listener) -> None:
        """`listener(event, call)` for started / scenario / step / ended (live views)."""
        self._listeners.append(listener)

    # --- events ---------------------------------------------------------------------------------------
    async def offered(
        self,
        call_id: uuid.UUID,
        *,
        scenario: str,
        phone: str | None,
        dialed: str | None,
        offered_at: datetime,
        missed_after: float | None = None,
        on_missed: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        """An inbound call routed to a dialogue; `on_missed` runs if no dialogue starts within the time."""
        if missed_after is not None and on_missed is not None and call_id not in self.active:
            loop = asyncio.get_running_loop()
            self._expected[call_id] = loop.call_later(missed_after, self._missed, call_id, on_missed)
        values = {"offered_at": offered_at, "dialed": dialed}
        identity = {"direction": "inbound", "channel": "voice", "scenario": scenario, "phone": phone,
                    "started_at": offered_at}  # fmt: skip
        await self._write(
            call_id, {**identity, **values}, update=("offered_at", "dialed"), meta={"node": self.node}
        )

    async def started(
        self,
        call_id: uuid.UUID,
        *,
        direction: str,
        channel: str,
        scenario: str,
        started_at: datetime,
        answered_at: datetime | None = None,
        **columns: Any,
    ) -> None:
        """A dialogue began (the call is answered). `columns`: phone, campaign_id, variables, …"""
        handle = self._expected.pop(call_id, None)
        if handle is not None:
            handle.cancel()
        identity = {"direction": direction, "channel": channel, "scenario": scenario,
                    "started_at": started_at, **{k: v for k, v in columns.items() if v is not None}}  # fmt: skip
        live = LiveCall(call_id, channel, scenario, direction, identity, started_at=started_at)
        self.active[call_id] = live
        CALLS_IN_PROGRESS.labels(channel, scenario).inc()
        self._notify("started", live)
        values = {
            **identity,
            "status": "active",
            "answered_at": answered_at or started_at,
            "offered_at": started_at,
        }
        await self._write(
            call_id,
            values,
            update=("status", "answered_at", "offered_at", "started_at"),
            meta={"node": self.node},
        )

    async def scenario(self, call_id: uuid.UUID, scenario: str) -> None:
        live = self.active.get(call_id)
        if live is not None and live.scenario != scenario:
            CALLS_IN_PROGRESS.labels(live.channel, live.scenario).dec()
            CALLS_IN_PROGRESS.labels(live.channel, scenario).inc()
            live.scenario = scenario
            live.identity["scenario"] = scenario
            self._notify("scenario", live)
        await self._write(call_id, self._identity(call_id, scenario=scenario), update=("scenario",))

    def step(self, call_id: uuid.UUID, step: str | None) -> None:
        """The dialogue moved to `step` (memory only: live views and logs, no database write)."""
        live = self.active.get(call_id)
        if live is not None:
            live.step = step
            self._notify("step", live)

    async def ended(
        self,
        call_id: uuid.UUID,
        *,
        outcome: str,
        ended_at: datetime | None = None,
        meta: dict[str, Any] | None = None,
        **columns: Any,
    ) -> None:
        """The dialogue is over with `outcome`; `columns`: account_id, scenario, …"""
        live = self.active.pop(call_id, None)
        if live is not None:
            self._remember(live)
            CALLS_IN_PROGRESS.labels(live.channel, live.scenario).dec()
            CALLS_ENDED.labels(live.channel, outcome).inc()
            self._notify("ended", live)
        values = {**self._identity(call_id, live), **columns, "status": "ended", "outcome": outcome,
                  "ended_at": ended_at or datetime.now(UTC)}  # fmt: skip
        await self._write(call_id, values, update=("status", "outcome", "ended_at", *columns), meta=meta)

    def hand_over(self, call_id: uuid.UUID) -> None:
        """The call's first part (an outage announcement) is over and a dialogue takes the same call on:
        forget the live entry without ending the row; the dialogue's `started` makes a new one."""
        live = self.active.pop(call_id, None)
        if live is not None:
            CALLS_IN_PROGRESS.labels(live.channel, live.scenario).dec()

    async def media(
        self,
        call_id: uuid.UUID,
        *,
        recording_path: str | None = None,
        recording_duration: float | None = None,
        answered_at: datetime | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        """What the voice channel adds once the call is over: the recording and the answer moment."""
        values = {
            "recording_path": recording_path,
            "recording_duration": recording_duration,
            "answered_at": answered_at,
        }
        values = {k: v for k, v in values.items() if v is not None}
        await self._write(call_id, {**self._identity(call_id), **values}, update=tuple(values), meta=meta)

    async def unserved(
        self,
        call_id: uuid.UUID,
        *,
        direction: str,
        channel: str,
        scenario: str | None,
        outcome: str,
        offered_at: datetime,
        ended_at: datetime | None = None,
        answered_at: datetime | None = None,
        meta: dict[str, Any] | None = None,
        **columns: Any,
    ) -> None:
        """A call no dialogue served (overflow, missed, busy, no answer): its whole row at once."""
        handle = self._expected.pop(call_id, None)
        if handle is not None:
            handle.cancel()
        CALLS_ENDED.labels(channel, outcome).inc()
        values = {"direction": direction, "channel": channel, "scenario": scenario, "status": "ended",
                  "outcome": outcome, "offered_at": offered_at, "started_at": offered_at,
                  "answered_at": answered_at, "ended_at": ended_at or datetime.now(UTC), **columns}  # fmt: skip
        await self._write(call_id, values, update=("status", "outcome", "ended_at", "offered_at"), meta=meta)

    # --- internals ------------------------------------------------------------------------------------
    def _remember(self, live: LiveCall) -> None:
        self._ended[live.id] = live
        while len(self._ended) > 1000:
            self._ended.pop(next(iter(self._ended)))

    def _identity(self, call_id: uuid.UUID, live: LiveCall | None = None, **override: Any) -> dict[str, Any]:
        live = live or self.active.get(call_id) or self._ended.get(call_id)
        identity = dict(live.identity) if live is not None else {}
        identity.setdefault("direction", "inbound")
        identity.update(override)
        return identity

    async def _write(
        self,
        call_id: uuid.UUID,
        values: dict[str, Any],
        *,
        update: tuple[str, ...],
        meta: dict[str, Any] | None = None,
    ) -> None:
        payload = {"id": call_id, "values": values, "update": list(update), "meta": meta or {}}
        await self.writer.write(CALL_UPSERT, payload)

    def _notify(self, event: str, live: LiveCall) -> None:
        for listener in self._listeners:
            try:
                listener(event, live)
            except Exception:  # a live view must never break a call
                log.exception("call ledger listener failed", extra={"call_id": str(live.id)})

    def _missed(self, call_id: uuid.UUID, on_missed: Callable[[], Awaitable[Any]]) -> None:
        self._expected.pop(call_id, None)
        if call_id in self.active:
            return
        task = asyncio.ensure_future(on_missed())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for handle in self._expected.values():
            handle.cancel()
        self._expected.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
