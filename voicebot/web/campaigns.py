"""Campaigns: list with live progress, creation from a CSV with its row report, state changes, results."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse

from voicebot import rules
from voicebot.campaigns.policy import DEFAULT_RETRY
from voicebot.campaigns.store import outbound_scenarios
from voicebot.db.models import CampaignImport
from voicebot.dialogue.library import cached_library
from voicebot.services import campaign_view as view
from voicebot.services import campaigns as store
from voicebot.services import exports
from voicebot.services.errors import ServiceError
from voicebot.web import queries
from voicebot.web.auth import WebUser, area, check_csrf
from voicebot.web.errors import UiRoute, russian_message
from voicebot.web.labels import ATTEMPT_RESULTS, CONTACT_STATES, EXAMPLES, OUTCOMES, VARIABLES, label
from voicebot.web.templating import local_time, render

router = APIRouter(route_class=UiRoute)
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PAGE_SIZE = 20
CONTACTS_PAGE = 50
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
    return outbound_scenarios(str(request.app.state.settings.scenarios_dir))


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


def _library(request: Request):  # noqa: ANN202
    return cached_library(str(request.app.state.settings.scenarios_dir))


def _columns(request: Request) -> dict[str, view.ScenarioColumns]:
    library = _library(request)
    return {name: view.scenario_columns(library, name) for name in _outbound_scenarios(request)}


def _form(
    request: Request, error: str | None = None, values: dict[str, Any] | None = None, status: int = 200
):
    return render(
        request,
        "campaign_new.html",
        {
            "scenarios": _outbound_scenarios(request),
            "columns": _columns(request),
            "defaults": _policy_defaults(),
            "variables": VARIABLES,
            "error": error,
            "values": values or {},
            "token": secrets.token_urlsafe(16),
            "max_mb": request.app.state.settings.api_max_upload_bytes // 1_048_576,
        },
        status,
    )


POLICY_FIELDS = (
    "weekday_from", "weekday_to", "weekend_from", "weekend_to",
    "busy_delay", "busy_max", "no_answer_delay", "no_answer_max", "failed_delay", "failed_max", "channel",
)  # fmt: skip


def _policy_defaults() -> dict[str, Any]:
    """The dialer's own defaults, shown beside the empty fields (one source: campaigns.policy and rules)."""

    def window(w: Any) -> str:
        return f"{w.start:%H:%M}–{w.end:%H:%M}"

    retry = {
        rule: {"minutes": int(r.delay.total_seconds() // 60), "attempts": r.max_attempts}
        for rule, r in DEFAULT_RETRY.items()
    }
    return {"weekday": window(rules.WEEKDAY_WINDOW), "weekend": window(rules.WEEKEND_WINDOW), "retry": retry}


def _policy(values: dict[str, Any]) -> dict[str, Any]:
    """campaigns.settings from the form: only what the user filled in; the dialer's defaults fill the rest."""
    settings: dict[str, Any] = {}
    windows = {
        day: [values[f"{day}_from"], values[f"{day}_to"]]
        for day in ("weekday", "weekend")
        if values.get(f"{day}_from") or values.get(f"{day}_to")
    }
    if any(not (start and end) for start, end in windows.values()):
        raise ValueError("укажите и начало, и конец окна звонков")
    if windows:
        settings["windows"] = windows
    retry = {}
    for rule in ("busy", "no_answer", "failed"):
        entry = {}
        if values.get(f"{rule}_delay"):
            entry["delay_minutes"] = float(values[f"{rule}_delay"])
        if values.get(f"{rule}_max"):
            entry["max_attempts"] = int(values[f"{rule}_max"])
        if entry:
            retry[rule] = entry
    if retry:
        settings["retry"] = retry
    if values.get("channel") == "max":
        settings["channel"] = "max"
    return settings


def _policy_error(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc)
    if "230-ФЗ" in text:
        return "окно выходит за часы, которые разрешает 230-ФЗ для звонков должникам."
    if "start must be before" in text:
        return "начало окна должно быть раньше конца."
    if "not a time" in text:
        return "время указывается как 09:00."
    if "could not convert" in text or "invalid literal" in text or "must be numbers" in text:
        return "задержка и число попыток — числа."
    if "at least" in text or "must be" in text:
        return "проверьте число попыток (от 1) и задержку (больше 0)."
    return text


@router.get("/campaigns/template/{scenario}.csv", name="ui_campaign_template", include_in_schema=False)
async def csv_template(
    scenario: str, request: Request, user: WebUser = Depends(area("campaigns"))
) -> Response:
    """A CSV to fill in Excel: the scenario's columns and one example row, UTF-8 with a BOM."""
    if scenario not in _outbound_scenarios(request):
        raise ServiceError(404, "Нет такого сценария для исходящих звонков.")
    columns = view.scenario_columns(_library(request), scenario)
    header = columns.header
    lines = [",".join(header), ",".join(_csv_cell(EXAMPLES.get(c, "")) for c in header)]
    body = "\ufeff" + "\r\n".join(lines) + "\r\n"
    disposition = f'attachment; filename="template-{scenario}.csv"'
    return Response(body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(ch in value for ch in ',"\n') else value


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
    form = await request.form()
    values: dict[str, Any] = {
        "name": name,
        "scenario": scenario,
        "max_concurrent": max_concurrent,
        "calls_per_second": calls_per_second,
        **{key: str(form.get(key) or "")[:16] for key in POLICY_FIELDS},
    }
    if not name.strip():
        return _form(request, "Укажите название обзвона.", values, 422)
    if not file.filename:
        return _form(request, "Выберите CSV-файл с контактами.", values, 422)
    try:
        policy = _policy(values)
        store.check_policy(scenario, policy)
    except (ValueError, ServiceError) as exc:
        return _form(request, "Правила звонков: " + _policy_error(exc), values, 422)
    spec = store.CampaignSpec(name.strip(), scenario, None, max_concurrent, calls_per_second, policy)
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
        return _form(request, russian_message(exc.status, exc.message), values, exc.status)
    return render(request, "campaign_report.html", created.body())


@router.get(
    "/campaigns/{campaign_id}", name="ui_campaign", response_class=HTMLResponse, include_in_schema=False
)
async def campaign_page(
    campaign_id: RowId, request: Request, user: WebUser = Depends(area("campaigns"))
) -> HTMLResponse:
    db = request.app.state.db
    campaign = await store.get_campaign(db, campaign_id)
    progress = await store.progress(db, campaign_id)
    async with db.session() as s:
        upload = await s.get(CampaignImport, campaign_id)
    actions = [action for action, sources in ACTIONS_FROM.items() if campaign.status in sources]
    params = request.query_params
    page = max(1, min(100_000, int(params.get("page", "1")) if params.get("page", "").isdigit() else 1))
    query = view.ContactQuery(
        q=params.get("q", "")[:100],
        state=params.get("state", "") if params.get("state") in CONTACT_STATES else "",
        result=params.get("result", "")[:32],
        limit=CONTACTS_PAGE,
        offset=(page - 1) * CONTACTS_PAGE,
    )
    contacts, found = await view.contacts(db, campaign_id, query)
    retries, retry_total = await view.next_retries(db, campaign_id)
    kept = {k: v for k, v in {"q": query.q, "state": query.state, "result": query.result}.items() if v}
    return render(
        request,
        "campaign.html",
        {
            "campaign": store.campaign_dict(campaign),
            "progress": progress,
            "attempts": await view.attempt_counts(db, campaign_id),
            "retries": retries,
            "retry_total": retry_total,
            "contacts": contacts,
            "found": found,
            "query": query,
            "page": page,
            "pages": max(1, -(-found // CONTACTS_PAGE)),
            "filter_qs": urlencode(kept),
            "results": {**ATTEMPT_RESULTS, **OUTCOMES},
            "report": upload.report if upload else None,
            "actions": actions,
            "may_open_calls": user.may("calls"),
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


RESULT_COLUMNS = (
    ("contact_id", "№ контакта"), ("phone", "Телефон"), ("account_number", "Лицевой счёт"),
    ("state", "Состояние"), ("attempts", "Попыток"), ("outcome", "Итог"), ("last_result", "Последний дозвон"),
    ("call_ended_at", "Разговор закончен"), ("promise_date", "Обещал оплатить до"),
    ("promise_amount", "Сумма обещания"), ("nps_score", "Оценка NPS"), ("visit_status", "Визит"),
    ("readings", "Принято показаний"), ("call_id", "Звонок"),
)  # fmt: skip
VISIT_STATUSES = {"planned": "Запланирован", "confirmed": "Подтверждён", "rescheduled": "Перенесён",
                  "declined": "Отклонён", "cancelled": "Отменён"}  # fmt: skip


async def _human_rows(db, campaign_id: int, variables: list[str], zone: str):  # noqa: ANN001, ANN202
    async for row in store.iter_results(db, campaign_id, convert=store.file_value):
        human = dict(row)
        human["state"] = label(row["state"], "contact_state")
        human["outcome"] = label(row["outcome"], "result") if row["outcome"] else ""
        human["last_result"] = label(row["last_result"], "attempt_result") if row["last_result"] else ""
        human["visit_status"] = VISIT_STATUSES.get(row["visit_status"] or "", row["visit_status"])
        human["call_ended_at"] = local_time(row["call_ended_at"], zone) if row["call_ended_at"] else ""
        for name in variables:
            human[f"var:{name}"] = (row.get("variables") or {}).get(name)
        yield human


@router.get("/campaigns/{campaign_id}/results.{fmt}", name="ui_campaign_results", include_in_schema=False)
async def results_file(
    campaign_id: RowId, fmt: str, request: Request, user: WebUser = Depends(area("campaigns"))
) -> Response:
    """Results for Excel: Russian headers and values, each contact variable in its own column."""
    if fmt not in ("csv", "xlsx"):
        raise ServiceError(404, "Выгрузка бывает в CSV или XLSX.")
    db = request.app.state.db
    await store.get_campaign(db, campaign_id)
    variables = await view.variable_names(db, campaign_id)
    columns = [exports.Column(k, t) for k, t in RESULT_COLUMNS] + [
        exports.Column(f"var:{name}", label(name, "variable")) for name in variables
    ]
    rows = _human_rows(db, campaign_id, variables, request.app.state.settings.default_timezone)
    name = f"campaign-{campaign_id}-results.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "xlsx":
        data = await exports.xlsx_bytes(rows, columns, "Результаты")
        return Response(data, media_type=exports.XLSX_MEDIA, headers=headers)
    return StreamingResponse(exports.csv_chunks(rows, columns), media_type=exports.CSV_MEDIA, headers=headers)
