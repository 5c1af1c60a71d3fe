"""Calls: a filtered, paginated list; a call's transcript, NLU, records and (for listeners) its audio."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse

from voicebot.dialogue.library import cached_library
from voicebot.services import calls
from voicebot.services.calls import CallFilter, TimeRange
from voicebot.services.clients import remote_address
from voicebot.services.paging import PageParams
from voicebot.services.recordings import open_recording
from voicebot.values import parse_phone
from voicebot.web import periods
from voicebot.web.auth import WebUser, area
from voicebot.web.errors import UiRoute
from voicebot.web.labels import OUTCOMES
from voicebot.web.templating import render

router = APIRouter(route_class=UiRoute)
PAGE_SIZE = 25
FILTERS = ("from", "to", "direction", "scenario", "outcome", "phone", "campaign")


def _span(request: Request, date_from: str | None, date_to: str | None) -> TimeRange:
    zone = request.app.state.settings.default_timezone
    first, last = periods.parse_day(date_from), periods.parse_day(date_to)
    since = periods.bounds(first, first, zone)[0] if first else None
    until = periods.bounds(last, last, zone)[1] if last else None
    if since and until and since >= until:
        raise periods.PeriodError("дата «по» раньше даты «с»")
    return TimeRange(since=since, until=until)


def _campaign(text: str | None) -> int | None:
    if not text:
        return None
    if not text.strip().isdigit() or not 1 <= int(text) < 2**63:
        raise periods.PeriodError("номер обзвона — целое положительное число")
    return int(text)


def _scenario_names(request: Request) -> list[str]:
    return cached_library(str(request.app.state.settings.scenarios_dir)).names()


@router.get("/calls", name="ui_calls", response_class=HTMLResponse, include_in_schema=False)
async def calls_page(
    request: Request,
    page: int = Query(1, ge=1, le=100_000),
    user: WebUser = Depends(area("calls")),
) -> HTMLResponse:
    params = {name: (request.query_params.get(name) or "").strip()[:64] for name in FILTERS}
    direction = params["direction"] if params["direction"] in ("inbound", "outbound") else None
    error, result = None, None
    try:
        span = _span(request, params["from"], params["to"])
        phone = parse_phone(params["phone"]) if params["phone"] else None
        where = CallFilter(
            direction,
            params["scenario"] or None,
            params["outcome"] or None,
            phone,
            _campaign(params["campaign"]),
        )
        result = await calls.list_calls(
            request.app.state.db, span, where, PageParams(PAGE_SIZE, (page - 1) * PAGE_SIZE)
        )
    except periods.PeriodError as exc:
        error = str(exc)
    except ValueError:
        error = "Телефон не распознан: введите его как +79161234567 или 89161234567."
    pages = max(1, -(-result.total // PAGE_SIZE)) if result else 1
    kept = {k: v for k, v in params.items() if v}
    return render(
        request,
        "calls.html",
        {
            "calls": result.items if result else [],
            "total": result.total if result else 0,
            "page": page,
            "pages": pages,
            "filters": params,
            "query": urlencode(kept),
            "scenarios": _scenario_names(request),
            "outcomes": OUTCOMES,
            "flash": error,
            "flash_kind": "error",
        },
    )


# bookkeeping columns a reviewer does not need to see
HIDDEN_COLUMNS = frozenset(
    {"call_id", "source_call_id", "lease_owner", "lease_expires_at", "account_id", "meter_pk"}
)


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in HIDDEN_COLUMNS}


def _transcript(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Bot turns carry no offsets yet; such lines show no time and do not seek.
    return [{**t, "seconds": t["start_ms"] / 1000 if t.get("start_ms") is not None else None} for t in turns]


@router.get("/calls/{call_id}", name="ui_call", response_class=HTMLResponse, include_in_schema=False)
async def call_page(
    call_id: uuid.UUID, request: Request, user: WebUser = Depends(area("calls"))
) -> HTMLResponse:
    call = await calls.get_call(request.app.state.db, call_id)
    records = {name: [_shown(row) for row in rows] for name, rows in call["records"].items() if rows}
    return render(
        request,
        "call.html",
        {
            "call": call,
            "turns": _transcript(call["turns"]),
            "records": records,
            "may_listen": user.may("listen"),
            "has_audio": bool(call.get("recording_path")),
        },
    )


@router.get("/calls/{call_id}/audio", name="ui_call_audio", include_in_schema=False)
async def call_audio(
    call_id: uuid.UUID, request: Request, user: WebUser = Depends(area("listen"))
) -> Response:
    """The recording with Range streaming; a new listening is written to the audit log."""
    audio = await open_recording(
        request.app.state.db,
        request.app.state.settings.recordings_path,
        call_id,
        request.headers.get("range"),
        actor=user.principal.actor,
        remote_addr=remote_address(request),
    )
    return StreamingResponse(
        audio.chunks(), status_code=audio.status, headers=audio.headers, media_type=audio.media_type
    )
