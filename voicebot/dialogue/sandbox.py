"""The sandbox of the test channels («Проверить бота», `voicebot simulate`, the browser microphone).

A sandbox dialogue runs the same scenarios and NLU as a real call, but nothing it does is written: no
`calls` row, no readings, promises, tickets, tasks (so no SMS), callbacks, do-not-call entries, NPS or
visits. What the dialogue *would* have saved still lands in `ctx.records`, which the channels show. So a
test can never reach the billing tables, analytics, exports, SMS, webhooks or the dialer.

Reading residents is split by role: admin, staff and supervisors (who see resident data in the API
anyway) talk to the real registry; everyone else (ops) gets one synthetic demo resident, whatever
phone number, account or address they type or say.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from voicebot.db.appointments import SlotTaken
from voicebot.db.models import OfficeAppointment, OfficeSlot
from voicebot.dialogue.store import (
    AccountInfo,
    DialogueStore,
    MeterInfo,
    TicketInfo,
    callback_record,
    nps_record,
    record_promise,
    record_readings,
    record_ticket_update,
    ticket_record,
    visit_record,
)
from voicebot.values import json_value

if TYPE_CHECKING:
    from voicebot.dialogue.context import CallInfo, DialogueContext

RESIDENT_DATA_ROLES = frozenset({"admin", "staff", "supervisor"})
SANDBOX_TICKETS_FROM = 900_001  # numbers a sandbox ticket is read out with; never stored

DEMO_ACCOUNT = AccountInfo(
    id=-1,
    number="000001",
    address="ул. Примерная, д. 1, кв. 1",
    street="Примерная",
    house="1",
    building=None,
    flat="1",
    owner="Демо Житель",
    timezone="Europe/Moscow",
    debt=Decimal("1520.40"),
    debt_period="2025-10",
)
DEMO_METERS = (
    MeterInfo(-1, "cw-demo", "cold_water", "ванная", Decimal("205"), date(2025, 10, 24), date(2029, 5, 1)),
    MeterInfo(-2, "hw-demo", "hot_water", "ванная", Decimal("118"), date(2025, 10, 24), date(2029, 5, 1)),
)


@dataclass(frozen=True)
class Sandbox:
    real_residents: bool  # False: the synthetic demo resident stands in for every lookup

    @classmethod
    def for_role(cls, role: str) -> Sandbox:
        return cls(real_residents=role in RESIDENT_DATA_ROLES)


class SandboxStore(DialogueStore):
    """DialogueStore whose writes only reach ctx.records (and whose residents may be synthetic)."""

    def __init__(self, db: Any, sandbox: Sandbox) -> None:
        super().__init__(db)
        self.sandbox = sandbox
        self._numbers = itertools.count(SANDBOX_TICKETS_FROM)
        self._tickets: dict[str, TicketInfo] = {}

    # --- reads: real for roles that see residents, the demo resident for the others ------------------

    async def accounts_by_phone(self, phone: str | None) -> list[AccountInfo]:
        if self.sandbox.real_residents:
            return await super().accounts_by_phone(phone)
        return [DEMO_ACCOUNT] if phone else []

    async def account_by_number(self, number: str) -> AccountInfo | None:
        if self.sandbox.real_residents:
            return await super().account_by_number(number)
        return DEMO_ACCOUNT

    async def accounts_by_address(
        self, street: str | None, house: str | None, flat: str | None, building: str | None = None
    ) -> list[AccountInfo]:
        if self.sandbox.real_residents:
            return await super().accounts_by_address(street, house, flat, building)
        return [DEMO_ACCOUNT] if street else []

    async def meters(self, account_id: int) -> list[MeterInfo]:
        if account_id == DEMO_ACCOUNT.id:
            return list(DEMO_METERS)
        return await super().meters(account_id)

    async def ticket_by_number(self, number: str) -> TicketInfo | None:
        if number in self._tickets:
            return self._tickets[number]
        return await super().ticket_by_number(number) if self.sandbox.real_residents else None

    async def debt_calls_since(
        self, account_number: str | None, phone: str | None, since: datetime, *, channel: str = "voice"
    ) -> int:
        return 0

    # --- writes: only what the dialogue shows ---------------------------------------------------------

    async def create_call(self, call: CallInfo, scenario: str) -> None:
        return None

    async def set_scenario(self, call_id: uuid.UUID, scenario: str) -> None:
        return None

    async def add_turns(self, call_id: uuid.UUID, turns: list[dict[str, Any]]) -> None:
        return None

    async def finish_call(self, ctx: DialogueContext, scenario: str) -> None:
        return None

    async def save_readings(
        self, ctx: DialogueContext, account: AccountInfo, values: list[dict[str, Any]]
    ) -> None:
        record_readings(ctx, account, values)

    async def save_promise(
        self, ctx: DialogueContext, account: AccountInfo | None, amount: Decimal | None, promised: date
    ) -> None:
        record_promise(ctx, account, amount, promised)

    async def next_ticket_number(self) -> str:
        return str(next(self._numbers))

    async def create_ticket(self, ctx: DialogueContext, data: dict[str, Any]) -> TicketInfo:
        number = await self.next_ticket_number()
        info = TicketInfo(
            -int(number), number, data["category"], data["priority"], data["address"], data["description"],
            "new", ctx.now, data["due_at"], data.get("responsible"),
        )  # fmt: skip
        self._tickets[number] = info
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
        known = {k: v for k, v in values.items() if k in TicketInfo.__dataclass_fields__}
        info = replace(current, **known, **({"status": status} if status else {}))
        self._tickets[number] = info
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
        ctx.record("nps", nps_record(ticket_number, resolved, score, comment))

    async def save_visit(self, ctx: DialogueContext, visit_id: str, values: dict[str, Any]) -> None:
        ctx.record("visits", visit_record(visit_id, values))

    async def create_callback(
        self, ctx: DialogueContext, due_at: datetime, *, reason: str = "requested", phone: str | None = None
    ) -> None:
        ctx.record("callbacks", callback_record(phone or ctx.call.phone or "", due_at, reason))

    async def create_task(
        self, ctx: DialogueContext, kind: str, payload: dict[str, Any], due_in: timedelta | None = None
    ) -> None:
        ctx.record("tasks", {"kind": kind, **json_value(payload)})

    async def add_do_not_call(self, ctx: DialogueContext, reason: str) -> None:
        return None

    # Office appointments: the real schedule is read, a booking is only shown (the slot stays free).
    async def book_appointment(self, ctx: DialogueContext, slot_id: int, topic: str) -> OfficeAppointment:
        return await self._pretend_booking(ctx, slot_id)

    async def reschedule_appointment(
        self, ctx: DialogueContext, appointment_id: int, slot_id: int
    ) -> OfficeAppointment:
        return await self._pretend_booking(ctx, slot_id)

    async def appointment_status(
        self, appointment_id: int, status: str, *, confirmed_at: datetime | None = None, call_id: Any = None
    ) -> None:
        return None

    async def _pretend_booking(self, ctx: DialogueContext, slot_id: int) -> OfficeAppointment:
        async with self.db.session() as s:
            slot = await s.get(OfficeSlot, slot_id)
        if slot is None:
            raise SlotTaken(f"slot {slot_id} is not open for booking")
        return OfficeAppointment(
            id=-slot_id, slot_id=slot_id, slot=slot, phone=ctx.call.phone or "", status="booked"
        )

    async def create_voice_message(
        self, ctx: DialogueContext, transcript: str, review_within: timedelta
    ) -> None:
        ctx.record("voice_messages", {"phone": ctx.call.phone, "transcript": transcript})
