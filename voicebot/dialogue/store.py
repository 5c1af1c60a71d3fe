"""Everything a dialogue reads from and writes to Postgres.

Each write is its own committed transaction and returns only after the commit, so when the bot says
"saved" it is. Every write also lands in the context's `records`, which `simulate` prints at the end.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from voicebot.db import appointments
from voicebot.db.callbacks import schedule_callback
from voicebot.db.company import load_card
from voicebot.db.models import (
    Account,
    AccountPhone,
    Call,
    CallTurn,
    DoNotCall,
    HumanTask,
    Meter,
    NpsAnswer,
    OfficeAppointment,
    OfficeSlot,
    Promise,
    Reading,
    Ticket,
    TicketEvent,
    Visit,
    VoiceMessage,
)
from voicebot.db.outages import active_outage_message
from voicebot.db.session import Database
from voicebot.values import json_value, normalize_key

if TYPE_CHECKING:
    from voicebot.dialogue.context import CallInfo, DialogueContext


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


class DialogueStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- the call ---------------------------------------------------------------------------------------

    async def create_call(self, call: CallInfo, scenario: str) -> None:
        async with self.db.transaction() as s:
            await s.execute(
                insert(Call).values(
                    id=call.call_id,
                    direction=call.direction,
                    channel=call.channel,
                    scenario=scenario,
                    phone=call.phone,
                    campaign_id=call.campaign_id,
                    contact_id=call.contact_id,
                    started_at=call.started_at,
                    answered_at=call.started_at,
                    offered_at=call.started_at,
                    variables={k: str(v) for k, v in call.variables.items()},
                )
            )

    async def set_scenario(self, call_id: uuid.UUID, scenario: str) -> None:
        async with self.db.transaction() as s:
            await s.execute(update(Call).where(Call.id == call_id).values(scenario=scenario))

    async def add_turns(self, call_id: uuid.UUID, turns: list[dict[str, Any]]) -> None:
        if not turns:
            return
        async with self.db.transaction() as s:
            await s.execute(insert(CallTurn), [{**t, "call_id": call_id} for t in turns])

    async def finish_call(self, ctx: DialogueContext, scenario: str) -> None:
        account_id = ctx.slots.get("account_id")
        meta = {"transfer": ctx.transfer_to} if ctx.transfer_to else {}
        async with self.db.transaction() as s:
            await s.execute(
                update(Call)
                .where(Call.id == ctx.call.call_id)
                .values(
                    outcome=ctx.outcome,
                    scenario=scenario,
                    status="ended",
                    ended_at=ctx.instant,
                    account_id=account_id,
                    meta=meta,
                )
            )

    # --- registry ---------------------------------------------------------------------------------------

    async def accounts_by_phone(self, phone: str | None) -> list[AccountInfo]:
        if not phone:
            return []
        async with self.db.session() as s:
            rows = await s.execute(
                select(Account).join(AccountPhone).where(AccountPhone.phone == phone).order_by(Account.id)
            )
            return [_account(a) for a in rows.scalars()]

    async def account_by_number(self, number: str) -> AccountInfo | None:
        async with self.db.session() as s:
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
        async with self.db.session() as s:
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
        async with self.db.session() as s:
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
        async with self.db.session() as s:
            return await active_outage_message(s, [(street, house)], at)

    # --- office appointments (one schedule for every channel; voicebot/db/appointments.py) ------------

    async def upcoming_appointment(self, phone: str | None, now: datetime) -> OfficeAppointment | None:
        return await appointments.upcoming_for_phone(self.db, phone, now)

    async def free_office_slots(self, after: datetime, until: datetime) -> list[OfficeSlot]:
        return await appointments.free_slots(self.db, after=after, until=until)

    async def book_appointment(self, ctx: DialogueContext, slot_id: int, topic: str) -> OfficeAppointment:
        return await appointments.book(
            self.db, slot_id, phone=ctx.call.phone or "", channel=ctx.call.channel, now=ctx.now, topic=topic,
            call_id=ctx.call.call_id,
        )  # fmt: skip

    async def reschedule_appointment(
        self, ctx: DialogueContext, appointment_id: int, slot_id: int
    ) -> OfficeAppointment:
        return await appointments.reschedule(self.db, appointment_id, slot_id, now=ctx.now)

    async def appointment_status(
        self, appointment_id: int, status: str, *, confirmed_at: datetime | None = None
    ) -> None:
        await appointments.set_status(self.db, appointment_id, status, confirmed_at=confirmed_at)

    async def appointment(self, appointment_id: int) -> OfficeAppointment | None:
        try:
            return await appointments.get(self.db, appointment_id)
        except LookupError:
            return None

    async def company_card(self) -> dict[str, str]:
        return (await load_card(self.db)).as_dict()

    async def ticket_by_number(self, number: str) -> TicketInfo | None:
        async with self.db.session() as s:
            found = await s.scalar(select(Ticket).where(Ticket.number == number))
            return _ticket(found) if found else None

    # --- writes -----------------------------------------------------------------------------------------

    async def save_readings(
        self, ctx: DialogueContext, account: AccountInfo, values: list[dict[str, Any]]
    ) -> None:
        """values: {meter: MeterInfo, value: Decimal, period: 'YYYY-MM', status}."""
        async with self.db.transaction() as s:
            await s.execute(
                insert(Reading),
                [
                    {
                        "account_id": account.id,
                        "meter_pk": v["meter"].id,
                        "value": v["value"],
                        "period": v["period"],
                        "status": v["status"],
                        "call_id": ctx.call.call_id,
                    }
                    for v in values
                ],
            )
            for v in values:
                if v["status"] == "accepted":
                    await s.execute(
                        update(Meter)
                        .where(Meter.id == v["meter"].id)
                        .values(last_value=v["value"], last_date=ctx.now.date())
                    )
        record_readings(ctx, account, values)

    async def save_promise(
        self, ctx: DialogueContext, account: AccountInfo | None, amount: Decimal | None, promised: date
    ) -> None:
        async with self.db.transaction() as s:
            await s.execute(
                insert(Promise).values(
                    account_id=account.id if account else None,
                    call_id=ctx.call.call_id,
                    amount=amount,
                    promised_date=promised,
                    status="pending",
                )
            )
        record_promise(ctx, account, amount, promised)

    async def withdraw_promises(self, ctx: DialogueContext) -> None:
        """A dispute or a change of owner after a promise: the promise of this call no longer stands."""
        if not ctx.records["promises"]:
            return
        async with self.db.transaction() as s:
            await s.execute(delete(Promise).where(Promise.call_id == ctx.call.call_id))
        ctx.records["promises"].clear()

    async def next_ticket_number(self) -> str:
        async with self.db.transaction() as s:
            while True:
                number = str(await s.scalar(text("SELECT nextval('ticket_number_seq')")))
                if not await s.scalar(
                    select(func.count()).select_from(Ticket).where(Ticket.number == number)
                ):
                    return number

    async def create_ticket(self, ctx: DialogueContext, data: dict[str, Any]) -> TicketInfo:
        number = await self.next_ticket_number()
        async with self.db.transaction() as s:
            ticket = Ticket(
                number=number,
                account_id=ctx.slots.get("account_id"),
                call_id=ctx.call.call_id,
                category=data["category"],
                priority=data["priority"],
                address=data["address"],
                description=data["description"],
                status="new",
                created_at=ctx.now,
                due_at=data["due_at"],
                responsible=data.get("responsible"),
                contact_phone=data.get("contact_phone") or ctx.call.phone,
                contact_name=data.get("contact_name"),
            )
            s.add(ticket)
            await s.flush()
            s.add(
                TicketEvent(
                    ticket_id=ticket.id, status="new", actor="bot", call_id=ctx.call.call_id, at=ctx.now
                )
            )
        info = _ticket(ticket)
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
        async with self.db.transaction() as s:
            ticket = await s.scalar(select(Ticket).where(Ticket.number == number).with_for_update())
            if ticket is None:
                return None
            for key, value in values.items():
                setattr(ticket, key, value)
            if status:
                ticket.status = status
                ticket.closed_at = ctx.now if status in ("done", "cancelled") else None
            s.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    status=ticket.status,
                    comment=comment,
                    actor="bot",
                    call_id=ctx.call.call_id,
                    at=ctx.now,
                )
            )
        info = _ticket(ticket)
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
        async with self.db.transaction() as s:
            await s.execute(
                insert(NpsAnswer).values(
                    ticket_number=ticket_number,
                    call_id=ctx.call.call_id,
                    resolved=resolved,
                    score=score,
                    comment=comment,
                )
            )
        ctx.record("nps", nps_record(ticket_number, resolved, score, comment))

    async def save_visit(self, ctx: DialogueContext, visit_id: str, values: dict[str, Any]) -> None:
        row = {"visit_id": visit_id, "call_id": ctx.call.call_id, "phone": ctx.call.phone, **values}
        async with self.db.transaction() as s:
            stmt = pg_insert(Visit).values(row)
            await s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[Visit.visit_id],
                    set_={k: stmt.excluded[k] for k in row if k != "visit_id"},
                )
            )
        ctx.record("visits", visit_record(visit_id, values))

    async def create_callback(
        self, ctx: DialogueContext, due_at: datetime, *, reason: str = "requested", phone: str | None = None
    ) -> None:
        phone = phone or ctx.call.phone or ""
        if not phone:  # an anonymous caller: nothing to dial, the dialogue still shows the request
            ctx.record("callbacks", callback_record(phone, due_at, reason))
            return
        async with self.db.transaction() as s:
            await schedule_callback(
                s,
                phone,
                reason,
                missed_at=ctx.now if reason != "requested" else None,
                due_at=due_at,
                source_call_id=ctx.call.call_id,
                scenario=ctx.flow.name,
                account_id=ctx.slots.get("account_id"),
            )
        ctx.record("callbacks", callback_record(phone, due_at, reason))

    async def create_task(
        self, ctx: DialogueContext, kind: str, payload: dict[str, Any], due_in: timedelta | None = None
    ) -> None:
        clean = jsonable(payload)
        async with self.db.transaction() as s:
            await s.execute(
                insert(HumanTask).values(
                    kind=kind,
                    account_id=ctx.slots.get("account_id"),
                    call_id=ctx.call.call_id,
                    payload=clean,
                    due_at=ctx.now + due_in if due_in else None,
                )
            )
        ctx.record("tasks", {"kind": kind, **clean})

    async def add_do_not_call(self, ctx: DialogueContext, reason: str) -> None:
        if not ctx.call.phone:
            return
        async with self.db.transaction() as s:
            stmt = pg_insert(DoNotCall).values(
                phone=ctx.call.phone, reason=reason, source_call_id=ctx.call.call_id
            )
            await s.execute(
                stmt.on_conflict_do_update(index_elements=[DoNotCall.phone], set_={"reason": reason})
            )

    async def create_voice_message(
        self, ctx: DialogueContext, transcript: str, review_within: timedelta
    ) -> None:
        async with self.db.transaction() as s:
            await s.execute(
                insert(VoiceMessage).values(
                    call_id=ctx.call.call_id,
                    phone=ctx.call.phone,
                    account_id=ctx.slots.get("account_id"),
                    transcript=transcript,
                    created_at=ctx.now,
                    review_due_at=ctx.now + review_within,
                )
            )
        ctx.record("voice_messages", {"phone": ctx.call.phone, "transcript": transcript})

    async def debt_calls_since(
        self, account_number: str | None, phone: str | None, since: datetime, *, channel: str = "voice"
    ) -> int:
        """Outbound debt calls (or, with channel `max`, messenger conversations) already made to this debtor."""
        async with self.db.session() as s:
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


def jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: json_value(v) for k, v in payload.items()}


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
