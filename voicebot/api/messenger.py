"""/api/v1/max/conversations: start an outbound conversation in MAX (visit warning, debt reminder…)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from voicebot.api.access import authorize
from voicebot.api.errors import ApiError
from voicebot.api.outages import Text
from voicebot.max.channel import MaxUnavailable
from voicebot.values import parse_phone

router = APIRouter(prefix="/max", tags=["MAX messenger"], dependencies=[Depends(authorize)])


class ConversationIn(BaseModel):
    phone: Text = Field(max_length=32, description="E.164 phone the resident shared with the bot")
    scenario: Literal["visit_warning", "debt_reminder", "meter_readings", "nps_survey", "announcement"]
    variables: dict[str, Text] = Field(default_factory=dict, max_length=50)


@router.post("/conversations", name="start_max_conversation", status_code=201,
             summary="Start an outbound conversation with a MAX user (the same flows as calls)")  # fmt: skip
async def start_max_conversation(body: ConversationIn, request: Request) -> dict[str, Any]:
    service = getattr(request.app.state, "max_service", None)
    if service is None:
        raise ApiError(409, "the MAX channel is off (VOICEBOT_MAX_MODE)")
    try:
        phone = parse_phone(body.phone)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    try:
        call_id = await service.channel.start_outbound(phone, body.scenario, dict(body.variables))
    except MaxUnavailable as exc:
        raise ApiError(409, str(exc)) from None
    except KeyError as exc:
        raise ApiError(422, str(exc)) from None
    return {"call_id": call_id, "channel": "max"}
