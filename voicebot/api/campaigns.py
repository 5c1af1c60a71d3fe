"""/api/v1/campaigns: create (JSON or CSV), list, state changes, progress, results export."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from voicebot.api import campaign_store as store
from voicebot.api.access import authorize
from voicebot.api.contacts import ContactReport, validate_csv_rows, validate_json_contacts
from voicebot.api.destinations import DestinationRefused, check_literal
from voicebot.api.errors import ApiError
from voicebot.api.keys import Principal
from voicebot.api.paging import Page, PageParams, RowId, page_params, paginate
from voicebot.campaigns.policy import CampaignPolicy
from voicebot.db.models import Campaign
from voicebot.dialogue.library import cached_library
from voicebot.importers.csvfile import CsvFormatError, read_rows

router = APIRouter(prefix="/campaigns", tags=["campaigns"], dependencies=[Depends(authorize)])

WEBHOOK_PATTERN = r"^https?://[^\s]+$"
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=128, description="Repeat-safe creation: same key, same campaign"
    ),
]


class ContactIn(BaseModel):
    phone: str = Field(description="E.164, e.g. +79161234567")
    timezone: str | None = Field(default=None, description="IANA zone; default: the service's")
    account_number: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict, description="Scenario variables (debt, visit …)")


class CampaignIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scenario: str = Field(min_length=1, max_length=64)
    webhook_url: str | None = Field(default=None, max_length=2000, pattern=WEBHOOK_PATTERN)
    max_concurrent: int = Field(default=5, ge=1, le=500)
    calls_per_second: float = Field(default=1.0, gt=0, le=100)
    settings: dict[str, Any] = Field(default_factory=dict)
    # Raw objects, so one bad contact is reported by position instead of failing the whole request.
    contacts: list[dict[str, Any]] = Field(
        min_length=1, description="Contact objects (see ContactIn); bad ones are reported, the rest kept"
    )


def _check_scenario(request: Request, scenario: str) -> None:
    library = cached_library(str(request.app.state.settings.scenarios_dir))
    if scenario not in library.flows:
        raise ApiError(422, f"unknown scenario {scenario!r}", details={"known": library.names()})
    if "outbound" not in library.get(scenario).directions:
        raise ApiError(422, f"scenario {scenario!r} does not place outbound calls")


def _check_webhook(request: Request, url: str | None) -> None:
    if url and not request.app.state.settings.webhook_allow_private:
        try:
            check_literal(url)
        except DestinationRefused as exc:
            raise ApiError(422, f"webhook_url: {exc}") from None


def _check_policy(scenario: str, settings: dict[str, Any]) -> None:
    """Calling windows, retries, limits: the dialer's own validation, so it never meets settings it refuses."""
    try:
        CampaignPolicy.from_settings(scenario, settings)
    except ValueError as exc:
        raise ApiError(422, f"settings: {exc}") from None


def _created(campaign: Campaign, report: dict[str, Any], status: int) -> JSONResponse:
    return JSONResponse({"campaign": store.campaign_dict(campaign), "report": report}, status_code=status)


async def _replay(key: str | None, request_hash: str, db: Any) -> JSONResponse | None:
    if key is None:
        return None
    found = await store.find_by_idempotency_key(db, key)
    if found is None:
        return None
    existing, recorded = found
    if recorded is None or recorded.request_sha256 != request_hash:
        raise ApiError(
            409, "this Idempotency-Key was used for a different request", code="idempotency_conflict"
        )
    return _created(existing, recorded.report, 200)


async def _create(
    request: Request,
    spec: store.CampaignSpec,
    report: ContactReport,
    key: str | None,
    request_hash: str,
    principal: Principal,
) -> JSONResponse:
    if not report.accepted:
        raise ApiError(422, "no valid contacts", details=report.summary())
    summary = report.summary()
    campaign = await store.create_campaign(
        request.app.state.db,
        spec,
        report.accepted,
        idempotency_key=key,
        actor=principal.actor,
        request_sha256=request_hash,
        report=summary,
    )
    return _created(campaign, summary, 201)


@router.post("", name="create_campaign", status_code=201, summary="Create a campaign with JSON contacts")
async def create_campaign(
    body: CampaignIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Depends(authorize),
) -> JSONResponse:
    settings = request.app.state.settings
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    if (replay := await _replay(idempotency_key, request_hash, request.app.state.db)) is not None:
        return replay
    _check_scenario(request, body.scenario)
    _check_webhook(request, body.webhook_url)
    _check_policy(body.scenario, body.settings)
    if len(body.contacts) > settings.api_max_contacts:
        raise ApiError(413, f"more than {settings.api_max_contacts} contacts in one campaign")
    report = await asyncio.to_thread(
        validate_json_contacts, body.contacts, body.scenario, settings.default_timezone
    )
    spec = store.CampaignSpec(
        body.name, body.scenario, body.webhook_url, body.max_concurrent, body.calls_per_second, body.settings
    )
    return await _create(request, spec, report, idempotency_key, request_hash, principal)


def _parse_csv(data: bytes, scenario: str, default_timezone: str, max_contacts: int) -> ContactReport:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(422, f"the file is not UTF-8 (byte {exc.start}); save it as CSV UTF-8") from None
    try:
        return validate_csv_rows(
            read_rows(text, required=("phone",)), scenario, default_timezone, max_contacts
        )
    except CsvFormatError as exc:
        raise ApiError(422, str(exc)) from None
    except ValueError as exc:  # too many rows
        raise ApiError(413, str(exc)) from None
    except csv.Error as exc:
        raise ApiError(422, f"the CSV cannot be read: {exc}") from None


@router.post(
    "/csv",
    name="upload_campaign_csv",
    status_code=201,
    summary="Create a campaign from a CSV file (phone[,timezone][,account_number], other columns = variables)",
)
async def upload_campaign_csv(
    request: Request,
    file: UploadFile = File(description="CSV, UTF-8, header row with at least `phone`"),
    name: str = Form(min_length=1, max_length=200),
    scenario: str = Form(min_length=1, max_length=64),
    webhook_url: str | None = Form(default=None, max_length=2000, pattern=WEBHOOK_PATTERN),
    max_concurrent: int = Form(default=5, ge=1, le=500),
    calls_per_second: float = Form(default=1.0, gt=0, le=100),
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Depends(authorize),
) -> JSONResponse:
    settings = request.app.state.settings
    data = await file.read()
    fields = json.dumps([name, scenario, webhook_url, max_concurrent, calls_per_second]).encode()
    request_hash = hashlib.sha256(fields + b"\0" + data).hexdigest()
    if (replay := await _replay(idempotency_key, request_hash, request.app.state.db)) is not None:
        return replay
    _check_scenario(request, scenario)
    _check_webhook(request, webhook_url)
    report = await asyncio.to_thread(
        _parse_csv, data, scenario, settings.default_timezone, settings.api_max_contacts
    )
    spec = store.CampaignSpec(name, scenario, webhook_url, max_concurrent, calls_per_second)
    return await _create(request, spec, report, idempotency_key, request_hash, principal)


@router.get("", name="list_campaigns", summary="Campaigns, newest first")
async def list_campaigns(
    request: Request,
    status: Literal["draft", "running", "paused", "cancelled", "finished"] | None = None,
    page: PageParams = Depends(page_params),
) -> Page:
    query = select(Campaign)
    if status:
        query = query.where(Campaign.status == status)
    async with request.app.state.db.session() as s:
        result = await paginate(s, query, page, (Campaign.id.desc(),))
    for item in result.items:
        item.pop("idempotency_key", None)
    return result


@router.get("/{campaign_id}", name="get_campaign", summary="One campaign with its progress")
async def get_campaign(campaign_id: RowId, request: Request) -> dict[str, Any]:
    campaign = await store.get_campaign(request.app.state.db, campaign_id)
    return {
        **store.campaign_dict(campaign),
        "progress": await store.progress(request.app.state.db, campaign_id),
    }


def _action_route(action: str):
    async def handler(campaign_id: RowId, request: Request) -> dict[str, Any]:
        campaign = await store.change_status(request.app.state.db, campaign_id, action)
        return store.campaign_dict(campaign)

    handler.__name__ = f"{action}_campaign"
    router.add_api_route(
        f"/{{campaign_id}}/{action}",
        handler,
        methods=["POST"],
        name=f"{action}_campaign",
        summary=f"{action.capitalize()} the campaign",
    )


for _action in store.ACTIONS:
    _action_route(_action)


@router.get("/{campaign_id}/progress", name="campaign_progress", summary="Contacts by state and outcome")
async def campaign_progress(campaign_id: RowId, request: Request) -> dict[str, Any]:
    return await store.progress(request.app.state.db, campaign_id)


async def _csv_lines(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(store.RESULT_FIELDS)
    async for row in rows:
        values = [row[f] for f in store.RESULT_FIELDS]
        values[-1] = json.dumps(values[-1], ensure_ascii=False)
        writer.writerow(["" if v is None else v for v in values])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def _json_array(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    yield "["
    first = True
    async for row in rows:
        yield ("" if first else ",") + json.dumps(row, ensure_ascii=False)
        first = False
    yield "]"


@router.get(
    "/{campaign_id}/results",
    name="campaign_results",
    summary="Every contact's result (outcome, promise, NPS, visit, readings) as CSV or JSON",
)
async def campaign_results(
    campaign_id: RowId, request: Request, format: Literal["json", "csv"] = Query("json")
) -> StreamingResponse:
    db = request.app.state.db
    await store.get_campaign(db, campaign_id)
    rows = store.iter_results(db, campaign_id)
    if format == "csv":
        return StreamingResponse(
            _csv_lines(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}-results.csv"'},
        )
    return StreamingResponse(_json_array(rows), media_type="application/json")
