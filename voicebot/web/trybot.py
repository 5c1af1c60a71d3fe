"""Try the bot: a text chat through the simulations store, and a microphone over /ws/voice/{scenario}."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError

from voicebot.dialogue.library import cached_library
from voicebot.services import simulations
from voicebot.services.errors import ServiceError
from voicebot.services.simulations import SimulationIn, TurnIn
from voicebot.web.auth import WebUser, area, check_csrf
from voicebot.web.errors import UiRoute
from voicebot.web.labels import INTENTS, OUTCOMES
from voicebot.web.templating import render

router = APIRouter(route_class=UiRoute)
SimulationId = Path(min_length=1, max_length=64)


@router.get("/try", name="ui_try", response_class=HTMLResponse, include_in_schema=False)
async def try_page(request: Request, user: WebUser = Depends(area("try"))) -> HTMLResponse:
    library = cached_library(str(request.app.state.settings.scenarios_dir))
    scenarios = [(name, list(library.get(name).directions)) for name in library.names()]
    return render(request, "try.html", {"scenarios": scenarios, "outcomes": OUTCOMES, "intents": INTENTS})


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ServiceError(400, "тело запроса — не JSON") from None
    if not isinstance(body, dict):
        raise ServiceError(400, "ожидался JSON-объект")
    return body


def _parsed(model: Any, body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ServiceError(422, f"{where}: {first.get('msg', 'неверное значение')}") from None


@router.post("/try/chats", name="ui_try_start", include_in_schema=False)
async def start_chat(request: Request, user: WebUser = Depends(area("try"))) -> JSONResponse:
    await check_csrf(request, user)
    body = await _json_body(request)
    if not body.get("now"):
        body.pop("now", None)
    elif isinstance(body["now"], str) and len(body["now"]) == 16:  # <input type=datetime-local>: local time
        body["now"] = datetime.fromisoformat(body["now"]).isoformat()
    if not body.get("phone"):
        body.pop("phone", None)
    state = request.app.state
    started = await simulations.create_simulation(
        state.simulations, state.db, state.settings, _parsed(SimulationIn, body), user.principal
    )
    return JSONResponse(started, status_code=201)


@router.post("/try/chats/{simulation_id}", name="ui_try_turn", include_in_schema=False)
async def chat_turn(
    request: Request, simulation_id: str = SimulationId, user: WebUser = Depends(area("try"))
) -> JSONResponse:
    await check_csrf(request, user)
    body = _parsed(TurnIn, await _json_body(request))
    turn = await simulations.simulation_turn(
        request.app.state.simulations, simulation_id, body, user.principal
    )
    return JSONResponse(turn)
