"""Calls: a filtered, paginated list; a call's transcript, NLU, records and (for listeners) its audio."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from voicebot.dialogue.library import cached_library
from voicebot.services import calls, exports, reviews
from voicebot.services.calls import CallFilter, TimeRange
from voicebot.services.clients import remote_address
from voicebot.services.errors import ServiceError
from voicebot.services.paging import PageParams
from voicebot.services.recordings import audit_refused_listener, recording_response
from voicebot.values import parse_phone
from voicebot.web import periods
from voicebot.web.auth import Forbidden, LoginRequired, WebUser, area, check_csrf, current_user, require
from voicebot.web.errors import UiRoute
from voicebot.web.labels import OUTCOMES, label
from voicebot.web.templating import local_time, render

router = APIRouter(route_class=UiRoute)
PAGE_SIZE = 25
FILTERS = ("from", "to", "direction", "scenario", "outcome", "phone", "campaign", "q", "rec", "hour")
EXPORT_LIMIT = 50_000


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


def _params(request: Request) -> dict[str, str]:
    return {name: (request.query_params.get(name) or "").strip()[:64] for name in FILTERS}


def _hour(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 0 <= int(text) <= 23:
        raise periods.PeriodError("час — число от 0 до 23")
    return int(text)


def _filter(request: Request, params: dict[str, str]) -> tuple[TimeRange, CallFilter]:
    """The list's filters from the query string; PeriodError or ValueError (phone) for bad ones."""
    direction = params["direction"] if params["direction"] in ("inbound", "outbound") else None
    span = _span(request, params["from"], params["to"])
    where = CallFilter(
        direction,
        params["scenario"] or None,
        params["outcome"] or None,
        parse_phone(params["phone"]) if params["phone"] else None,
        _campaign(params["campaign"]),
        text=params["q"] or None,
        has_recording={"1": True, "0": False}.get(params["rec"]),
        hour=_hour(params["hour"]),
        zone=request.app.state.settings.default_timezone,
    )
    return span, where


PHONE_HINT = "Телефон не распознан: введите его как +79161234567, 89161234567 или 8 916 123-45-67."


@router.get("/calls", name="ui_calls", response_class=HTMLResponse, include_in_schema=False)
async def calls_page(
    request: Request,
    page: int = Query(1, ge=1, le=100_000),
    user: WebUser = Depends(area("calls")),
) -> HTMLResponse:
    params = _params(request)
    error, result = None, None
    try:
        span, where = _filter(request, params)
        result = await calls.list_calls(
            request.app.state.db, span, where, PageParams(PAGE_SIZE, (page - 1) * PAGE_SIZE)
        )
    except periods.PeriodError as exc:
        error = str(exc)
    except ValueError:
        error = PHONE_HINT
    pages = max(1, -(-result.total // PAGE_SIZE)) if result else 1
    kept = {k: v for k, v in params.items() if v}
    items = [
        {**c, "seconds": seconds_between(c["started_at"], c["ended_at"])}
        for c in (result.items if result else [])
    ]
    return render(
        request,
        "calls.html",
        {
            "calls": items,
            "reviews": await reviews.reviews_of(request.app.state.db, [c["id"] for c in items]),
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


CALL_COLUMNS = (
    ("started", "Начало"), ("direction", "Направление"), ("scenario", "Сценарий"), ("phone", "Телефон"),
    ("outcome", "Исход"), ("seconds", "Длительность, с"), ("campaign_id", "Обзвон"),
    ("recording", "Запись"), ("score", "Оценка"), ("comment", "Комментарий"), ("id", "Звонок"),
)  # fmt: skip


def seconds_between(start: Any, end: Any) -> int | None:
    if not start or not end:
        return None
    return max(
        0, int((datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))).total_seconds())
    )


async def _export_rows(request: Request, span: TimeRange, where: CallFilter):  # noqa: ANN202
    db, zone = request.app.state.db, request.app.state.settings.default_timezone
    for offset in range(0, EXPORT_LIMIT, 1000):
        found = await calls.list_calls(db, span, where, PageParams(1000, offset))
        marks = await reviews.reviews_of(db, [c["id"] for c in found.items])
        for c in found.items:
            review = marks.get(c["id"], {})
            yield {
                "started": local_time(c["started_at"], zone, "%d.%m.%Y %H:%M:%S"),
                "direction": label(c["direction"], "direction"),
                "scenario": label(c["scenario"], "scenario"),
                "phone": c["phone"],
                "outcome": label(c["outcome"] or "unfinished", "outcome"),
                "seconds": seconds_between(c["started_at"], c["ended_at"]),
                "campaign_id": c["campaign_id"],
                "recording": "есть" if c["recording_path"] else "",
                "score": review.get("score"),
                "comment": review.get("comment"),
                "id": c["id"],
            }
        if len(found.items) < 1000:
            return


@router.get("/calls/export.{fmt}", name="ui_calls_export", include_in_schema=False)
async def calls_export(fmt: str, request: Request, user: WebUser = Depends(area("calls"))) -> Response:
    """The filtered list as CSV (Excel-ready) or XLSX, up to 50 000 calls."""
    if fmt not in ("csv", "xlsx"):
        raise ServiceError(404, "Выгрузка бывает в CSV или XLSX.")
    try:
        span, where = _filter(request, _params(request))
    except periods.PeriodError as exc:
        raise ServiceError(422, str(exc)) from None
    except ValueError:
        raise ServiceError(422, PHONE_HINT) from None
    columns = [exports.Column(k, t) for k, t in CALL_COLUMNS]
    rows = _export_rows(request, span, where)
    headers = {"Content-Disposition": f'attachment; filename="calls.{fmt}"'}
    if fmt == "xlsx":
        return Response(
            await exports.xlsx_bytes(rows, columns, "Звонки"), media_type=exports.XLSX_MEDIA, headers=headers
        )
    return StreamingResponse(exports.csv_chunks(rows, columns), media_type=exports.CSV_MEDIA, headers=headers)


@router.post("/calls/{call_id}/review", name="ui_call_review", include_in_schema=False)
async def call_review(
    call_id: uuid.UUID,
    request: Request,
    score: str = Form("", max_length=2),
    comment: str = Form("", max_length=4000),
    tags: str = Form("", max_length=500),
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("listen")),
) -> Response:
    await check_csrf(request, user, csrf)
    value = int(score) if score.isdigit() else None
    await reviews.save_review(
        request.app.state.db,
        call_id,
        value,
        comment,
        reviews.parse_tags(tags),
        f"web:{user.name}",
        datetime.now(UTC),
        remote_address(request),
    )
    return RedirectResponse(f"/calls/{call_id}?saved=1#review", status_code=303)


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
    review = (await reviews.reviews_of(request.app.state.db, [call_id])).get(str(call_id))
    return render(
        request,
        "call.html",
        {
            "call": call,
            "review": review,
            "may_review": user.may("listen"),
            "seconds": seconds_between(call.get("started_at"), call.get("ended_at")),
            "flash": "Оценка сохранена." if request.query_params.get("saved") else None,
            "turns": _transcript(call["turns"]),
            "records": records,
            "may_listen": user.may("listen"),
            "has_audio": bool(call.get("recording_path")),
        },
    )


async def listener(request: Request) -> WebUser:
    """A user allowed to listen; refusals (no session, wrong role) are audited like the listens."""
    try:
        return require(await current_user(request), "listen")
    except (LoginRequired, Forbidden) as exc:
        user = getattr(request.state, "web_user", None)
        await audit_refused_listener(
            request,
            403 if isinstance(exc, Forbidden) else 401,
            user.principal.actor if user else "unauthenticated",
        )
        raise


listener.area = "listen"  # type: ignore[attr-defined] - read by the role-matrix test


@router.api_route(
    "/calls/{call_id}/audio", methods=["GET", "HEAD"], name="ui_call_audio", include_in_schema=False
)
async def call_audio(call_id: uuid.UUID, request: Request, user: WebUser = Depends(listener)) -> Response:
    """The recording with Range streaming; every request (and every refusal) is in the audit log."""
    return await recording_response(request, call_id, user.principal.actor)
