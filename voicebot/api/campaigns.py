"""/api/v1/campaigns: create (JSON or CSV), list, state changes, progress, results export."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from voicebot.api.access import authorize
from voicebot.api.paging import RowId, page_params
from voicebot.db.models import Campaign
from voicebot.services import campaigns as store
from voicebot.services.keys import Principal
from voicebot.services.paging import Page, PageParams, paginate

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


def scoped_key(principal: Principal, key: str | None) -> str | None:
    """Idempotency keys are per API key: another key sending the same value creates its own campaign and
    can neither replay nor probe someone else's."""
    if not key:
        return None
    scoped = f"key{principal.key_id}:{key}"
    if len(scoped) > 128:  # the column's width: a long key is kept as its digest
        scoped = f"key{principal.key_id}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return scoped


def _created(created: store.Created) -> JSONResponse:
    return JSONResponse(created.body(), status_code=created.status)


@router.post("", name="create_campaign", status_code=201, summary="Create a campaign with JSON contacts")
async def create_campaign(
    body: CampaignIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Depends(authorize),
) -> JSONResponse:
    settings, db = request.app.state.settings, request.app.state.db
    idempotency_key = scoped_key(principal, idempotency_key)
    sha256 = store.request_hash(body.model_dump_json().encode())
    if (replayed := await store.replay(db, idempotency_key, sha256)) is not None:
        return _created(replayed)
    store.check_scenario(settings, body.scenario)
    store.check_webhook(settings, body.webhook_url)
    store.check_policy(body.scenario, body.settings)
    report = await asyncio.to_thread(store.parse_json, body.contacts, settings, body.scenario)
    spec = store.CampaignSpec(
        body.name, body.scenario, body.webhook_url, body.max_concurrent, body.calls_per_second, body.settings
    )
    created = await store.create_checked(
        db, spec, report, key=idempotency_key, sha256=sha256, actor=principal.actor
    )
    return _created(created)


@router.post(
    "/csv",
    name="upload_campaign_csv",
    status_code=201,
    summary="Create a campaign from a CSV file (phone[,timezone][,account_number], other columns = variables)",
)
async def upload_campaign_csv(
    request: Request,
    file: UploadFile = File(description="CSV (UTF-8 or Windows-1251; `,` `;` or tab), header with `phone`"),
    name: str = Form(min_length=1, max_length=200),
    scenario: str = Form(min_length=1, max_length=64),
    webhook_url: str | None = Form(default=None, max_length=2000, pattern=WEBHOOK_PATTERN),
    max_concurrent: int = Form(default=5, ge=1, le=500),
    calls_per_second: float = Form(default=1.0, gt=0, le=100),
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Depends(authorize),
) -> JSONResponse:
    spec = store.CampaignSpec(name, scenario, webhook_url, max_concurrent, calls_per_second)
    created = await store.create_from_csv(
        request.app.state.db,
        request.app.state.settings,
        spec,
        await file.read(),
        key=scoped_key(principal, idempotency_key),
        actor=principal.actor,
    )
    return _created(created)


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
        # a number, as in one campaign's answer and on creation (the column is NUMERIC)
        item["calls_per_second"] = float(item["calls_per_second"])
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


class ResultRow(BaseModel):
    contact_id: int
    phone: str
    account_number: str | None = None
    state: str
    attempts: int
    outcome: str | None = None
    last_result: str | None = None
    call_id: str | None = None
    call_ended_at: str | None = None
    promise_date: str | None = None
    promise_amount: float | None = None
    nps_score: int | None = None
    visit_status: str | None = None
    readings: int = 0
    variables: dict[str, Any] = Field(default_factory=dict)


class ResultPage(BaseModel):
    items: list[ResultRow]
    next_after: int | None = Field(description="Pass as `after` for the next page; null on the last page")


@router.get(
    "/{campaign_id}/results/page",
    name="campaign_results_page",
    summary="One page of the results, by contact id (keyset: pass the previous page's next_after)",
    response_model=ResultPage,
)
async def campaign_results_page(
    campaign_id: RowId,
    request: Request,
    after: int = Query(0, ge=0, le=2**63 - 1, description="Contact id the page starts after"),
    limit: int = Query(500, ge=1, le=5000),
) -> ResultPage:
    rows = await store.results_page(request.app.state.db, campaign_id, after, limit)
    next_after = rows[-1]["contact_id"] if len(rows) == limit else None
    return ResultPage(items=[ResultRow(**row) for row in rows], next_after=next_after)


@router.get(
    "/{campaign_id}/results",
    name="campaign_results",
    summary="Every contact's result (outcome, promise, NPS, visit, readings) as CSV or JSON",
)
async def campaign_results(
    campaign_id: RowId, request: Request, format: Literal["json", "csv"] = Query("json")
) -> StreamingResponse:
    export = await store.export_results(request.app.state.db, campaign_id, format)
    headers = (
        {"Content-Disposition": f'attachment; filename="{export.filename}"'} if export.filename else None
    )
    return StreamingResponse(export.chunks, media_type=export.media_type, headers=headers)
