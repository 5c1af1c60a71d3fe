"""Campaigns as the API and the web UI see them: creation from JSON contacts or a CSV file (checks, the
row report, idempotency, contact COPY), state changes and progress (the dialer's own functions), and the
results export.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from voicebot.campaigns import store as dialer_store
from voicebot.campaigns.contacts import (
    Contact,
    ContactReport,
    TooManyContacts,
    contacts_from_csv,
    contacts_from_json,
    scenario_needs,
)
from voicebot.campaigns.policy import CampaignPolicy
from voicebot.campaigns.store import insert_contacts
from voicebot.db.models import Campaign, CampaignImport
from voicebot.db.session import Database
from voicebot.dialogue.library import cached_library
from voicebot.importers.csvfile import CsvFormatError
from voicebot.security.cells import neutralise
from voicebot.services.destinations import DestinationRefused, check_literal
from voicebot.services.errors import ServiceError
from voicebot.services.paging import to_dict
from voicebot.settings import Settings
from voicebot.values import json_value

ACTIONS = ("start", "pause", "resume", "cancel")


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    scenario: str
    webhook_url: str | None = None
    max_concurrent: int = 5
    calls_per_second: float = 1.0
    settings: dict[str, Any] | None = None


async def find_by_idempotency_key(db: Database, key: str) -> tuple[Campaign, CampaignImport | None] | None:
    async with db.session() as s:
        campaign = await s.scalar(select(Campaign).where(Campaign.idempotency_key == key))
        if campaign is None:
            return None
        return campaign, await s.get(CampaignImport, campaign.id)


async def create_campaign(
    db: Database,
    spec: CampaignSpec,
    contacts: list[Contact],
    *,
    idempotency_key: str | None,
    actor: str,
    request_sha256: str,
    report: dict[str, Any],
) -> Campaign:
    """One transaction: the campaign row, then every contact through COPY (100 000 rows in about a second)."""
    try:
        async with db.transaction() as s:
            campaign = Campaign(
                name=spec.name,
                scenario=spec.scenario,
                status="draft",
                max_concurrent=spec.max_concurrent,
                calls_per_second=spec.calls_per_second,
                settings=spec.settings or {},
                webhook_url=spec.webhook_url,
                idempotency_key=idempotency_key,
                created_by=actor,
            )
            s.add(campaign)
            await s.flush()
            s.add(CampaignImport(campaign_id=campaign.id, request_sha256=request_sha256, report=report))
            await insert_contacts(s, campaign.id, contacts)
    except IntegrityError:
        if idempotency_key is None:
            raise
        raise ServiceError(409, "a campaign with this Idempotency-Key is being created; retry") from None
    return campaign


async def get_campaign(db: Database, campaign_id: int) -> Campaign:
    async with db.session() as s:
        campaign = await s.get(Campaign, campaign_id)
    if campaign is None:
        raise ServiceError(404, f"campaign {campaign_id} not found")
    return campaign


_ACTIONS = {
    "start": dialer_store.start_campaign,
    "pause": dialer_store.pause_campaign,
    "resume": dialer_store.resume_campaign,
    "cancel": dialer_store.cancel_campaign,
}


async def change_status(db: Database, campaign_id: int, action: str) -> Campaign:
    """The dialer's state machine decides; its refusals become 409, unknown campaigns 404."""
    try:
        await _ACTIONS[action](db, campaign_id)
    except dialer_store.CampaignNotFound:
        raise ServiceError(404, f"campaign {campaign_id} not found") from None
    except dialer_store.CampaignError as exc:
        raise ServiceError(409, str(exc), details={"action": action}) from None
    return await get_campaign(db, campaign_id)


async def progress(db: Database, campaign_id: int) -> dict[str, Any]:
    try:
        report = (await dialer_store.campaign_progress(db, campaign_id)).as_dict()
    except dialer_store.CampaignNotFound:
        raise ServiceError(404, f"campaign {campaign_id} not found") from None
    finished = sum(report["by_state"].get(s, 0) for s in ("done", "failed", "cancelled", "blocked"))
    total = report["total"]
    return {**report, "finished": finished, "percent": round(100 * finished / total, 1) if total else 100.0}


RESULT_FIELDS = (
    "contact_id",
    "phone",
    "account_number",
    "state",
    "attempts",
    "outcome",
    "last_result",
    "call_id",
    "call_ended_at",
    "promise_date",
    "promise_amount",
    "nps_score",
    "visit_status",
    "readings",
    "variables",
)

_RESULTS_SQL = text(
    """
    SELECT cc.id AS contact_id, cc.phone, cc.account_number, cc.state, cc.attempts, cc.outcome,
           cc.last_result, cc.last_call_id AS call_id, c.ended_at AS call_ended_at,
           p.promised_date AS promise_date, p.amount AS promise_amount, n.score AS nps_score,
           v.status AS visit_status, r.readings, cc.variables
    FROM campaign_contacts cc
    LEFT JOIN calls c ON c.id = cc.last_call_id
    LEFT JOIN LATERAL (SELECT promised_date, amount FROM promises WHERE call_id = cc.last_call_id
                       ORDER BY id DESC LIMIT 1) p ON true
    LEFT JOIN LATERAL (SELECT score FROM nps_answers WHERE call_id = cc.last_call_id
                       ORDER BY id DESC LIMIT 1) n ON true
    LEFT JOIN LATERAL (SELECT status FROM visits WHERE call_id = cc.last_call_id
                       ORDER BY id DESC LIMIT 1) v ON true
    LEFT JOIN LATERAL (SELECT count(*) AS readings FROM readings WHERE call_id = cc.last_call_id) r ON true
    WHERE cc.campaign_id = :campaign_id AND cc.id > :after
    ORDER BY cc.id
    LIMIT :batch
    """
)


async def results_page(db: Database, campaign_id: int, after: int, limit: int) -> list[dict[str, Any]]:
    """Contacts with id > `after`, by id: one page of the results (keyset, so page 2 000 costs what page 1 does)."""
    await get_campaign(db, campaign_id)
    async with db.session() as s:
        rows = await s.execute(_RESULTS_SQL, {"campaign_id": campaign_id, "after": after, "batch": limit})
        return [{k: json_value(v) for k, v in row._mapping.items()} for row in rows.all()]


def file_value(value: Any) -> Any:
    """A value for a CSV or XLSX cell: money as exact text, as written ("4870.50"); else as in JSON."""
    return str(value) if isinstance(value, Decimal) else json_value(value)


def _result_dicts(rows: list[Any], convert: Callable[[Any], Any]) -> list[dict[str, Any]]:
    return [{k: convert(v) for k, v in row._mapping.items()} for row in rows]


async def iter_results(
    db: Database, campaign_id: int, batch: int = 1000, *, convert: Callable[[Any], Any] = json_value
) -> AsyncIterator[dict[str, Any]]:
    """Every contact's result, in batches by id so a 100 000-contact export never sits in memory whole.
    Each batch is converted (`convert`: JSON values, or `file_value` for a file) in a worker thread and
    the loop is yielded between batches: the live calls share this event loop, and an 80 000-row export
    must not hold it for seconds."""
    after = 0
    while True:
        async with db.session() as s:
            rows = (
                await s.execute(_RESULTS_SQL, {"campaign_id": campaign_id, "after": after, "batch": batch})
            ).all()
        for item in await asyncio.to_thread(_result_dicts, rows, convert):
            yield item
        if len(rows) < batch:
            return
        after = rows[-1].contact_id
        await asyncio.sleep(0)


def campaign_dict(campaign: Campaign) -> dict[str, Any]:
    data = to_dict(campaign)
    data.pop("idempotency_key", None)
    # a number on creation and on an idempotent replay alike (the column is NUMERIC, read as Decimal)
    data["calls_per_second"] = float(campaign.calls_per_second)
    return data


# --- creation -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    campaign: Campaign
    report: dict[str, Any]
    status: int  # 201 created, 200 the same request replayed with its Idempotency-Key

    def body(self) -> dict[str, Any]:
        return {"campaign": campaign_dict(self.campaign), "report": self.report}


def request_hash(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def check_scenario(settings: Settings, scenario: str) -> None:
    library = cached_library(str(settings.scenarios_dir))
    if scenario not in library.flows:
        raise ServiceError(422, f"unknown scenario {scenario!r}", details={"known": library.names()})
    if not library.get(scenario).takes_campaigns:
        outbound = [name for name in library.names() if library.get(name).takes_campaigns]
        raise ServiceError(
            422,
            f"scenario {scenario!r} cannot be used for outbound calls",
            details=[{"location": "body", "field": "scenario", "reason": "not an outbound scenario",
                      "code": "unknown_value", "allowed": outbound}],
        )  # fmt: skip


def check_webhook(settings: Settings, url: str | None) -> None:
    if url and not settings.webhook_allow_private:
        try:
            check_literal(url)
        except DestinationRefused as exc:
            raise ServiceError(
                422,
                f"webhook_url: {exc}",
                details=[
                    {"location": "body", "field": "webhook_url", "reason": str(exc), "code": "rejected"}
                ],
            ) from None


def check_policy(scenario: str, settings: dict[str, Any]) -> None:
    """Calling windows, retries, limits: the dialer's own validation, so it never meets settings it refuses."""
    try:
        CampaignPolicy.from_settings(scenario, settings)
    except ValueError as exc:
        raise ServiceError(
            422,
            f"settings: {exc}",
            details=[{"location": "body", "field": "settings", "reason": str(exc), "code": "rejected"}],
        ) from None


async def replay(db: Database, key: str | None, sha256: str) -> Created | None:
    """The campaign an earlier request with this Idempotency-Key created, or None for a new key."""
    if key is None:
        return None
    found = await find_by_idempotency_key(db, key)
    if found is None:
        return None
    existing, recorded = found
    if recorded is None or recorded.request_sha256 != sha256:
        raise ServiceError(
            409, "this Idempotency-Key was used for a different request", code="idempotency_conflict"
        )
    return Created(existing, recorded.report, 200)


async def create_checked(
    db: Database, spec: CampaignSpec, report: ContactReport, *, key: str | None, sha256: str, actor: str
) -> Created:
    if not report.accepted:
        raise ServiceError(422, "no valid contacts", details=report.summary())
    summary = report.summary()
    campaign = await create_campaign(
        db, spec, report.accepted, idempotency_key=key, actor=actor, request_sha256=sha256, report=summary
    )
    return Created(campaign, summary, 201)


def parse_csv(data: bytes, settings: Settings, scenario: str) -> ContactReport:
    needs = scenario_needs(str(settings.scenarios_dir), scenario)
    try:
        return contacts_from_csv(
            data, needs, settings.default_timezone, max_contacts=settings.api_max_contacts
        )
    except CsvFormatError as exc:
        raise ServiceError(422, str(exc)) from None
    except TooManyContacts as exc:
        raise ServiceError(413, str(exc)) from None


def parse_json(items: list[Any], settings: Settings, scenario: str) -> ContactReport:
    if len(items) > settings.api_max_contacts:
        raise ServiceError(413, f"больше {settings.api_max_contacts} контактов в одном обзвоне")
    return contacts_from_json(
        items, scenario_needs(str(settings.scenarios_dir), scenario), settings.default_timezone
    )


async def create_from_csv(
    db: Database, settings: Settings, spec: CampaignSpec, data: bytes, *, key: str | None, actor: str
) -> Created:
    """A campaign from an uploaded CSV: bad rows are reported and skipped, good ones kept."""
    fields = [spec.name, spec.scenario, spec.webhook_url, spec.max_concurrent, spec.calls_per_second]
    sha256 = request_hash(json.dumps(fields).encode(), data)
    if (replayed := await replay(db, key, sha256)) is not None:
        return replayed
    check_scenario(settings, spec.scenario)
    check_webhook(settings, spec.webhook_url)
    report = await asyncio.to_thread(parse_csv, data, settings, spec.scenario)
    return await create_checked(db, spec, report, key=key, sha256=sha256, actor=actor)


# --- results export -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    chunks: AsyncIterator[str]
    media_type: str
    filename: str | None  # None: shown inline


async def _csv_lines(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(RESULT_FIELDS)
    async for row in rows:
        values = [row[f] for f in RESULT_FIELDS]
        values[-1] = json.dumps(values[-1], ensure_ascii=False)
        writer.writerow([neutralise("" if v is None else v) for v in values])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            await asyncio.sleep(0)  # sending a chunk need not suspend: let the calls' frames out
    yield buffer.getvalue()


async def _json_array(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    yield "["
    first = True
    count = 0
    async for row in rows:
        yield ("" if first else ",") + json.dumps(row, ensure_ascii=False)
        first = False
        count += 1
        if count % 200 == 0:
            await asyncio.sleep(0)
    yield "]"


async def export_results(db: Database, campaign_id: int, format: Literal["json", "csv"]) -> Export:
    await get_campaign(db, campaign_id)
    if format == "csv":
        rows = iter_results(db, campaign_id, convert=file_value)
        return Export(_csv_lines(rows), "text/csv; charset=utf-8", f"campaign-{campaign_id}-results.csv")
    return Export(_json_array(iter_results(db, campaign_id)), "application/json", None)
