"""The relational schema. Alembic migrations in `migrations/` create it; nothing calls create_all.

Money is `Numeric(12, 2)`, meter values `Numeric(14, 3)`, every timestamp is `timestamptz`.
Indexes follow the queries of the dialer (due work by state and time), the SLA clock (callbacks,
voice messages by due time) and analytics (calls by start time, scenario and outcome).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(12, 2)
MeterValue = Numeric(14, 3)
TZ = DateTime(timezone=True)

RESOURCES = (
    "cold_water",
    "hot_water",
    "electricity",
    "electricity_t1",
    "electricity_t2",
    "electricity_t3",
    "gas",
    "heat",
)
TICKET_STATUSES = ("new", "in_progress", "done", "cancelled")
ROLES = ("admin", "staff", "ops", "supervisor")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def created_at() -> Mapped[datetime]:
    return mapped_column(TZ, server_default=func.now(), nullable=False)


# --- registry: accounts, phones, meters, outages ---------------------------------------------------


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    address: Mapped[str] = mapped_column(Text)
    street: Mapped[str | None] = mapped_column(Text, index=True)
    house: Mapped[str | None] = mapped_column(String(16))
    building: Mapped[str | None] = mapped_column(String(16))
    flat: Mapped[str | None] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    debt: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    debt_period: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())

    phones: Mapped[list[AccountPhone]] = relationship(back_populates="account", cascade="all, delete-orphan")
    meters: Mapped[list[Meter]] = relationship(
        back_populates="account", order_by="Meter.position", cascade="all, delete-orphan"
    )


class AccountPhone(Base):
    __tablename__ = "account_phones"
    __table_args__ = (UniqueConstraint("account_id", "phone"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(16), index=True)

    account: Mapped[Account] = relationship(back_populates="phones")


class Meter(Base):
    """One register the bot asks for (a two-rate electricity meter is two rows: t1 and t2)."""

    __tablename__ = "meters"
    __table_args__ = (
        UniqueConstraint("account_id", "meter_id"),
        CheckConstraint(_in("resource", RESOURCES), name="resource"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    meter_id: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str] = mapped_column(String(16))
    location: Mapped[str | None] = mapped_column(Text)
    serial: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    last_value: Mapped[Decimal | None] = mapped_column(MeterValue)
    last_date: Mapped[date | None] = mapped_column(Date)
    verification_due: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())

    account: Mapped[Account] = relationship(back_populates="meters")


OUTAGE_POST_STATES = ("posted", "closed", "failed")


class Outage(Base):
    """A declared outage. Inbound callers from an affected building hear `message` first; the same text is
    posted to the MAX house chats of those buildings and the posts are edited when it changes or ends."""

    __tablename__ = "outages"
    __table_args__ = (Index("ix_outages_period", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    ends_at: Mapped[datetime | None] = mapped_column(TZ)
    ended_at: Mapped[datetime | None] = mapped_column(TZ)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())

    buildings: Mapped[list[OutageBuilding]] = relationship(
        cascade="all, delete-orphan", order_by="OutageBuilding.id", lazy="selectin"
    )


class OutageBuilding(Base):
    """One affected building (or a whole street when `house` is empty)."""

    __tablename__ = "outage_buildings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), index=True)
    street: Mapped[str] = mapped_column(Text)
    house: Mapped[str | None] = mapped_column(String(16))


class HouseChat(Base):
    """A building's MAX house chat (the bot is a member): outage posts for the building go there."""

    __tablename__ = "house_chats"
    __table_args__ = (UniqueConstraint("chat_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    street: Mapped[str] = mapped_column(Text)
    house: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = created_at()


class OutagePost(Base):
    """The post of an outage in one house chat: its MAX message id, to edit and close it later."""

    __tablename__ = "outage_posts"
    __table_args__ = (
        UniqueConstraint("outage_id", "chat_id"),
        CheckConstraint(_in("state", OUTAGE_POST_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    members: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class CompanyCard(Base):
    """The company's public card, one row: what MAX house chats must show and what callers ask for."""

    __tablename__ = "company_card"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1, autoincrement=False)
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(Text, default="")
    office_hours: Mapped[str] = mapped_column(Text, default="")
    dispatcher_phone: Mapped[str] = mapped_column(String(32), default="")
    emergency_phone: Mapped[str] = mapped_column(String(32), default="")
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


APPOINTMENT_STATUSES = ("booked", "cancelled", "done", "missed")


class OfficeSlot(Base):
    """One reception window of the service centre's schedule (one visitor per slot and window)."""

    __tablename__ = "office_slots"
    __table_args__ = (
        UniqueConstraint("starts_at", "window"),
        CheckConstraint("ends_at > starts_at", name="period"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(TZ, index=True)
    ends_at: Mapped[datetime] = mapped_column(TZ)
    window: Mapped[str] = mapped_column(String(32), default="1")
    closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_text("false"))
    created_at: Mapped[datetime] = created_at()


class OfficeAppointment(Base):
    """A resident's visit booked into a slot, from any channel. A slot holds at most one live booking:
    the partial unique index is what makes concurrent bookings of one slot fail for all but one."""

    __tablename__ = "office_appointments"
    __table_args__ = (
        CheckConstraint(_in("status", APPOINTMENT_STATUSES), name="status"),
        Index("uq_office_appointments_slot_booked", "slot_id", unique=True,
              postgresql_where=sql_text("status = 'booked'")),
        Index("ix_office_appointments_phone", "phone"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("office_slots.id", ondelete="RESTRICT"))
    phone: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="booked")
    channel: Mapped[str] = mapped_column(String(16), default="staff")
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(TZ)
    reminded_at: Mapped[datetime | None] = mapped_column(TZ)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())

    slot: Mapped[OfficeSlot] = relationship(lazy="joined", innerjoin=True)


class MaxUser(Base):
    """A resident who wrote to the company's MAX bot; `phone` only once they shared it with consent."""

    __tablename__ = "max_users"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str | None] = mapped_column(String(16), index=True)
    consent_at: Mapped[datetime | None] = mapped_column(TZ)
    # «не пишите мне»: no conversation the bot starts (campaigns, reminders); their own messages still answered
    opted_out_at: Mapped[datetime | None] = mapped_column(TZ)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class MaxConversation(Base):
    """A MAX resident's conversation between messages: the open dialogue (voicebot/dialogue/snapshot.py),
    the last message with buttons and the keys of the latest updates handled (MAX delivers at least
    once), so a restarted process continues where the resident left off and answers nothing twice."""

    __tablename__ = "max_conversations"
    __table_args__ = (
        Index("ix_max_conversations_call", "call_id"),
        Index("ix_max_conversations_seen", "seen_at"),
    )

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    call_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    state: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    last_mid: Mapped[str | None] = mapped_column(Text)
    last_text: Mapped[str | None] = mapped_column(Text)
    recent: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=sql_text("'[]'::jsonb"))
    seen_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


# --- calls and what they wrote -----------------------------------------------------------------------


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(_in("direction", ("inbound", "outbound")), name="direction"),
        Index("ix_calls_started_at", "started_at"),
        Index("ix_calls_scenario_outcome_started", "scenario", "outcome", "started_at"),
        Index("ix_calls_phone_started", "phone", "started_at"),
        Index("ix_calls_account_started", "account_id", "started_at"),
        Index("ix_calls_campaign", "campaign_id"),
        Index("ix_calls_contact", "contact_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    direction: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16), default="text")
    scenario: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    dialed: Mapped[str | None] = mapped_column(String(32))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_contacts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    outcome: Mapped[str | None] = mapped_column(String(32))
    offered_at: Mapped[datetime | None] = mapped_column(TZ)
    answered_at: Mapped[datetime | None] = mapped_column(TZ)
    started_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column(TZ)
    recording_path: Mapped[str | None] = mapped_column(Text)
    recording_duration: Mapped[float | None] = mapped_column(Numeric(10, 2))
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=sql_text("'{}'"))
    meta: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=sql_text("'{}'"))

    turns: Mapped[list[CallTurn]] = relationship(order_by="CallTurn.seq", cascade="all, delete-orphan")


class CallTurn(Base):
    __tablename__ = "call_turns"
    __table_args__ = (
        UniqueConstraint("call_id", "seq"),
        CheckConstraint(_in("speaker", ("bot", "caller")), name="speaker"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text, default="")
    step: Mapped[str | None] = mapped_column(String(64))
    start_ms: Mapped[int | None] = mapped_column(Integer)
    end_ms: Mapped[int | None] = mapped_column(Integer)
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Numeric(5, 4))
    entities: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=sql_text("'[]'")
    )
    created_at: Mapped[datetime] = created_at()


class Reading(Base):
    __tablename__ = "readings"
    __table_args__ = (
        CheckConstraint(_in("status", ("accepted", "suspicious")), name="status"),
        Index("ix_readings_account_period", "account_id", "period"),
        Index("ix_readings_meter_period", "meter_pk", "period"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    meter_pk: Mapped[int] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"))
    value: Mapped[Decimal] = mapped_column(MeterValue)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM the reading counts for
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at()


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_in("status", TICKET_STATUSES), name="status"),
        CheckConstraint(_in("priority", ("emergency", "routine")), name="priority"),
        Index("ix_tickets_status_due", "status", "due_at"),
        Index("ix_tickets_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16), default="routine")
    address: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="new")
    created_at: Mapped[datetime] = created_at()
    due_at: Mapped[datetime | None] = mapped_column(TZ)
    responsible: Mapped[str | None] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_name: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(TZ)

    events: Mapped[list[TicketEvent]] = relationship(order_by="TicketEvent.id", cascade="all, delete-orphan")


class TicketEvent(Base):
    """The status history of a ticket, one row per change."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(Text)
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class Promise(Base):
    __tablename__ = "promises"
    __table_args__ = (
        CheckConstraint(_in("status", ("pending", "kept", "broken")), name="status"),
        Index("ix_promises_status_date", "status", "promised_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    promised_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = created_at()


class NpsAnswer(Base):
    __tablename__ = "nps_answers"
    __table_args__ = (CheckConstraint("score IS NULL OR score BETWEEN 0 AND 10", name="score"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_number: Mapped[str | None] = mapped_column(String(32), index=True)
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(
            _in("status", ("planned", "confirmed", "rescheduled", "declined", "confirmed_by_proxy")),
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    visit_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    phone: Mapped[str | None] = mapped_column(String(32))
    window_start: Mapped[datetime | None] = mapped_column(TZ)
    window_end: Mapped[datetime | None] = mapped_column(TZ)
    specialist: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), default="planned")
    new_slot: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


# --- the SLA clock: callbacks and voice messages -------------------------------------------------------


class Callback(Base):
    __tablename__ = "callbacks"
    __table_args__ = (
        CheckConstraint(_in("reason", ("missed", "abandoned", "overflow", "requested")), name="reason"),
        CheckConstraint(
            _in("status", ("pending", "in_progress", "done", "failed", "cancelled")), name="status"
        ),
        Index("ix_callbacks_status_due", "status", "due_at"),
        # one open callback per phone: `db.callbacks.schedule_callback` merges into it (ON CONFLICT)
        Index(
            "ux_callbacks_open_phone",
            "phone",
            unique=True,
            postgresql_where=sql_text("status IN ('pending', 'in_progress')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(16))
    scenario: Mapped[str | None] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    source_call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    missed_at: Mapped[datetime | None] = mapped_column(TZ)
    due_at: Mapped[datetime] = mapped_column(TZ)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(TZ)
    result: Mapped[str | None] = mapped_column(String(32))
    placed_call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(TZ)
    created_at: Mapped[datetime] = created_at()
    handled_at: Mapped[datetime | None] = mapped_column(TZ)  # closed by a person (with `result`)
    handled_by: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class VoiceMessage(Base):
    __tablename__ = "voice_messages"
    __table_args__ = (Index("ix_voice_messages_review", "reviewed_at", "review_due_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    phone: Mapped[str | None] = mapped_column(String(32))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    recording_path: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[float | None] = mapped_column(Numeric(10, 2))
    transcript: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    review_due_at: Mapped[datetime] = mapped_column(TZ)
    reviewed_at: Mapped[datetime | None] = mapped_column(TZ)
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    listened_at: Mapped[datetime | None] = mapped_column(TZ)
    listened_by: Mapped[str | None] = mapped_column(Text)


# --- outbound campaigns ------------------------------------------------------------------------------


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(
            _in("status", ("draft", "running", "paused", "cancelled", "finished")), name="status"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    scenario: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    max_concurrent: Mapped[int] = mapped_column(Integer, default=5)
    calls_per_second: Mapped[float] = mapped_column(Numeric(6, 2), default=1)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=sql_text("'{}'"))
    webhook_url: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    started_at: Mapped[datetime | None] = mapped_column(TZ)
    finished_at: Mapped[datetime | None] = mapped_column(TZ)


class CampaignContact(Base):
    __tablename__ = "campaign_contacts"
    __table_args__ = (
        CheckConstraint(
            _in("state", ("pending", "in_progress", "done", "failed", "cancelled", "blocked")), name="state"
        ),
        Index("ix_campaign_contacts_due", "campaign_id", "state", "next_attempt_at"),
        Index("ix_campaign_contacts_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    account_number: Mapped[str | None] = mapped_column(String(32))
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=sql_text("'{}'"))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TZ)
    last_result: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(32))
    last_call_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(TZ)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class CampaignAttempt(Base):
    """One dialling of a contact and what came of it; written by a trigger on campaign_contacts."""

    __tablename__ = "campaign_attempts"
    __table_args__ = (
        Index("ix_campaign_attempts_contact", "contact_id", "id"),
        Index("ix_campaign_attempts_campaign", "campaign_id", "result"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("campaign_contacts.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(32))
    call_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    at: Mapped[datetime] = created_at()


class CallReview(Base):
    """A supervisor's QA score (1–5), comment and tags for one call."""

    __tablename__ = "call_reviews"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score"),)

    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=sql_text("'{}'"))
    reviewer: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), nullable=False)


# --- work for humans, consent, security ------------------------------------------------------------------


class HumanTask(Base):
    """Work the bot hands to people: payment reconciliation, owner data update, disputes, callbacks."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=sql_text("'{}'"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    assigned_to: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(TZ)
    created_at: Mapped[datetime] = created_at()


class DoNotCall(Base):
    __tablename__ = "do_not_call"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    source_call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at()


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = created_at()
    last_used_at: Mapped[datetime | None] = mapped_column(TZ)
    revoked_at: Mapped[datetime | None] = mapped_column(TZ)


class WebSession(Base):
    """A signed-in UI session, server side: logout or revoking the key ends it at once (cookie or not)."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the session's secret token
    key_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(TZ)
    ended_at: Mapped[datetime | None] = mapped_column(TZ)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=sql_text("'{}'"))
    remote_addr: Mapped[str | None] = mapped_column(String(64))


# --- HTTP API: webhook outbox and delivery log, SMS outbox (API issue, migration 0002) ----------------


class WebhookOutbox(Base):
    """One event to deliver; rows are written by database triggers (tickets, finished contacts)."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (
        CheckConstraint(_in("status", ("pending", "delivered", "failed", "skipped")), name="status"),
        Index("ix_webhook_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), unique=True, server_default=sql_text("gen_random_uuid()")
    )
    event_type: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=sql_text("'{}'"))
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    url: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    lease_expires_at: Mapped[datetime | None] = mapped_column(TZ)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    delivered_at: Mapped[datetime | None] = mapped_column(TZ)


class WebhookDelivery(Base):
    """The delivery log: one row per attempt."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("webhook_outbox.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class SmsOutbox(Base):
    __tablename__ = "sms_outbox"
    __table_args__ = (
        CheckConstraint(_in("status", ("pending", "sent", "failed")), name="status"),
        Index("ix_sms_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"), unique=True)
    phone: Mapped[str] = mapped_column(String(32))
    template: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    lease_expires_at: Mapped[datetime | None] = mapped_column(TZ)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    sent_at: Mapped[datetime | None] = mapped_column(TZ)


# Analytics reads a time range of these columns only: a covering index allows index-only scans.
Index(
    "ix_calls_started_covering",
    Call.started_at,
    postgresql_include=["direction", "scenario", "outcome", "offered_at", "answered_at"],
)
Index("ix_tasks_kind_status", HumanTask.kind, HumanTask.status)


class CallStatsHourly(Base):
    """Calls per hour and key, maintained by a trigger on calls (migration 0002) for fast analytics."""

    __tablename__ = "call_stats_hourly"

    hour: Mapped[datetime] = mapped_column(TZ, primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    scenario: Mapped[str] = mapped_column(String(64), primary_key=True)  # '' when none
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)  # '' while the call is unfinished
    # answer-time bucket of offered inbound calls; '' for the others
    wait_bucket: Mapped[str] = mapped_column(String(16), primary_key=True)
    calls: Mapped[int] = mapped_column(BigInteger)


class CampaignImport(Base):
    """How an API request created a campaign: request hash (for Idempotency-Key replays) and row report."""

    __tablename__ = "campaign_imports"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=sql_text("'{}'"))
    created_at: Mapped[datetime] = created_at()


class JournalApplied(Base):
    """Keys of local journal entries already applied here: a replay after a crash skips them (exactly once)."""

    __tablename__ = "journal_applied"
    __table_args__ = (Index("ix_journal_applied_at", "applied_at"),)

    key: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    op: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
