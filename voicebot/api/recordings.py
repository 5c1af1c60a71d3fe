"""/api/v1/calls/{id}/recording (HTTP Range streaming, audited) and /transcript."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from voicebot.api.access import authorize
from voicebot.api.errors import ApiError
from voicebot.services.calls import call_turns, load_call
from voicebot.services.keys import Principal
from voicebot.services.recordings import audit_refused_listener, recording_response

log = logging.getLogger(__name__)
router = APIRouter(tags=["recordings"])


async def audited_principal(request: Request) -> Principal:
    """`authorize`, but a refused key (401/403/429) is audited too: failed listens are not invisible."""
    try:
        return await authorize(request)
    except ApiError as exc:
        known = getattr(request.state, "principal", None)
        await audit_refused_listener(request, exc.status, known.actor if known else "unauthenticated")
        raise


@router.head("/calls/{call_id}/recording", name="head_recording", include_in_schema=False)
@router.get(
    "/calls/{call_id}/recording",
    name="get_recording",
    summary="The call's audio (supports HTTP Range; every request is audited)",
    responses={200: {"content": {"audio/ogg": {}}}, 206: {"description": "Partial content"}},
)
async def get_recording(
    call_id: uuid.UUID, request: Request, principal: Principal = Depends(audited_principal)
) -> Response:
    return await recording_response(request, call_id, principal.actor)


@router.get(
    "/calls/{call_id}/transcript",
    name="get_transcript",
    summary="What the bot and the caller said",
    dependencies=[Depends(authorize)],
)
async def get_transcript(call_id: uuid.UUID, request: Request) -> dict[str, Any]:
    call = await load_call(request.app.state.db, call_id)
    turns = await call_turns(request.app.state.db, call_id)
    lines = [f"{'БОТ' if t['speaker'] == 'bot' else 'АБОНЕНТ'}: {t['text']}" for t in turns]
    return {"call_id": str(call.id), "scenario": call.scenario, "turns": turns, "text": "\n".join(lines)}
