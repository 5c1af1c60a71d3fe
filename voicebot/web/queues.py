"""Work queues: open tickets, unreviewed voice messages and callbacks due, earliest deadline first."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from voicebot.web import queries
from voicebot.web.auth import WebUser, area
from voicebot.web.errors import UiRoute
from voicebot.web.templating import render

router = APIRouter(route_class=UiRoute)
PAGE_SIZE = 50
TABS = {"tickets": "Заявки", "voice_messages": "Голосовые сообщения", "callbacks": "Перезвоны"}


@router.get("/queues", name="ui_queues", response_class=HTMLResponse, include_in_schema=False)
async def queues_page(
    request: Request,
    tab: str = Query("tickets", max_length=32),
    page: int = Query(1, ge=1, le=100_000),
    user: WebUser = Depends(area("queues")),
) -> HTMLResponse:
    tab = tab if tab in TABS else "tickets"
    db = request.app.state.db
    counts = {name: await queries.queue(db, name, 0, 0) for name in TABS if name != tab}
    current = await queries.queue(db, tab, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    counts[tab] = current
    return render(
        request,
        "queues.html",
        {
            "tab": tab,
            "tabs": TABS,
            "counts": counts,
            "items": current["items"],
            "page": page,
            "pages": max(1, -(-current["total"] // PAGE_SIZE)),
            "may_open_calls": user.may("calls"),
        },
    )
