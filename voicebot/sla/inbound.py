"""FastAGI `inbound`: every inbound call is routed here right after `Answer()` (telephony/extensions.conf).

The handler picks the scenario (dialled number → scenario map), gives the call a fresh id (VOICEBOT_UUID),
and admits it to a dialogue if a slot is free. A caller covered by an active outage (their building, or a
company-wide one) is sent to the bot whatever the slots: it hears the cached announcement without a
recogniser or a slot, and only asking for more afterwards takes one (voicebot/calls/outage.py). With no slot the call is still answered: VOICEBOT_ACTION=overflow
makes the dialplan play the busy message and record a voice message, and a callback is queued within
10 minutes. The channel variables go out first; database work follows in the background, so a slow or
unreachable database never leaves a caller waiting.

Offer and answer times: the router reports the call to the call ledger (`offered`: the row appears
with the AGI time as `offered_at`); the dialogue runtime reports `started` on the same row when the
AudioSocket connects. If no dialogue starts before the announcement expires (the caller hung up during
routing, or the bot never got the call), the ledger's timer fires and the router records a missed call
with a callback. Overflow calls never reach the bot: the router reports them as unserved. Every write
goes through the records' writer (the local journal in `serve`), so a database outage loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select

from voicebot.asterisk.channels import ChannelBook
from voicebot.asterisk.fastagi import AGIChannel, AGIError, AGIRequest
from voicebot.clock import Clock, utc_now
from voicebot.db.callbacks import DEFAULT_MAX_PER_HOUR, schedule_callback
from voicebot.db.models import Account, AccountPhone
from voicebot.db.outages import OutageRow, active_outage_message, current_outages, outage_message_for
from voicebot.db.session import Database
from voicebot.journal.ledger import CALL_OPS, CallLedger
from voicebot.journal.writer import DirectWriter
from voicebot.settings import INBOUND_SCENARIO
from voicebot.sla.callbacks import normalize_phone

log = logging.getLogger(__name__)

DEFAULT_SCENARIO = INBOUND_SCENARIO
OUTAGE_LOOKUP_TIMEOUT = 0.5  # seconds; past it the call is routed without the outage check
# While an outage is declared, a caller's addresses decide whether they hear it without taking a slot:
# worth a longer wait than the check itself (a burst loads the database too).
HOMES_LOOKUP_TIMEOUT = 2.0
OUTAGES_TTL = 5.0  # seconds a read of the declared outages serves the router (a burst shares one read)


class Announcer(Protocol):
    def announce(self, call_uuid: Any, scenario: str, phone: str | None = None,
                 variables: dict[str, Any] | None = None, direction: Any = None,
                 campaign_id: int | None = None, contact_id: int | None = None,
                 outage: str | None = None) -> Any: ...  # fmt: skip


class DialogueCapacity:
    """Free dialogue slots: the limit minus dialogues running and calls announced but not yet connected.

    `busy()` is read from the voice channel (its Admission counter plus the CallRegistry's pending
    announcements), so inbound calls, callbacks and campaign calls share one limit per process.
    """

    def __init__(self, limit: int, busy: Callable[[], int]) -> None:
        self.limit = limit
        self._busy = busy

    def admit(self) -> bool:
        return self._busy() < self.limit

    def free(self) -> int:
        return max(0, self.limit - self._busy())


def parse_scenario_map(raw: str) -> dict[str, str]:
    """'74951234567=request_intake,100=meter_readings' → {number: scenario}; raises ValueError."""
    result: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        number, sep, scenario = part.partition("=")
        if not sep or not number.strip() or not scenario.strip():
            raise ValueError(f"VOICEBOT_INBOUND_SCENARIOS: {part!r} is not NUMBER=scenario")
        result[number.strip().lstrip("+")] = scenario.strip()
    return result


@dataclass(frozen=True)
class Routing:
    call_id: uuid.UUID
    action: str  # dialogue / overflow
    scenario: str
    phone: str | None
    caller: str | None
    dialled: str | None
    offered_at: datetime


class InboundRouter:
    def __init__(
        self,
        db: Database,
        capacity: DialogueCapacity,
        *,
        registry: Announcer | None = None,
        scenarios: Mapping[str, str] | None = None,
        default_scenario: str = DEFAULT_SCENARIO,
        clock: Clock = utc_now,
        callback_delay: timedelta = timedelta(seconds=60),
        offer_ttl: float = 120.0,
        check_outages: bool = True,
        audiosocket_target: str | None = None,
        channels: ChannelBook | None = None,
        callback_max_per_hour: int = DEFAULT_MAX_PER_HOUR,
        records: InboundRecords | None = None,
    ) -> None:
        self.callback_max_per_hour = callback_max_per_hour
        self.db = db
        self.channels = channels  # the caller's channel, for the bot's AMI Setvar at its goodbye
        self._owns_records = records is None
        self.records = records or DirectInboundRecords(db)
        self.capacity = capacity
        self.registry = registry
        self.scenarios = dict(scenarios or {})
        self.default_scenario = default_scenario
        self.clock = clock
        self.callback_delay = callback_delay
        self.offer_ttl = offer_ttl
        self.check_outages = check_outages
        self.outages = ActiveOutages(db)
        self.audiosocket_target = audiosocket_target  # pairs a call's AudioSocket with this process
        self._background: set[asyncio.Task[None]] = set()
        self.routed: list[Routing] = []  # recent decisions, for diagnostics and tests
        self.keep = 1000

    async def __call__(self, request: AGIRequest, channel: AGIChannel) -> None:
        routing = await self.route(request)
        if self.channels is not None:
            self.channels.remember(routing.call_id, request.channel)
        try:
            await channel.set_variable("VOICEBOT_UUID", str(routing.call_id))
            await channel.set_variable("VOICEBOT_SCENARIO", routing.scenario)
            if self.audiosocket_target and routing.action == "dialogue":
                await channel.set_variable("VOICEBOT_AUDIOSOCKET", self.audiosocket_target)
            await channel.set_variable("VOICEBOT_ACTION", routing.action)
        except AGIError as exc:
            log.info(
                "caller left during routing", extra={"call_id": str(routing.call_id), "error": repr(exc)}
            )
        if channel.hung_up and routing.action == "dialogue":
            self._spawn(self._missed(routing))
            return
        self._spawn(self._record(routing))

    async def route(self, request: AGIRequest) -> Routing:
        offered_at = self.clock()
        caller = request.callerid
        phone = normalize_phone(caller)
        dialled = (request.args[0] if request.args else None) or request.dnid or request.extension or None
        scenario = self.scenarios.get((dialled or "").lstrip("+"), self.default_scenario)
        outage = None
        # With a voice channel here the router itself sends outage callers to the announcement; without
        # one only a number routed elsewhere needs the check (the router scenario looks outages up itself).
        if self.check_outages and (self.registry is not None or (phone and scenario != DEFAULT_SCENARIO)):
            outage = await self._outage_message(phone, offered_at)
        if outage is not None:
            scenario = DEFAULT_SCENARIO
        call_id = uuid.uuid4()
        variables = {"dialed": dialled} if dialled else {}
        if outage is not None and self.registry is not None:
            # The announcement takes no dialogue slot: every caller hears it, however many call at once;
            # only those who then ask for more compete for a slot (voicebot/calls/outage.py).
            action = "dialogue"
            self.registry.announce(call_id, scenario, phone or caller, variables, "inbound", outage=outage)
        else:
            action = "dialogue" if self.capacity.admit() else "overflow"
            if action == "dialogue" and self.registry is not None:
                self.registry.announce(call_id, scenario, phone or caller, variables, "inbound")
        routing = Routing(call_id, action, scenario, phone, caller, dialled, offered_at)
        self.routed.append(routing)
        del self.routed[: -self.keep]
        log.info(
            "inbound call routed",
            extra={"call_id": str(call_id), "action": action, "scenario": scenario, "dialled": dialled,
                   "outage": outage is not None},
        )  # fmt: skip
        return routing

    async def flush(self) -> None:
        """Wait for the background writes (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        if self._owns_records:  # its missed-call timers go with it
            await self.records.ledger.close()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    # --- background work ----------------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _record(self, routing: Routing) -> None:
        try:
            if routing.action == "overflow":
                await self._write_unserved(routing, "overflow", "overflow")
            else:
                await self.records.ledger.offered(
                    routing.call_id,
                    scenario=routing.scenario,
                    phone=routing.phone or routing.caller,
                    dialed=routing.dialled,
                    offered_at=routing.offered_at,
                    missed_after=self.offer_ttl,
                    on_missed=lambda: self._missed(routing),
                )
        except Exception:
            log.exception("could not record an inbound call", extra={"call_id": str(routing.call_id)})

    async def _missed(self, routing: Routing) -> None:
        try:
            await self._write_unserved(routing, "missed", "missed")
        except Exception:
            log.exception("could not record a missed call", extra={"call_id": str(routing.call_id)})

    async def _write_unserved(self, routing: Routing, outcome: str, reason: str) -> None:
        """A call no dialogue served: its row (no answer time) and a callback if the number is known."""
        await self.records.ledger.unserved(
            routing.call_id,
            direction="inbound",
            channel="voice",
            scenario=routing.scenario,
            outcome=outcome,
            offered_at=routing.offered_at,
            # The dialplan answers every call before routing it: an overflowed caller was answered
            # (and heard the message); a missed one left during routing.
            answered_at=routing.offered_at if outcome == "overflow" else None,
            ended_at=self.clock(),
            meta={"unserved": reason},
            phone=routing.phone or routing.caller,
            dialed=routing.dialled,
        )
        if routing.phone:
            await self.records.schedule_callback(
                routing.phone, reason, missed_at=routing.offered_at, delay=self.callback_delay,
                source_call_id=routing.call_id, max_per_hour=self.callback_max_per_hour,
            )  # fmt: skip
        else:
            log.warning(
                "unserved call without a number: no call back possible",
                extra={"call_id": str(routing.call_id)},
            )

    async def _outage_message(self, phone: str | None, now: datetime) -> str | None:
        try:
            outages = await asyncio.wait_for(self.outages.rows(now), OUTAGE_LOOKUP_TIMEOUT)
            if not outages:
                return None
            message = outage_message_for(outages, [], now)  # a company-wide one needs no address
            if message is not None or not phone:
                return message
            homes = await asyncio.wait_for(self.outages.homes(phone), HOMES_LOOKUP_TIMEOUT)
            return outage_message_for(outages, homes, now)
        except Exception as exc:  # the outage check must never keep the caller waiting long
            log.warning("outage check skipped", extra={"error": repr(exc)})
            return None


class ActiveOutages:
    """The outages not over yet, read at most every `ttl` seconds: during a burst hundreds of callers share
    one query, and with no outage declared a call costs no query at all. Only a caller who may be covered
    by a building's outage costs one indexed lookup of their accounts' addresses."""

    def __init__(
        self, db: Database, ttl: float = OUTAGES_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self.ttl = ttl
        self._clock = clock
        self._rows: list[OutageRow] = []
        self._read_at: float | None = None
        self._reading: asyncio.Task[list[OutageRow]] | None = None

    async def rows(self, now: datetime) -> list[OutageRow]:
        if self._read_at is not None and self._clock() - self._read_at < self.ttl:
            return self._rows
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read(now))
        reading = self._reading
        return await asyncio.shield(reading)

    async def _read(self, now: datetime) -> list[OutageRow]:
        try:
            async with self.db.session() as session:
                self._rows = await current_outages(session, now)
            self._read_at = self._clock()
            return self._rows
        finally:
            self._reading = None

    async def homes(self, phone: str) -> list[tuple[str | None, str | None]]:
        async with self.db.session() as session:
            return await caller_homes(session, phone)


async def caller_homes(session: Any, phone: str) -> list[tuple[str | None, str | None]]:
    """(street, house) of the accounts with this phone number."""
    rows = await session.execute(
        select(Account.street, Account.house)
        .join(AccountPhone, AccountPhone.account_id == Account.id)
        .where(AccountPhone.phone == phone)
    )
    return [(street, house) for street, house in rows.all()]


async def outage_for_phone(db: Database, phone: str | None, now: datetime) -> str | None:
    """The message of an outage at a building of the caller's accounts (or a company-wide one), if any."""
    async with db.session() as session:
        homes = await caller_homes(session, phone) if phone else []
        return await active_outage_message(session, homes, now)


class InboundRecords(Protocol):
    """Where the router writes (voicebot.calls.records.CallRecords in `serve`)."""

    ledger: CallLedger

    async def schedule_callback(self, phone: str, reason: str, *, missed_at: datetime, delay: timedelta,
                                source_call_id: uuid.UUID | None = None,
                                max_per_hour: int = DEFAULT_MAX_PER_HOUR) -> None: ...  # fmt: skip


class DirectInboundRecords:
    """Without the journal (tests, tools): the call ledger and the callback queue straight on `db`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.ledger = CallLedger(DirectWriter(db, CALL_OPS))

    async def schedule_callback(self, phone: str, reason: str, *, missed_at: datetime, delay: timedelta,
                                source_call_id: uuid.UUID | None = None,
                                max_per_hour: int = DEFAULT_MAX_PER_HOUR) -> None:  # fmt: skip
        async with self.db.transaction() as session:
            await schedule_callback(
                session, phone, reason, missed_at=missed_at, delay=delay, source_call_id=source_call_id,
                max_per_hour=max_per_hour,
            )  # fmt: skip
