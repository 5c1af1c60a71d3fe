"""Work queues: tickets, voice messages and callbacks, sortable and filterable, with the actions a
dispatcher takes on each item (every action is audited by the desk service)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voicebot.services import queues as desk
from voicebot.services.clients import remote_address
from voicebot.web.auth import WebUser, area, check_csrf
from voicebot.web.campaigns import RowId
from voicebot.web.errors import UiRoute
from voicebot.web.labels import CALLBACK_RESULTS, TICKET_STATUSES
from voicebot.web.templating import render

router = APIRouter(route_class=UiRoute)
PAGE_SIZE = 50
TABS = {"tickets": "Заявки", "voice_messages": "Голосовые сообщения", "callbacks": "Перезвоны"}
STATES = {"open": "Открытые", "closed": "Закрытые", "all": "Все"}
DONE_TEXT = {
    "ticket_status": "Статус заявки изменён.",
    "ticket_assign": "Ответственный назначен.",
    "listened": "Отмечено: прослушано.",
    "reviewed": "Отмечено: обработано.",
    "callback": "Перезвон закрыт.",
}


def _query(request: Request, tab: str, page: int) -> desk.QueueQuery:
    params = request.query_params
    state = params.get("state", "open")
    sort = params.get("sort", "")[:32]
    return desk.QueueQuery(
        tab=tab,
        state=state if state in STATES else "open",
        q=params.get("q", "")[:100],
        sort=sort if sort in desk.SPECS[tab].sorts else "",
        desc=params.get("desc") == "1",
        overdue_only=params.get("overdue") == "1",
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )


@router.get("/queues", name="ui_queues", response_class=HTMLResponse, include_in_schema=False)
async def queues_page(
    request: Request,
    tab: str = Query("tickets", max_length=32),
    page: int = Query(1, ge=1, le=100_000),
    done: str = Query("", max_length=32),
    user: WebUser = Depends(area("queues")),
) -> HTMLResponse:
    tab = tab if tab in TABS else "tickets"
    query = _query(request, tab, page)
    db = request.app.state.db
    current = await desk.page(db, query)
    kept = {"tab": tab, "state": query.state, "q": query.q, "overdue": "1" if query.overdue_only else ""}
    kept = {k: v for k, v in kept.items() if v}
    sorting = {**kept, "sort": query.sort, "desc": "1" if query.desc else ""}
    return render(
        request,
        "queues.html",
        {
            "tab": tab,
            "tabs": TABS,
            "states": STATES,
            "query": query,
            "counts": await desk.open_counts(db),
            "found": current,
            "items": current["items"],
            "page": page,
            "pages": max(1, -(-current["total"] // PAGE_SIZE)),
            "filter_qs": urlencode(kept),
            "page_qs": urlencode({k: v for k, v in sorting.items() if v}),
            "back_to": "/queues?"
            + urlencode([(k, v) for k, v in request.query_params.items() if k != "done"]),
            "may_open_calls": user.may("calls"),
            "may_listen": user.may("listen"),
            "ticket_statuses": TICKET_STATUSES,
            "callback_results": {k: CALLBACK_RESULTS[k] for k in desk.CALLBACK_CLOSE},
            "flash": DONE_TEXT.get(done),
        },
    )


def _back(back: str, tab: str, done: str) -> RedirectResponse:
    target = back if back.startswith("/queues") and not back.startswith("//") else f"/queues?tab={tab}"
    target = target.split("#")[0]
    target += ("&" if "?" in target else "?") + urlencode({"done": done})
    return RedirectResponse(target, status_code=303)


async def _act(request: Request, user: WebUser, csrf: str, action) -> None:  # noqa: ANN001
    await check_csrf(request, user, csrf)
    actor = desk.Actor(f"web:{user.name}", remote_address(request))
    await action(actor, datetime.now(UTC))  # a ServiceError becomes a Russian page in UiRoute


@router.post("/queues/tickets/{ticket_id}/status", name="ui_ticket_status", include_in_schema=False)
async def ticket_status(
    ticket_id: RowId,
    request: Request,
    status: str = Form(..., max_length=16),
    comment: str = Form("", max_length=2000),
    back: str = Form("", max_length=2000),
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("queues")),
) -> Response:
    db = request.app.state.db
    await _act(
        request, user, csrf, lambda a, now: desk.set_ticket_status(db, ticket_id, status, comment, a, now)
    )
    return _back(back, "tickets", "ticket_status")


@router.post("/queues/tickets/{ticket_id}/assign", name="ui_ticket_assign", include_in_schema=False)
async def ticket_assign(
    ticket_id: RowId,
    request: Request,
    responsible: str = Form("", max_length=200),
    back: str = Form("", max_length=2000),
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("queues")),
) -> Response:
    db = request.app.state.db
    await _act(request, user, csrf, lambda a, now: desk.assign_ticket(db, ticket_id, responsible, a))
    return _back(back, "tickets", "ticket_assign")


@router.post("/queues/voice_messages/{message_id}/{step}", name="ui_voice_message", include_in_schema=False)
async def voice_message_step(
    message_id: RowId,
    step: str,
    request: Request,
    back: str = Form("", max_length=2000),
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("queues")),
) -> Response:
    db = request.app.state.db
    await _act(request, user, csrf, lambda a, now: desk.mark_voice_message(db, message_id, step, a, now))
    return _back(back, "voice_messages", step)


@router.post("/queues/callbacks/{callback_id}/close", name="ui_callback_close", include_in_schema=False)
async def callback_close(
    callback_id: RowId,
    request: Request,
    result: str = Form("", max_length=32),
    note: str = Form("", max_length=2000),
    back: str = Form("", max_length=2000),
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("queues")),
) -> Response:
    db = request.app.state.db
    await _act(request, user, csrf, lambda a, now: desk.close_callback(db, callback_id, result, note, a, now))
    return _back(back, "callbacks", "callback")
