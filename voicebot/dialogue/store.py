"""Everything a dialogue reads from and writes to Postgres.

Each write returns only once it is durable: committed in PostgreSQL, or (in `serve`, while the
database is away) in the local journal that replays it (`voicebot.journal`), so when the bot says
"saved" it is. Reads are bounded by `read_timeout`: past it, DataUnavailable (the caller hears the
overflow message and a callback is journalled). Every write also lands in the context's `records`, which `simulate` prints at the end.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot.db import appointments
from voicebot.db.company import load_card
from voicebot.db.models import (
    Account,
    AccountPhone,
    Call,
    Meter,
    OfficeAppointment,
    OfficeSlot,
    Ticket,
)
from voicebot.db.outages import active_outage_message
from voicebot.db.session import Database
from voicebot.dialogue.records import APPOINTMENT_BOOK, APPOINTMENT_MOVE, APPOINTMENT_STATUS, RECORD_OPS
from voicebot.journal.ledger import CALL_OPS, CallLedger
from voicebot.journal.ops import merge
from voicebot.journal.writer import DirectWriter, Writer
from voicebot.values import json_value, normalize_key

if TYPE_CHECKING:
    from voicebot.dialogue.context import CallInfo, DialogueContext

T = TypeVar("T")
STORE_OPS = merge(RECORD_OPS, CALL_OPS)  # what a dialogue writes: its records and its call row


@dataclass(frozen=True)
class AccountInfo:
    id: int
    number: str
    address: str
    street: str | None
    house: str | None
    building: str | None
    flat: str | None
    owner: str
    timezone: str
    debt: Decimal
    debt_period: str | None

    @property
    def address_parts(self) -> dict[str, str | None]:
        return {"street": self.street, "house": self.house, "building": self.building, "flat": self.flat}


@dataclass(frozen=True)
class MeterInfo:
    id: int
    meter_id: str
    resource: str
    location: str | None
    last_value: Decimal | None
    last_date: date | None
    verification_due: date | None


@dataclass(frozen=True)
class TicketInfo:
    id: int
    number: str
    category: str
    priority: str
    address: str
    description: str
    status: str
    created_at: datetime
    due_at: datetime | None
    responsible: str | None


def _account(a: Account) -> AccountInfo:
    return AccountInfo(
        a.id,
        a.number,
        a.address,
        a.street,
        a.house,
        a.building,
        a.flat,
        a.owner,
        a.timezone,
        a.debt,
        a.debt_period,
    )


def _ticket(t: Ticket) -> TicketInfo:
    return TicketInfo(
        t.id,
        t.number,
        t.category,
        t.priority,
        t.address,
        t.description,
        t.status,
        t.created_at,
        t.due_at,
        t.responsible,
    )


class DataUnavailable(Exception):
    """The database did not answer a read the dialogue needs in time: the call takes the overflow path."""


# Errors that mean "the database is not answering" rather than "this query is wrong".
_UNAVAILABLE = (TimeoutError, OSError, DBAPIError, PoolTimeoutError)


class DialogueStore:
    """Reads are bounded by `read_timeout` (DataUnavailable past it); writes go through `writer` and the
    call row through `ledger`, so with the journal behind them no write ever waits on the database."""

    def __init__(
        self,
        db: Database,
        *,
        writer: Writer | None = None,
        ledger: CallLedger | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self.db = db
        self.writer = writer or DirectWriter(db, STORE_OPS)
        self.ledger = ledger or CallLedger(self.writer)
        self.read_timeout = read_timeout
        self._offered: dict[
            int, OfficeSlot
        ] = {}  # slots this call was offered: a journalled booking shows one

    async def _bounded(self, work: Awaitable[T]) -> T:
        """A read through the schedule's own functions, bounded like `_reading`."""
        try:
            async with asyncio.timeout(self.read_timeout):
                return await work
        except _UNAVAILABLE as exc:
            raise DataUnavailable(f"database read failed: {type(exc).__name__}") from exc

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncSession]:
        try:
            async with asyncio.timeout(self.read_timeout), self.db.session() as s:
                yield s
        except _UNAVAILABLE as exc:
            raise DataUnavailable(f"database read failed: {type(exc).__name__}") from exc

    # --- the call ---------------------------------------------------------------------------------------

    async def create_call(self, call: CallInfo, scenario: str) -> None:
        await self.ledger.started(
            call.call_id,
            direction=call.direction,
            channel=call.channel,
            scenario=scenario,
            started_at=call.started_at,
            phone=call.phone,
            campaign_id=call.campaign_id,
            contact_id=call.contact_id,
            variables={k: str(v) for k, v in call.variables.items()},
        )

    async def set_scenario(self, call_id: uuid.UUID, scenario: str) -> None:
        await self.ledger.scenario(call_id, scenario)

    async def add_turns(self, call_id: uuid.UUID, turns: list[dict[str, Any]]) -> None:
        if not turns:
            return
        await self.writer.write("turns.add", {"call_id": call_id, "turns": turns})

    async def finish_call(self, ctx: DialogueContext, scenario: str) -> None:
        meta = {"transfer": ctx.transfer_to} if ctx.transfer_to else None
        await self.ledger.ended(
            ctx.call.call_id,
            outcome=ctx.outcome or "hangup",
            ended_at=ctx.instant,
            meta=meta,
            scenario=scenario,
            account_id=ctx.slots.get("account_id"),
        )

    # --- registry ---------------------------------------------------------------------------------------

    async def accounts_by_phone(self, phone: str | None) -> list[AccountInfo]:
        if not phone:
            return []
        async with self._reading() as s:
            rows = await s.execute(
                select(Account).join(AccountPhone).where(AccountPhone.phone == phone).order_by(Account.id)
            )
            return [_account(a) for a in rows.scalars()]

    async def account_by_number(self, number: str) -> AccountInfo | None:
        async with self._reading() as s:
            found = await s.scalar(select(Account).where(Account.number == number))
            if found is None and number.isdigit():
                # Callers drop leading zeros they do not hear on the receipt ("семь двадцать три…").
                found = await s.scalar(
                    select(Account).where(func.ltrim(Account.number, "0") == number.lstrip("0"))
                )
            return _account(found) if found else None

    async def accounts_by_address(
        self, street: str | None, house: str | None, flat: str | None, building: str | None = None
    ) -> list[AccountInfo]:
        if not street:
            return []
        key = normalize_key(street)
        async with self._reading() as s:
            stmt = select(Account).where(
                func.lower(func.replace(Account.street, "ё", "е")).like(f"%{key[: max(4, len(key) - 2)]}%")
            )
            if house:
                stmt = stmt.where(func.lower(Account.house) == house.lower())
            if flat:
                stmt = stmt.where(Account.flat == flat)
            if building:
                stmt = stmt.where(or_(Account.building == building, Account.building.is_(None)))
            rows = await s.execute(stmt.order_by(Account.id).limit(20))
            return [_account(a) for a in rows.scalars()]

    async def meters(self, account_id: int) -> list[MeterInfo]:
        async with self._reading() as s:
            rows = await s.execute(
                select(Meter).where(Meter.account_id == account_id).order_by(Meter.position)
            )
            return [
                MeterInfo(
                    m.id, m.meter_id, m.resource, m.location, m.last_value, m.last_date, m.verification_due
                )
                for m in rows.scalars()
            ]

    async def active_outage(self, street: str | None, house: str | None, at: datetime) -> str | None:
        async with self._reading() as s:
            return await active_outage_message(s, [(street, house)], at)

    # --- office appointments (one schedule for every channel; voicebot/db/appointments.py) ------------
    # A booking goes to PostgreSQL at once while it answers, so a slot someone else took is known while the
    # caller is still on the line. With the database away (or too slow), it goes to the local journal like
    # every other record: replayed when the database is back, and should the slot be gone by then, left to
    # staff as a task to call the resident (voicebot.dialogue.records.book_appointment).

    async def upcoming_appointment(self, phone: str | None, now: datetime) -> OfficeAppointment | None:
        return await self._bounded(appointments.upcoming_for_phone(self.db, phone, now))

    async def free_office_slots(self, after: datetime, until: datetime) -> list[OfficeSlot]:
        slots = await self._bounded(appointments.free_slots(self.db, after=after, until=until))
        self._offered.update((slot.id, slot) for slot in slots)
        return slots

    def _write_wait(self) -> float | None:
        return None if self.read_timeout is None else self.read_timeout * 2

    async def book_appointment(self, ctx: DialogueContext, slot_id: int, topic: str) -> OfficeAppointment:
        payload = {"slot_id": slot_id, "phone": ctx.call.phone or "", "channel": ctx.call.channel,
                   "now": ctx.now, "topic": topic, "call_id": ctx.call.call_id}  # fmt: skip
        try:
            async with asyncio.timeout(self._write_wait()):
                return await appointments.book(self.db, **payload)
        except _UNAVAILABLE as exc:
            slot = self._offered.get(slot_id)
            if slot is None:  # nothing to tell the caller: overflow message and a callback
                raise DataUnavailable(f"booking failed: {type(exc).__name__}") from exc
            await self.writer.write(APPOINTMENT_BOOK, payload)
            return OfficeAppointment(id=0, slot_id=slot_id, slot=slot, phone=payload["phone"], topic=topic,
                                     channel=ctx.call.channel, call_id=ctx.call.call_id, status="booked")  # fmt: skip

    async def reschedule_appointment(
        self, ctx: DialogueContext, appointment_id: int, slot_id: int
    ) -> OfficeAppointment:
        try:
            async with asyncio.timeout(self._write_wait()):
                return await appointments.reschedule(self.db, appointment_id, slot_id, now=ctx.now)
        except _UNAVAILABLE as exc:
            slot = self._offered.get(slot_id)
            if slot is None:
                raise DataUnavailable(f"rescheduling failed: {type(exc).__name__}") from exc
            await self.writer.write(APPOINTMENT_MOVE, {"appointment_id": appointment_id, "slot_id": slot_id,
                                                       "now": ctx.now, "call_id": ctx.call.call_id})  # fmt: skip
            return OfficeAppointment(id=appointment_id, slot_id=slot_id, slot=slot, phone=ctx.call.phone or "",
                                     channel=ctx.call.channel, call_id=ctx.call.call_id, status="booked")  # fmt: skip

    async def appointment_status(
        self, appointment_id: int, status: str, *, confirmed_at: datetime | None = None, call_id: Any = None
    ) -> None:
        try:
            async with asyncio.timeout(self._write_wait()):
                await appointments.set_status(self.db, appointment_id, status, confirmed_at=confirmed_at)
        except _UNAVAILABLE:
            await self.writer.write(APPOINTMENT_STATUS, {"appointment_id": appointment_id, "status": status,
                                                         "confirmed_at": confirmed_at, "call_id": call_id})  # fmt: skip

    async def appointment(self, appointment_id: int) -> OfficeAppointment | None:
        try:
            return await self._bounded(appointments.get(self.db, appointment_id))
        except LookupError:
            return None

    async def company_card(self) -> dict[str, str]:
        try:
            async with asyncio.timeout(self.read_timeout):
                return (await load_card(self.db)).as_dict()
        except _UNAVAILABLE as exc:
            raise DataUnavailable(f"database read failed: {type(exc).__name__}") from exc

    async def ticket_by_number(self, number: str) -> TicketInfo | None:
        async with self._reading() as s:
            found = await s.scalar(select(Ticket).where(Ticket.number == number))
            return _ticket(found) if found else None

    # --- writes -----------------------------------------------------------------------------------------

    async def save_readings(
        self, ctx: DialogueContext, account: AccountInfo, values: list[dict[str, Any]]
    ) -> None:
        """values: {meter: MeterInfo, value: Decimal, period: 'YYYY-MM', status}."""
        readings = [
            {"account_id": account.id, "meter_pk": v["meter"].id, "value": v["value"], "period": v["period"],
             "status": v["status"], "call_id": ctx.call.call_id}
            for v in values
        ]  # fmt: skip
        await self.writer.write("readings.save", {"readings": readings, "date": ctx.now.date()})
        record_readings(ctx, account, values)

    async def save_promise(
        self, ctx: DialogueContext, account: AccountInfo | None, amount: Decimal | None, promised: date
    ) -> None:
        await self.writer.write(
            "promise.save",
            {"account_id": account.id if account else None, "call_id": ctx.call.call_id, "amount": amount,
             "promised_date": promised, "status": "pending"},
        )  # fmt: skip
        record_promise(ctx, account, amount, promised)

    async def withdraw_promises(self, ctx: DialogueContext) -> None:
        """A dispute or a change of owner after a promise: the promise of this call no longer stands."""
        if not ctx.records["promises"]:
            return
        await self.writer.write("promises.withdraw", {"call_id": ctx.call.call_id})
        ctx.records["promises"].clear()

    async def next_ticket_number(self) -> str:
        try:
            async with asyncio.timeout(self.read_timeout), self.db.transaction() as s:
                while True:
                    number = str(await s.scalar(text("SELECT nextval('ticket_number_seq')")))
                    if not await s.scalar(
                        select(func.count()).select_from(Ticket).where(Ticket.number == number)
                    ):
                        return number
        except _UNAVAILABLE as exc:
            raise DataUnavailable(f"no ticket number: {type(exc).__name__}") from exc

    async def create_ticket(self, ctx: DialogueContext, data: dict[str, Any]) -> TicketInfo:
        number = await self.next_ticket_number()
        row = {
            "number": number, "account_id": ctx.slots.get("account_id"), "call_id": ctx.call.call_id,
            "category": data["category"], "priority": data["priority"], "address": data["address"],
            "description": data["description"], "status": "new", "created_at": ctx.now, "due_at": data["due_at"],
            "responsible": data.get("responsible"), "contact_phone": data.get("contact_phone") or ctx.call.phone,
            "contact_name": data.get("contact_name"),
        }  # fmt: skip
        await self.writer.write("ticket.create", {"ticket": row})
        info = TicketInfo(
            0, number, row["category"], row["priority"], row["address"], row["description"], "new",
            ctx.now, row["due_at"], row["responsible"],
        )  # fmt: skip
        ctx.record("tickets", ticket_record(info, ctx.timezone))
        return info

    async def update_ticket(
        self,
        ctx: DialogueContext,
        number: str,
        *,
        status: str | None = None,
        comment: str | None = None,
        **values: Any,
    ) -> TicketInfo | None:
        current = await self.ticket_by_number(number)
        if current is None:
            return None
        payload = {"number": number, "values": values, "status": status, "comment": comment,
                   "call_id": ctx.call.call_id, "at": ctx.now}  # fmt: skip
        await self.writer.write("ticket.update", payload)
        changed = {k: v for k, v in values.items() if k in TicketInfo.__dataclass_fields__}
        info = replace(current, **changed, **({"status": status} if status else {}))
        record_ticket_update(ctx, info, status)
        return info

    async def save_nps(
        self,
        ctx: DialogueContext,
        ticket_number: str | None,
        resolved: bool | None,
        score: int | None,
        comment: str | None,
    ) -> None:
        await self.writer.write(
            "nps.save",
            {"ticket_number": ticket_number, "call_id": ctx.call.call_id, "resolved": resolved, "score": score,
             "comment": comment},
        )  # fmt: skip
        ctx.record("nps", nps_record(ticket_number, resolved, score, comment))

    async def save_visit(self, ctx: DialogueContext, visit_id: str, values: dict[str, Any]) -> None:
        row = {"visit_id": visit_id, "call_id": ctx.call.call_id, "phone": ctx.call.phone, **values}
        await self.writer.write("visit.save", {"row": row})
        ctx.record("visits", visit_record(visit_id, values))

    async def create_callback(
        self, ctx: DialogueContext, due_at: datetime, *, reason: str = "requested", phone: str | None = None
    ) -> None:
        phone = phone or ctx.call.phone or ""
        if not phone:  # an anonymous caller: nothing to dial, the dialogue still shows the request
            ctx.record("callbacks", callback_record(phone, due_at, reason))
            return
        await self.writer.write(
            "callback.schedule",
            {"phone": phone, "reason": reason, "missed_at": ctx.now if reason != "requested" else None,
             "due_at": due_at, "source_call_id": ctx.call.call_id, "scenario": ctx.flow.name,
             "account_id": ctx.slots.get("account_id")},
        )  # fmt: skip
        ctx.record("callbacks", callback_record(phone, due_at, reason))

    async def create_task(
        self, ctx: DialogueContext, kind: str, payload: dict[str, Any], due_in: timedelta | None = None
    ) -> None:
        clean = json_value(payload)
        await self.writer.write(
            "task.create",
            {"kind": kind, "account_id": ctx.slots.get("account_id"), "call_id": ctx.call.call_id,
             "payload": clean, "due_at": ctx.now + due_in if due_in else None},
        )  # fmt: skip
        ctx.record("tasks", {"kind": kind, **clean})

    async def add_do_not_call(self, ctx: DialogueContext, reason: str) -> None:
        if not ctx.call.phone:
            return
        await self.writer.write(
            "do_not_call.add", {"phone": ctx.call.phone, "reason": reason, "source_call_id": ctx.call.call_id}
        )

    async def create_voice_message(
        self, ctx: DialogueContext, transcript: str, review_within: timedelta
    ) -> None:
        await self.writer.write(
            "voice_message.create",
            {"call_id": ctx.call.call_id, "phone": ctx.call.phone, "account_id": ctx.slots.get("account_id"),
             "transcript": transcript, "created_at": ctx.now, "review_due_at": ctx.now + review_within},
        )  # fmt: skip
        ctx.record("voice_messages", {"phone": ctx.call.phone, "transcript": transcript})

    async def debt_calls_since(
        self, account_number: str | None, phone: str | None, since: datetime, *, channel: str = "voice"
    ) -> int:
        """Outbound debt calls (or, with channel `max`, messenger conversations) already made to this debtor."""
        async with self._reading() as s:
            stmt = (
                select(func.count())
                .select_from(Call)
                .where(
                    Call.direction == "outbound",
                    Call.scenario == "debt_reminder",
                    Call.started_at >= since,
                    # 230-ФЗ counts calls and messages apart: a messenger conversation counts as messages.
                    (Call.channel == "max") if channel == "max" else (Call.channel != "max"),
                )
            )
            conditions = []
            if phone:
                conditions.append(Call.phone == phone)
            if account_number:
                conditions.append(Call.variables["account"].astext == account_number)
            if conditions:
                stmt = stmt.where(or_(*conditions))
            return int(await s.scalar(stmt) or 0)


def _num(value: Decimal | int | float) -> int | float:
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else float(d)


# --- what a write shows in ctx.records (the real store and the sandbox share these) ---------------------


def record_readings(ctx: DialogueContext, account: AccountInfo, values: list[dict[str, Any]]) -> None:
    for v in values:
        ctx.record(
            "readings",
            {
                "account": account.number,
                "meter_id": v["meter"].meter_id,
                "resource": v["meter"].resource,
                "value": _num(v["value"]),
                "period": v["period"],
                "status": v["status"],
            },
        )


def record_promise(
    ctx: DialogueContext, account: AccountInfo | None, amount: Decimal | None, promised: date
) -> None:
    ctx.record(
        "promises",
        {
            "account": account.number if account else ctx.call.variables.get("account"),
            "amount": _num(amount) if amount is not None else None,
            "promised_date": promised.isoformat(),
        },
    )


def record_ticket_update(ctx: DialogueContext, info: TicketInfo, status: str | None) -> None:
    existing = [r for r in ctx.records["tickets"] if r["number"] == info.number]
    if existing:
        existing[0].update(ticket_record(info, ctx.timezone))
    elif status:
        ctx.record("tickets", ticket_record(info, ctx.timezone))


def nps_record(
    ticket_number: str | None, resolved: bool | None, score: int | None, comment: str | None
) -> dict[str, Any]:
    return {"ticket_number": ticket_number, "resolved": resolved, "score": score, "comment": comment}


def visit_record(visit_id: str, values: dict[str, Any]) -> dict[str, Any]:
    keys = ("status", "new_slot", "note", "contact_phone")
    return {"visit_id": visit_id, **{k: values.get(k) for k in keys}}


def callback_record(phone: str, due_at: datetime, reason: str) -> dict[str, Any]:
    return {"phone": phone, "due_at": due_at.isoformat(), "reason": reason}


def ticket_record(t: TicketInfo, timezone: str) -> dict[str, Any]:
    due = t.due_at.astimezone(ZoneInfo(timezone)).isoformat() if t.due_at else None
    return {
        "number": t.number,
        "category": t.category,
        "priority": t.priority,
        "address": t.address,
        "due_at": due,
        "responsible": t.responsible,
        "status": t.status,
    }
