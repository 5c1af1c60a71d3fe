"""The live operations view: a page a dispatcher keeps open, fed by a server-sent event stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from voicebot.services import live
from voicebot.web.auth import LoginRequired, RateLimited, WebUser, area, current_user
from voicebot.web.errors import UiRoute
from voicebot.web.templating import render

router = APIRouter(route_class=UiRoute)
INTERVAL = 2.0  # seconds between database looks
KEEPALIVE = 15.0  # a comment line this often keeps proxies from closing a quiet stream
NEAR_SECONDS = 120  # a deadline closer than this turns the screen red and beeps


def _shared(request: Request) -> dict[str, Any]:
    """AMI, speech recognition and line use: from the voice process over the voice link when `serve` runs
    it apart, else from the handles `serve` gave the app (None when telephony does not run here)."""
    state = request.app.state
    link = getattr(state, "voice_link", None)
    if link is not None:
        return link.systems()
    health = getattr(state, "telephony_health", None)
    ami = getattr(health, "ami", None)
    engine = getattr(state, "voice_engine", None)
    admission = getattr(engine, "admission", None)
    return {
        "ami_connected": None if ami is None else bool(getattr(ami, "connected", False)),
        "asr_ok": None if engine is None else bool(getattr(engine, "recognizers", None)),
        "lines": None
        if admission is None
        else {"busy": int(admission.active), "limit": int(admission.limit)},
        "problems": list(health.problems) if health is not None else [],
    }


async def _snapshot(request: Request) -> dict[str, Any]:
    return await live.snapshot(request.app.state.db, datetime.now(UTC), _shared(request))


def _fingerprint(data: dict[str, Any]) -> str:
    # what changed, not the clock: durations and countdowns tick in the browser
    calls = [{k: v for k, v in row.items() if k != "seconds"} for row in data["calls"]]
    return json.dumps([calls, data["callbacks"], data["voice_messages"], data["totals"], data["systems"]])


@router.get("/live", name="ui_live", response_class=HTMLResponse, include_in_schema=False)
async def live_page(request: Request, user: WebUser = Depends(area("queues"))) -> HTMLResponse:
    data = await _snapshot(request)
    return render(
        request,
        "live.html",
        {"data": data, "near_seconds": NEAR_SECONDS, "may_open_calls": user.may("calls")},
    )


@router.get("/live.json", name="ui_live_json", include_in_schema=False)
async def live_json(request: Request, user: WebUser = Depends(area("queues"))) -> JSONResponse:
    return JSONResponse(await _snapshot(request))


async def _events(request: Request) -> AsyncIterator[str]:
    last, quiet = "", 0.0
    yield "retry: 3000\n\n"
    while not await request.is_disconnected():
        data = await _snapshot(request)
        mark = _fingerprint(data)
        if mark != last:
            last, quiet = mark, 0.0
            yield f"event: snapshot\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        elif quiet >= KEEPALIVE:
            quiet = 0.0
            try:  # a signed-out or revoked session stops receiving
                await current_user(request)
            except LoginRequired:
                yield "event: logout\ndata: {}\n\n"
                return
            except RateLimited:  # busy elsewhere: the stream itself goes on
                pass
            yield ": ping\n\n"
        await asyncio.sleep(INTERVAL)
        quiet += INTERVAL


@router.get("/live/stream", name="ui_live_stream", include_in_schema=False)
async def live_stream(request: Request, user: WebUser = Depends(area("queues"))) -> StreamingResponse:
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(_events(request), media_type="text/event-stream", headers=headers)
