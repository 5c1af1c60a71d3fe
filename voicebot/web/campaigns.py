"""Campaigns: list with live progress, creation from a CSV with its row report, state changes, results."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse

from voicebot.db.models import CampaignImport
from voicebot.dialogue.library import cached_library
from voicebot.services import campaigns as store
from voicebot.services.errors import ServiceError
from voicebot.web import queries
from voicebot.web.auth import WebUser, area, check_csrf
from voicebot.web.errors import UiRoute
from voicebot.web.templating import render

router = APIRouter(route_class=UiRoute)
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PAGE_SIZE = 20
MAX_POLLED = 50
LIVE_STATUSES = ("draft", "running", "paused")
# action → statuses it is offered in (the dialer's state machine has the final word)
ACTIONS_FROM = {
    "start": ("draft",),
    "pause": ("running",),
    "resume": ("paused",),
    "cancel": ("draft", "running", "paused"),
}


def _outbound_scenarios(request: Request) -> list[str]:
    library = cached_library(str(request.app.state.settings.scenarios_dir))
    return [name for name in library.names() if "outbound" in library.get(name).directions]


@router.get("/campaigns", name="ui_campaigns", response_class=HTMLResponse, include_in_schema=False)
async def campaigns_page(
    request: Request, page: int = Query(1, ge=1, le=100_000), user: WebUser = Depends(area("campaigns"))
) -> HTMLResponse:
    items, total = await queries.campaign_page(request.app.state.db, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render(
        request,
        "campaigns.html",
        {
            "campaigns": items,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "live": LIVE_STATUSES,
        },
    )


@router.get("/campaigns/progress.json", name="ui_campaign_progress", include_in_schema=False)
async def progress_json(
    request: Request, ids: str = Query("", max_length=1000), user: WebUser = Depends(area("campaigns"))
) -> JSONResponse:
    wanted = [int(part) for part in ids.split(",") if part.strip().isdigit() and 0 < int(part) < 2**63]
    result: dict[str, Any] = {}
    for campaign_id in wanted[:MAX_POLLED]:
        try:
            result[str(campaign_id)] = await store.progress(request.app.state.db, campaign_id)
        except ServiceError:  # deleted meanwhile: the page simply stops updating that row
            continue
    return JSONResponse(result)


def _form(
    request: Request, error: str | None = None, values: dict[str, Any] | None = None, status: int = 200
):
    return render(
        request,
        "campaign_new.html",
        {
            "scenarios": _outbound_scenarios(request),
            "error": error,
            "values": values or {},
            "token": secrets.token_urlsafe(16),
            "max_mb": request.app.state.settings.api_max_upload_bytes // 1_048_576,
        },
        status,
    )


@router.get("/campaigns/new", name="ui_campaign_new", response_class=HTMLResponse, include_in_schema=False)
async def new_campaign(request: Request, user: WebUser = Depends(area("campaigns"))) -> HTMLResponse:
    return _form(request)


@router.post(
    "/campaigns/new", name="ui_campaign_create", response_class=HTMLResponse, include_in_schema=False
)
async def create_campaign(
    request: Request,
    file: UploadFile = File(...),
    name: str = Form("", max_length=200),
    scenario: str = Form("", max_length=64),
    max_concurrent: int = Form(5, ge=1, le=500),
    calls_per_second: float = Form(1.0, gt=0, le=100),
    token: str = Form("", max_length=64),
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("campaigns")),
) -> Response:
    await check_csrf(request, user, csrf)
    values = {
        "name": name,
        "scenario": scenario,
        "max_concurrent": max_concurrent,
        "calls_per_second": calls_per_second,
    }
    if not name.strip():
        return _form(request, "Укажите название обзвона.", values, 422)
    if not file.filename:
        return _form(request, "Выберите CSV-файл с контактами.", values, 422)
    spec = store.CampaignSpec(name.strip(), scenario, None, max_concurrent, calls_per_second)
    try:
        created = await store.create_from_csv(
            request.app.state.db,
            request.app.state.settings,
            spec,
            await file.read(),
            # a reloaded or double-clicked form creates the campaign once
            key=f"ui-{token}" if token else None,
            actor=user.principal.actor,
        )
    except ServiceError as exc:
        if exc.status == 422 and isinstance(exc.details, dict) and "rejected" in exc.details:
            return render(request, "campaign_report.html", {"campaign": None, "report": exc.details}, 422)
        return _form(request, exc.message, values, exc.status)
    return render(request, "campaign_report.html", created.body())


@router.get(
    "/campaigns/{campaign_id}", name="ui_campaign", response_class=HTMLResponse, include_in_schema=False
)
async def campaign_page(
    campaign_id: RowId, request: Request, user: WebUser = Depends(area("campaigns"))
) -> HTMLResponse:
    campaign = await store.get_campaign(request.app.state.db, campaign_id)
    progress = await store.progress(request.app.state.db, campaign_id)
    async with request.app.state.db.session() as s:
        upload = await s.get(CampaignImport, campaign_id)
    actions = [action for action, sources in ACTIONS_FROM.items() if campaign.status in sources]
    return render(
        request,
        "campaign.html",
        {
            "campaign": store.campaign_dict(campaign),
            "progress": progress,
            "report": upload.report if upload else None,
            "actions": actions,
        },
    )


@router.post("/campaigns/{campaign_id}/{action}", name="ui_campaign_action", include_in_schema=False)
async def campaign_action(
    campaign_id: RowId,
    action: str,
    request: Request,
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("campaigns")),
) -> Response:
    await check_csrf(request, user, csrf)
    if action not in ACTIONS_FROM:
        raise ServiceError(404, "нет такого действия")
    try:
        await store.change_status(request.app.state.db, campaign_id, action)
    except ServiceError as exc:
        if exc.status != 409:
            raise
        raise ServiceError(409, "Обзвон уже в другом состоянии; обновите страницу.") from None
    return RedirectResponse(f"/campaigns/{campaign_id}", status_code=303)


@router.get("/campaigns/{campaign_id}/results.csv", name="ui_campaign_results", include_in_schema=False)
async def results_csv(
    campaign_id: RowId, request: Request, user: WebUser = Depends(area("campaigns"))
) -> Response:
    export = await store.export_results(request.app.state.db, campaign_id, "csv")
    disposition = f'attachment; filename="{export.filename}"'
    return StreamingResponse(
        export.chunks, media_type=export.media_type, headers={"Content-Disposition": disposition}
    )
