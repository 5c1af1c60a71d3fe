"""The typed success answers of every /api/v1 operation, for the OpenAPI document.

Handlers return plain dicts built by the services (columns through `paging.to_dict`, views of outages,
the office day …); these models say exactly what those dicts hold, so generated clients and schema
checks see real types instead of "an object". `document_responses` puts them into the schema by
(method, path); tests/api/test_response_schemas.py calls every operation and validates each real answer
against what is documented here, so the two cannot drift apart.

Row models are derived from the table they serialise (`row_model`): a new column shows up by itself.
Money columns (NUMERIC) are documented as a decimal string or a number, however the API spells them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, get_type_hints

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from voicebot.campaigns import store as campaign_store
from voicebot.db import models as m

Money = str | float


def _column_type(column: sa.Column) -> Any:
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):  # Money, MeterValue: what they decorate
        kind = kind.impl if isinstance(kind.impl, sa.types.TypeEngine) else kind.impl()
    if isinstance(kind, UUID):
        return str
    if isinstance(kind, sa.DateTime):
        return datetime
    if isinstance(kind, sa.Date):
        return date
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return Money
    if isinstance(kind, sa.Float):
        return float
    if isinstance(kind, sa.Boolean):
        return bool
    if isinstance(kind, sa.Integer):
        return int
    if isinstance(kind, ARRAY):
        return list[str]
    if isinstance(kind, JSONB | sa.JSON):
        return dict[str, Any] | list[Any]
    return str


def row_model(orm: type[m.Base], name: str, *, drop: tuple[str, ...] = (), **extra: Any) -> type[BaseModel]:
    """A model of `to_dict(row)` for this table: every column, null where the column allows it."""
    fields: dict[str, Any] = {}
    for column in orm.__table__.columns:
        if column.key in drop:
            continue
        kind = _column_type(column)
        fields[column.key] = (kind | None, ...) if column.nullable else (kind, ...)
    fields.update(extra)
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


def page_model(item: type[BaseModel], name: str) -> type[BaseModel]:
    return create_model(
        name,
        items=(list[item], ...),  # type: ignore[valid-type]
        total=(int, Field(description="Rows matching the filters")),
        limit=(int, ...),
        offset=(int, ...),
    )


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- rows -----------------------------------------------------------------------------------------------

CallRow = row_model(m.Call, "CallRow")
TurnRow = row_model(m.CallTurn, "TurnRow")
ReadingRow = row_model(m.Reading, "ReadingRow")
PromiseRow = row_model(m.Promise, "PromiseRow")
TicketRow = row_model(m.Ticket, "TicketRow")
TicketEventRow = row_model(m.TicketEvent, "TicketEventRow")
NpsRow = row_model(m.NpsAnswer, "NpsRow")
VisitRow = row_model(m.Visit, "VisitRow")
VoiceMessageRow = row_model(m.VoiceMessage, "VoiceMessageRow")
CallbackRow = row_model(m.Callback, "CallbackRow")
TaskRow = row_model(m.HumanTask, "TaskRow")
SmsRow = row_model(m.SmsOutbox, "SmsRow")
WebhookDeliveryRow = row_model(m.WebhookDelivery, "WebhookDeliveryRow")
WebhookEventRow = row_model(m.WebhookOutbox, "WebhookEventRow")
WebhookEventWithDeliveries = row_model(
    m.WebhookOutbox, "WebhookEventWithDeliveries", deliveries=(list[WebhookDeliveryRow], ...)
)
Campaign = row_model(
    m.Campaign, "Campaign", drop=("idempotency_key", "calls_per_second"), calls_per_second=(float, ...)
)


class CallRecords(Strict):
    readings: list[ReadingRow]  # type: ignore[valid-type]
    tickets: list[TicketRow]  # type: ignore[valid-type]
    promises: list[PromiseRow]  # type: ignore[valid-type]
    nps: list[NpsRow]  # type: ignore[valid-type]
    visits: list[VisitRow]  # type: ignore[valid-type]
    voice_messages: list[VoiceMessageRow]  # type: ignore[valid-type]
    callbacks: list[CallbackRow]  # type: ignore[valid-type]
    tasks: list[TaskRow]  # type: ignore[valid-type]


CallDetail = row_model(m.Call, "CallDetail", turns=(list[TurnRow], ...), records=(CallRecords, ...))
TicketDetail = row_model(m.Ticket, "TicketDetail", events=(list[TicketEventRow], ...))


# --- keys, campaigns ------------------------------------------------------------------------------------


class Me(Strict):
    key_id: int
    name: str
    role: str


class RejectedRow(Strict):
    line: int = Field(description="CSV line, or position in the JSON list (from 1)")
    reason: str


class ContactReport(Strict):
    read: int
    accepted: int
    rejected_count: int
    rejected: list[RejectedRow] = Field(description="The first rejected rows with their reasons")


class CampaignCreated(Strict):
    campaign: Campaign  # type: ignore[valid-type]
    report: ContactReport


# The dataclass `campaign_progress` returns, plus what `as_dict` adds.
Progress = create_model(
    "Progress",
    __base__=Strict,
    **{name: (kind, ...) for name, kind in get_type_hints(campaign_store.Progress).items()},
    finished=(int, ...),
    percent=(float, ...),
)


CampaignWithProgress = row_model(
    m.Campaign,
    "CampaignWithProgress",
    drop=("idempotency_key", "calls_per_second"),
    calls_per_second=(float, ...),
    progress=(Progress, ...),
)


class ContactResult(Strict):
    contact_id: int
    phone: str
    account_number: str | None
    state: str
    attempts: int
    outcome: str | None
    last_result: str | None
    call_id: str | None
    call_ended_at: str | None
    promise_date: str | None
    promise_amount: Money | None
    nps_score: int | None
    visit_status: str | None
    readings: int
    variables: dict[str, Any]


class Transcript(Strict):
    call_id: str
    scenario: str | None
    turns: list[TurnRow]  # type: ignore[valid-type]
    text: str


# --- analytics ------------------------------------------------------------------------------------------


class CallsBlock(Strict):
    total: int
    by_direction: dict[str, int]
    by_outcome: dict[str, int]
    by_scenario: dict[str, dict[str, int]] = Field(description="scenario → outcome → calls")
    by_hour: list[int] = Field(description="Calls by hour of day 0–23 (the requested zone)")
    answer_time: dict[str, int] = Field(description="Inbound calls by answer-time bucket")


class NpsBlock(Strict):
    answers: int
    nps: float | None
    mean: float | None
    distribution: dict[str, int] = Field(description="score 0–10 → answers")


class OverdueTicket(Strict):
    number: str
    category: str
    priority: str
    address: str | None
    status: str
    created_at: str
    due_at: str | None


class Overdue(Strict):
    tickets: int
    oldest_tickets: list[OverdueTicket]
    voice_messages: int


class AnalyticsSummary(Strict):
    since: str
    until: str
    calls: CallsBlock
    success: dict[str, dict[str, float | int | None]] = Field(
        description="scenario → calls, successes and its success rate (null without calls)"
    )
    nps: NpsBlock
    compliance: dict[str, float | int | None] = Field(description="Legal deadlines: counts and rates")
    overdue: Overdue


class SeriesPoint(Strict):
    t: str = Field(description="Start of the hour or day (the requested zone)")
    counts: dict[str, int]


class Timeseries(Strict):
    interval: str
    by: str
    tz: str
    points: list[SeriesPoint]


# --- simulations ----------------------------------------------------------------------------------------


class IntentScore(Strict):
    name: str | None
    confidence: float


class EntityOut(BaseModel):
    entity: str
    value: Any = Field(description="Number, string, date or object, by entity type")
    start: int
    end: int
    role: str | None = None


class Understood(Strict):
    intent: IntentScore
    entities: list[EntityOut]


class Expect(Strict):
    intents: list[str]
    entities: list[str]


class BotTurnOut(Strict):
    bot: str
    step: str | None
    display: str
    listen: bool
    end: bool
    outcome: str | None = None
    transfer: str | None = None
    understood: Understood | None = None
    expect: Expect | None = None


class SimulationFinal(Strict):
    outcome: str | None
    call_id: str
    scenario: str
    records: dict[str, list[dict[str, Any]]]


class SimulationStarted(Strict):
    id: str
    call_id: str
    turn: BotTurnOut
    final: SimulationFinal | None = None


class SimulationTurn(Strict):
    turn: BotTurnOut
    final: SimulationFinal | None = None


# --- company, outages, house chats, office, MAX ---------------------------------------------------------


class CompanyCard(Strict):
    address: str
    phone: str
    email: str
    office_hours: str
    dispatcher_phone: str
    emergency_phone: str


class HouseChat(Strict):
    id: int
    street: str
    house: str
    chat_id: int
    title: str | None


class OutageBuilding(Strict):
    street: str
    house: str
    label: str


class OutageReach(Strict):
    chats: int
    chat_members: int
    failed_chats: int
    phone_callers: int
    residents: int


class CallsAvoided(Strict):
    during: int
    before: int
    avoided: int


class OutagePost(Strict):
    chat_id: int
    state: str
    members: int | None
    error: str | None
    updated_at: datetime | None


class OutageView(Strict):
    id: int
    title: str
    message: str
    buildings: list[OutageBuilding]
    starts_at: datetime
    ends_at: datetime | None
    ended_at: datetime | None
    active: bool
    created_by: str | None
    reach: OutageReach
    calls: CallsAvoided
    posts: list[OutagePost]


class DayAppointment(Strict):
    id: int
    phone: str
    name: str | None
    topic: str | None
    status: str
    channel: str
    confirmed: bool
    reminded: bool


class DaySlot(Strict):
    slot_id: int
    start: str = Field(description="HH:MM, company time")
    end: str
    window: str | int | None
    closed: bool
    appointment: DayAppointment | None


class SlotsAdded(Strict):
    added: int


class ImportRejected(BaseModel):
    line: int
    reason: str


class ImportReport(Strict):
    kind: str
    read: int
    inserted: int
    updated: int
    rejected: list[ImportRejected]


class SlotClosed(Strict):
    closed: int


class Booking(Strict):
    id: int
    slot_id: int
    status: str


class MaxConversationStarted(Strict):
    call_id: str
    channel: str


# --- where each goes ------------------------------------------------------------------------------------

API = "/api/v1"
CAMPAIGN = f"{API}/campaigns/{{campaign_id}}"
OUTAGE = f"{API}/outages/{{outage_id}}"

RESPONSES: dict[tuple[str, str], Any] = {
    ("get", f"{API}/me"): Me,
    ("get", f"{API}/webhooks/events"): page_model(WebhookEventWithDeliveries, "WebhookEventPage"),
    ("post", f"{API}/webhooks/events/{{event_id}}/retry"): WebhookEventRow,
    ("get", f"{API}/sms"): page_model(SmsRow, "SmsPage"),
    ("post", f"{API}/campaigns"): CampaignCreated,
    ("post", f"{API}/campaigns/csv"): CampaignCreated,
    ("get", f"{API}/campaigns"): page_model(Campaign, "CampaignPage"),
    ("get", CAMPAIGN): CampaignWithProgress,
    ("post", f"{CAMPAIGN}/start"): Campaign,
    ("post", f"{CAMPAIGN}/pause"): Campaign,
    ("post", f"{CAMPAIGN}/resume"): Campaign,
    ("post", f"{CAMPAIGN}/cancel"): Campaign,
    ("get", f"{CAMPAIGN}/progress"): Progress,
    ("get", f"{CAMPAIGN}/results"): list[ContactResult],
    ("get", f"{API}/calls"): page_model(CallRow, "CallPage"),
    ("get", f"{API}/calls/{{call_id}}"): CallDetail,
    ("get", f"{API}/calls/{{call_id}}/transcript"): Transcript,
    ("get", f"{API}/readings"): page_model(ReadingRow, "ReadingPage"),
    ("get", f"{API}/promises"): page_model(PromiseRow, "PromisePage"),
    ("get", f"{API}/tickets"): page_model(TicketRow, "TicketPage"),
    ("get", f"{API}/tickets/{{number}}"): TicketDetail,
    ("post", f"{API}/tickets/{{number}}/status"): TicketRow,
    ("get", f"{API}/nps"): page_model(NpsRow, "NpsPage"),
    ("get", f"{API}/visits"): page_model(VisitRow, "VisitPage"),
    ("get", f"{API}/voice-messages"): page_model(VoiceMessageRow, "VoiceMessagePage"),
    ("get", f"{API}/callbacks"): page_model(CallbackRow, "CallbackPage"),
    ("get", f"{API}/analytics/summary"): AnalyticsSummary,
    ("get", f"{API}/analytics/timeseries"): Timeseries,
    ("post", f"{API}/simulations"): SimulationStarted,
    ("post", f"{API}/simulations/{{simulation_id}}/turns"): SimulationTurn,
    ("get", f"{API}/company-card"): CompanyCard,
    ("put", f"{API}/company-card"): CompanyCard,
    ("post", f"{API}/outages"): OutageView,
    ("get", f"{API}/outages"): list[OutageView],
    ("get", OUTAGE): OutageView,
    ("patch", OUTAGE): OutageView,
    ("post", f"{OUTAGE}/end"): OutageView,
    ("get", f"{API}/house-chats"): list[HouseChat],
    ("post", f"{API}/house-chats"): HouseChat,
    ("get", f"{API}/office/appointments"): list[DaySlot],
    ("post", f"{API}/office/appointments"): Booking,
    ("patch", f"{API}/office/appointments/{{appointment_id}}"): Booking,
    ("post", f"{API}/office/slots"): SlotsAdded,
    ("post", f"{API}/office/slots/import"): ImportReport,
    ("post", f"{API}/office/slots/{{slot_id}}/close"): SlotClosed,
    ("post", f"{API}/max/conversations"): MaxConversationStarted,
}
# Other media besides JSON.
EXTRA_CONTENT = {
    ("get", f"{CAMPAIGN}/results"): {"text/csv": {"schema": {"type": "string", "description": "CSV, UTF-8"}}},
    ("get", f"{API}/calls/{{call_id}}/recording"): {
        "audio/ogg": {"schema": {"type": "string", "format": "binary"}}
    },
}
REPLACE_JSON = {("get", f"{API}/calls/{{call_id}}/recording")}  # audio only


def _body(model: Any, components: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of `model` (a model, or a list of one) with its models kept in `components`."""
    body = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    components.update(body.pop("$defs", {}))
    if isinstance(model, type) and issubclass(model, BaseModel):
        components[model.__name__] = body
        return {"$ref": f"#/components/schemas/{model.__name__}"}
    return body


def _success(operation: dict[str, Any]) -> dict[str, Any]:
    responses = operation.setdefault("responses", {})
    status = next((s for s in responses if s.startswith("2")), "200")
    return responses.setdefault(status, {"description": "Success"})


def document_responses(schema: dict[str, Any]) -> None:
    """Each operation's success answer (its 2xx status) gets the JSON schema of what it really sends."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    paths = schema.get("paths", {})
    for (method, path), model in RESPONSES.items():
        operation = paths.get(path, {}).get(method)
        if operation is not None:
            _success(operation).setdefault("content", {})["application/json"] = {
                "schema": _body(model, components)
            }
    for (method, path), content in EXTRA_CONTENT.items():
        operation = paths.get(path, {}).get(method)
        if operation is None:
            continue
        response = _success(operation)
        if (method, path) in REPLACE_JSON:
            response["content"] = {}
        response.setdefault("content", {}).update(content)
