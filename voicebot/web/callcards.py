"""«Оператору»: the call cards of callers the bot is handing over, pushed the moment a transfer is offered.

The page lists the latest cards (CardHub.recent) and keeps a server-sent events stream open; each event
is one card rendered by `_call_card.html` (the same template as the page), replacing that call's card
when its transfer is answered, abandoned or falls back. Kept in its own module and template so other
pages (the live operations view) can include a card.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from voicebot.web.auth import WebUser, area
from voicebot.web.errors import UiRoute
from voicebot.web.templating import render, templates

router = APIRouter(route_class=UiRoute)
KEEPALIVE_SECONDS = 15.0
CARD_TEMPLATE = "_call_card.html"


def render_card(card: dict[str, Any], tz: str) -> str:
    return templates.get_template(CARD_TEMPLATE).render(card=card, tz=tz)


def sse_event(card: dict[str, Any], tz: str) -> str:
    lines = render_card(card, tz).strip().splitlines()
    data = "\n".join(f"data: {line}" for line in lines)
    return f"event: card\nid: {card['call_id']}\n{data}\n\n"


@router.get("/operator", name="ui_operator", response_class=HTMLResponse, include_in_schema=False)
async def operator_page(request: Request, user: WebUser = Depends(area("operator"))) -> HTMLResponse:
    hub = request.app.state.call_cards
    cards = list(reversed(hub.recent)) if hub is not None else []
    return render(request, "operator.html", {"cards": cards, "live": hub is not None})


@router.get("/operator/cards/stream", name="ui_operator_stream", include_in_schema=False)
async def card_stream(request: Request, user: WebUser = Depends(area("operator"))) -> Response:
    hub = request.app.state.call_cards
    if hub is None:
        return Response("telephony does not run in this process", status_code=503)
    tz = request.app.state.settings.default_timezone

    async def events() -> AsyncIterator[str]:
        async with hub.subscribe() as queue:
            yield ": connected\n\n"
            while not await request.is_disconnected():
                try:
                    card = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                yield sse_event(card, tz)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
