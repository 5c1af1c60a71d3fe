"""The dialer: places callbacks first, then campaign calls, within this process's share of lines.

Each tick: settle answered calls whose dialogue ended (the `calls` row has an outcome → the contact is
done with that outcome), renew the leases of calls still going, claim due callbacks, then claim due
campaign contacts with what capacity is left (see claims.py for the SKIP LOCKED leases). Every claimed
item becomes a task that waits for its pace slot (calls per second), places the call through the
injected `place_call`, and maps the originate result to the contact's state and next attempt.

`place_call` and `clock` are injected, so the whole logic runs in tests without Asterisk.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from voicebot.asterisk.ami_originate import OriginateResult
from voicebot.campaigns.calls import CallRequest, PlaceCall
from voicebot.campaigns.claims import (
    ClaimedContact,
    ContactFilter,
    RunningCampaign,
    claim_contacts,
    due_campaigns,
    lock_campaign,
)
from voicebot.clock import Clock, utc_now
from voicebot.db.models import Call, CampaignContact
from voicebot.db.session import Database
from voicebot.logs import logged_failure
from voicebot.settings import INBOUND_SCENARIO
from voicebot.sla.callbacks import CallbackQueue, ClaimedCallback

log = logging.getLogger(__name__)

RELEASE_DELAY = timedelta(seconds=30)  # AMI unreachable: try the same work again after this
ANSWERED_GRACE = timedelta(minutes=3)
MAX_CALL = timedelta(
    hours=1
)  # a dialogue row without an outcome after this: its process died mid-call  # an answered call that never became a dialogue (e.g. AMD machine)

_FINISH_CAMPAIGNS = text(
    """
    UPDATE campaigns k SET status = 'finished', finished_at = :now
     WHERE k.status = 'running'
       AND NOT EXISTS (SELECT 1 FROM campaign_contacts c WHERE c.campaign_id = k.id AND c.state = 'pending')
       AND NOT EXISTS (SELECT 1 FROM campaign_contacts c WHERE c.campaign_id = k.id AND c.state = 'in_progress')
    RETURNING k.id
    """
)


_TABLE = CampaignContact.__table__
_MINE = (_TABLE.c.id == bindparam("cid_")) & (_TABLE.c.lease_owner == bindparam("owner"))
_RESULT_UPDATES = {
    "answered": _TABLE.update().where(_MINE).values(last_result=bindparam("result")),
    "retry": _TABLE.update().where(_MINE).values(
        state="pending", next_attempt_at=bindparam("next"), last_result=bindparam("result"),
        lease_owner=None, lease_expires_at=None,
    ),
    "failed": _TABLE.update().where(_MINE).values(
        state="failed", outcome=bindparam("outcome"), last_result=bindparam("result"),
        lease_owner=None, lease_expires_at=None,
    ),
}  # fmt: skip


def worker_id() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class InFlight:
    kind: str  # "contact" or "callback"
    item: ClaimedContact | ClaimedCallback
    campaign: RunningCampaign | None = None
    answered_at: datetime | None = None
    task: asyncio.Task[None] | None = None
    request: CallRequest | None = None
    placed_at: datetime | None = None

    @property
    def call_id(self) -> uuid.UUID:
        return self.item.call_id


class Dialer:
    def __init__(
        self,
        db: Database,
        place_call: PlaceCall,
        *,
        worker: str | None = None,
        clock: Clock = utc_now,
        max_calls: int = 20,
        lease: timedelta = timedelta(seconds=90),
        poll_seconds: float = 1.0,
        callbacks: CallbackQueue | None = None,
        callback_scenario: str = INBOUND_SCENARIO,
        answered_grace: timedelta = ANSWERED_GRACE,
        ready: Callable[[], bool] | None = None,
        callback_reserve: int = 0,
        dialogue_slots: Callable[[], int] | None = None,
        contacts: ContactFilter | None = None,
    ) -> None:
        """`contacts`: which campaign contacts this dialer takes and on which channel it places them: the
        telephony dialer phone campaigns (leaving contacts who prefer MAX to the MAX dialer when the MAX
        channel runs), the MAX service's own dialer MAX campaigns and those contacts
        (voicebot/max/placing.py)."""
        self.db = db
        self.place_call = place_call
        self.worker = worker or worker_id()
        self.clock = clock
        self.max_calls = max_calls
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.callbacks = callbacks
        self.callback_scenario = callback_scenario
        self.answered_grace = answered_grace
        self.ready = ready or (lambda: True)  # e.g. "AMI is connected": claim nothing while it is not
        # Lines campaigns may never take, so a callback due while long campaign calls run still gets one.
        self.callback_reserve = callback_reserve if callbacks is not None else 0
        # Free dialogue slots of the voice channel (limit minus dialogues and announced calls): a call
        # placed without one would be answered with «все операторы заняты».
        self.dialogue_slots = dialogue_slots or (lambda: max_calls)
        self.contacts = contacts or ContactFilter()
        self._inflight: dict[tuple[str, int], InFlight] = {}
        self._results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in _RESULT_UPDATES}
        self._next_slot: dict[int, float] = {}  # campaign id -> monotonic time of its next originate
        self._stopping = False

    # --- the loop -----------------------------------------------------------------------------
    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.tick()
            except Exception:  # the database may be restarting; the next tick tries again
                log.exception("dialer tick failed", extra={"worker": self.worker})
            await asyncio.sleep(self.poll_seconds)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming; give calls being placed `grace` seconds, then abandon them to their leases."""
        self._stopping = True
        tasks = [f.task for f in self._inflight.values() if f.task is not None and not f.task.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        # results not written are redone after the leases expire; someone should still know
        with logged_failure(log, "writing the last call results at stop", level=logging.WARNING):
            await self.flush_results()

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    async def tick(self) -> int:
        """One round; returns how many calls it started."""
        now = self.clock()
        await self.flush_results()
        await self.settle(now)
        await self._renew(now)
        started = 0
        if not self.ready():
            return 0
        free = min(self.max_calls - len(self._inflight), self.dialogue_slots())
        if self.callbacks is not None and free > 0 and not self._stopping:
            for callback in await self.callbacks.claim(free, now):
                self._launch(InFlight("callback", callback))
                started += 1
        free = min(
            self.max_calls - self.callback_reserve - len(self._inflight), self.dialogue_slots() - started
        )
        if free > 0 and not self._stopping:
            started += await self._claim_campaigns(now, free)
        return started

    async def wait_idle(self) -> None:
        """Wait until every placement task finished (answered calls may still await their outcome)."""
        tasks = [f.task for f in list(self._inflight.values()) if f.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.flush_results()

    # --- claiming -----------------------------------------------------------------------------
    async def _claim_campaigns(self, now: datetime, free: int) -> int:
        started = 0
        async with self.db.session() as session:
            campaign_ids = await due_campaigns(session, now, self.contacts)
        for campaign_id in campaign_ids:
            if free <= 0:
                break
            async with self.db.transaction() as session:
                campaign = await lock_campaign(session, campaign_id)
                if campaign is None:
                    continue  # paused meanwhile, or another worker is claiming for it now
                claimed = await claim_contacts(
                    session,
                    campaign,
                    worker=self.worker,
                    now=now,
                    lease=self.lease,
                    limit=free,
                    contacts=self.contacts,
                )
            for contact in claimed:
                self._launch(InFlight("contact", contact, campaign))
            started += len(claimed)
            free -= len(claimed)
        return started

    def _launch(self, flight: InFlight) -> None:
        key = (flight.kind, flight.item.id)
        self._inflight[key] = flight
        flight.task = asyncio.create_task(self._place(flight), name=f"dial-{flight.kind}-{flight.item.id}")

    # --- placing one call ---------------------------------------------------------------------
    async def _place(self, flight: InFlight) -> None:
        key = (flight.kind, flight.item.id)
        try:
            if flight.campaign is not None:
                await self._pace(flight.campaign)
            request = flight.request = self._request(flight)
            flight.placed_at = self.clock()
            try:
                result = await self.place_call(request)
            except Exception as exc:
                log.warning(
                    "call could not be placed; work put back",
                    extra={"call_id": str(request.call_id), "error": repr(exc)},
                )
                await self._release(flight)
                self._inflight.pop(key, None)
                return
            now = self.clock()
            if result is not OriginateResult.ANSWERED:
                await self._write_attempt(flight, result.value, now)
            await self._record(flight, result, now)
            if result is OriginateResult.ANSWERED:
                flight.answered_at = now  # stays in flight until its dialogue's outcome is known
            else:
                self._inflight.pop(key, None)
        except asyncio.CancelledError:
            self._inflight.pop(key, None)
            raise
        except Exception:
            log.exception("placing a call failed", extra={"kind": flight.kind, "id": flight.item.id})
            self._inflight.pop(key, None)

    async def _pace(self, campaign: RunningCampaign) -> None:
        interval = 1.0 / max(campaign.calls_per_second, 0.01)
        now = time.monotonic()
        slot = max(now, self._next_slot.get(campaign.id, now))
        self._next_slot[campaign.id] = slot + interval
        if slot > now:
            await asyncio.sleep(slot - now)

    def _request(self, flight: InFlight) -> CallRequest:
        item = flight.item
        if isinstance(item, ClaimedContact):
            assert flight.campaign is not None
            return CallRequest(
                item.call_id,
                item.phone,
                flight.campaign.scenario,
                dict(item.variables),
                "outbound",
                campaign_id=item.campaign_id,
                contact_id=item.id,
                amd=flight.campaign.policy.amd,
                channel=self.contacts.dialer,
                timezone=item.timezone,
            )
        variables: dict[str, Any] = {"callback": "1", "callback_reason": item.reason}
        scenario = item.scenario or self.callback_scenario
        # The bot places it, so it is an outbound call whatever flow it runs; `callback` tells the flow.
        return CallRequest(item.call_id, item.phone, scenario, variables, "outbound", callback_id=item.id)

    async def _record(self, flight: InFlight, result: OriginateResult, now: datetime) -> None:
        item = flight.item
        if isinstance(item, ClaimedCallback):
            assert self.callbacks is not None
            await self.callbacks.record(item, result, now)
            return
        assert flight.campaign is not None
        if result is OriginateResult.ANSWERED:
            self._results["answered"].append({"cid_": item.id, "owner": self.worker, "result": result.value})
            return
        self._schedule_retry(flight, result.value, result, now)

    def _schedule_retry(self, flight: InFlight, label: str, rule: OriginateResult, now: datetime) -> None:
        """Buffer the contact's next state; written in one statement per kind by `flush_results`."""
        assert flight.campaign is not None and isinstance(flight.item, ClaimedContact)
        retry_at = flight.campaign.policy.retry_after(rule, flight.item.attempts, now)
        row = {"cid_": flight.item.id, "owner": self.worker, "result": label}
        if retry_at is None:
            self._results["failed"].append(row | {"outcome": label})
        else:
            self._results["retry"].append(row | {"next": retry_at})

    async def flush_results(self) -> None:
        """Write the buffered call results: a round trip per batch instead of one per call."""
        batches, self._results = self._results, {kind: [] for kind in _RESULT_UPDATES}
        batches = {kind: rows for kind, rows in batches.items() if rows}
        if not batches:
            return
        async with self.db.transaction() as session:
            for kind, rows in batches.items():
                await session.execute(_RESULT_UPDATES[kind], rows)

    async def _update_contact(self, contact_id: int, values: dict[str, Any]) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(CampaignContact)
                .where(CampaignContact.id == contact_id, CampaignContact.lease_owner == self.worker)
                .values(**values)
            )

    async def _release(self, flight: InFlight) -> None:
        now = self.clock()
        item = flight.item
        if isinstance(item, ClaimedCallback):
            assert self.callbacks is not None
            await self.callbacks.release(item, now, retry_in=RELEASE_DELAY)
            return
        await self._update_contact(
            item.id,
            {
                "state": "pending",
                "attempts": item.attempts - 1,
                "next_attempt_at": now + RELEASE_DELAY,
                "last_result": "not_placed",
                "lease_owner": None,
                "lease_expires_at": None,
            },
        )

    async def _write_attempt(self, flight: InFlight, outcome: str, now: datetime) -> None:
        """The `calls` row of an attempt no dialogue wrote (busy, no answer, a machine): the contact's
        last_call_id and the callback's history point at a real row."""
        request = flight.request
        if request is None:
            return
        values: dict[str, Any] = {
            "id": request.call_id, "direction": "outbound", "channel": request.channel, "scenario": request.scenario,
            "phone": request.phone, "campaign_id": request.campaign_id, "contact_id": request.contact_id,
            "status": "ended", "outcome": outcome, "offered_at": flight.placed_at or now,
            "started_at": flight.placed_at or now, "answered_at": flight.answered_at, "ended_at": now,
            "variables": {k: str(v) for k, v in request.variables.items()}, "meta": {"attempt": outcome},
        }  # fmt: skip
        try:
            async with self.db.transaction() as session:
                await session.execute(
                    pg_insert(Call).values(**values).on_conflict_do_nothing(index_elements=[Call.id])
                )
        except Exception:
            log.exception("could not store the attempt's calls row", extra={"call_id": str(request.call_id)})

    async def machine(self, call_id: str, now: datetime | None = None) -> bool:
        """AMD heard an answering machine on an answered call: record it now and retry per policy."""
        flight = next((f for f in self._inflight.values() if str(f.call_id) == call_id), None)
        if flight is None or flight.answered_at is None:
            return False
        now = now or self.clock()
        self._inflight.pop((flight.kind, flight.item.id), None)
        await self._write_attempt(flight, OriginateResult.MACHINE.value, now)
        if isinstance(flight.item, ClaimedCallback):
            assert self.callbacks is not None
            await self.callbacks.record(flight.item, OriginateResult.MACHINE, now)
        else:
            self._schedule_retry(flight, OriginateResult.MACHINE.value, OriginateResult.MACHINE, now)
            await self.flush_results()
        log.info("answering machine", extra={"call_id": call_id, "kind": flight.kind})
        return True

    # --- after the call -----------------------------------------------------------------------
    async def settle(self, now: datetime) -> None:
        """Answered calls: done when their dialogue wrote an outcome; retried if no dialogue ever came."""
        answered = [f for f in self._inflight.values() if f.answered_at is not None]
        if answered:
            async with self.db.session() as session:
                rows = await session.execute(
                    select(Call.id, Call.outcome).where(Call.id.in_([f.call_id for f in answered]))
                )
                calls = {cid: outcome for cid, outcome in rows}
            done: list[dict[str, Any]] = []
            for flight in answered:
                if flight.call_id in calls and calls[flight.call_id]:
                    await self._finish(flight, calls[flight.call_id], done)
                elif flight.call_id not in calls and flight.answered_at + self.answered_grace <= now:  # type: ignore[operator]
                    await self._no_dialogue(flight, now)
                elif flight.answered_at + MAX_CALL <= now:  # type: ignore[operator]
                    await self._finish(flight, "unfinished", done)  # the dialogue never closed its row
            await self._mark_done(done)
            await self.flush_results()
        async with self.db.transaction() as session:
            finished = list((await session.execute(_FINISH_CAMPAIGNS, {"now": now})).scalars())
        for campaign_id in finished:
            log.info("campaign finished", extra={"campaign_id": campaign_id})

    async def _finish(self, flight: InFlight, outcome: str, done: list[dict[str, Any]]) -> None:
        self._inflight.pop((flight.kind, flight.item.id), None)
        if flight.kind == "callback":
            assert self.callbacks is not None
            await self.callbacks.link_call(flight.item.id, flight.call_id)
        else:
            done.append({"cid_": flight.item.id, "outcome": outcome, "owner": self.worker})

    async def _mark_done(self, done: list[dict[str, Any]]) -> None:
        if not done:
            return
        table = CampaignContact.__table__
        async with self.db.transaction() as session:
            await session.execute(
                table.update()
                .where(table.c.id == bindparam("cid_"), table.c.lease_owner == bindparam("owner"))
                .values(state="done", outcome=bindparam("outcome"), lease_owner=None, lease_expires_at=None),
                done,
            )

    async def _no_dialogue(self, flight: InFlight, now: datetime) -> None:
        self._inflight.pop((flight.kind, flight.item.id), None)
        if flight.kind == "contact":  # answered by a machine or dropped at once: as good as no answer
            await self._record_no_dialogue(flight, now)

    async def _record_no_dialogue(self, flight: InFlight, now: datetime) -> None:
        self._schedule_retry(flight, "no_dialogue", OriginateResult.NO_ANSWER, now)

    async def _renew(self, now: datetime) -> None:
        contacts = [f.item.id for f in self._inflight.values() if f.kind == "contact"]
        if contacts:
            async with self.db.transaction() as session:
                await session.execute(
                    update(CampaignContact)
                    .where(CampaignContact.id.in_(contacts), CampaignContact.lease_owner == self.worker)
                    .values(lease_expires_at=now + self.lease)
                )
        if self.callbacks is not None:
            await self.callbacks.renew(
                [
                    f.item.id
                    for f in self._inflight.values()
                    if f.kind == "callback" and f.answered_at is None
                ],
                now,
            )
