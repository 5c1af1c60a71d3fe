"""/api/v1: outages (declare, change, end; reach and calls avoided) and the building → house chat map."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import AfterValidator, BaseModel, Field

from voicebot.api.access import authorize, remote_address
from voicebot.api.errors import ApiError
from voicebot.services.keys import Principal
from voicebot.services.outage_views import audit as record_audit
from voicebot.services.outage_views import outage_view
from voicebot.services.outages import Building, HouseChats, OutageError, OutageService

router = APIRouter(tags=["outages"], dependencies=[Depends(authorize)])

OutageId = Path(ge=1, le=2**62, description="Outage id")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


# Free text stored in Postgres: NUL cannot be stored, so it is refused with a clear 422.
Text = Annotated[str, AfterValidator(_no_nul)]


class BuildingIn(BaseModel):
    street: Text = Field(min_length=1, max_length=200, examples=["Гагарина"])
    house: Text | None = Field(None, max_length=16, description="Empty: the whole street", examples=["15"])


class OutageIn(BaseModel):
    title: Text = Field("", max_length=200, description="What happened", examples=["Отключение горячей воды"])
    message: Text = Field(min_length=1, max_length=2000, description="The text residents hear and read")
    buildings: list[BuildingIn] = Field(min_length=1, max_length=500)
    starts_at: datetime | None = Field(None, description="Default: now")
    ends_at: datetime | None = Field(None, description="Until when (expected)")


class OutageChange(BaseModel):
    title: Text | None = Field(None, max_length=200)
    message: Text | None = Field(None, min_length=1, max_length=2000)
    buildings: list[BuildingIn] | None = Field(None, min_length=1, max_length=500)
    ends_at: datetime | None = None


class HouseChatIn(BaseModel):
    street: Text = Field(min_length=1, max_length=200)
    house: Text = Field(min_length=1, max_length=16)
    chat_id: int = Field(description="MAX chat id of the building's house chat (the bot must be a member)")
    title: Text = Field("", max_length=200)


def outage_service(request: Request) -> OutageService:
    max_service = getattr(request.app.state, "max_service", None)
    client = max_service.client if max_service is not None else None
    return OutageService(request.app.state.db, client, request.app.state.settings.default_timezone)


async def audit(request: Request, principal: Principal, action: str, object_id: Any, details: dict) -> None:
    await record_audit(
        request.app.state.db, principal.actor, action, object_id, details, remote_address(request)
    )


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _buildings(items: list[BuildingIn]) -> list[Building]:
    return [Building(b.street, b.house) for b in items]


@router.post("/outages", name="declare_outage", status_code=201, summary="Declare an outage and post it")
async def declare_outage(
    body: OutageIn, request: Request, principal: Principal = Depends(authorize)
) -> dict[str, Any]:
    service = outage_service(request)
    try:
        outage = await service.declare(
            title=body.title, message=body.message, buildings=_buildings(body.buildings),
            starts_at=_aware(body.starts_at), ends_at=_aware(body.ends_at), by=principal.actor[:64],
        )  # fmt: skip
    except OutageError as exc:
        raise ApiError(422, str(exc)) from None
    await audit(request, principal, "outage.declare", outage.id, {"buildings": len(body.buildings)})
    return await outage_view(service, outage)


@router.get("/outages", name="list_outages", summary="Outages, newest first")
async def list_outages(
    request: Request, active: bool | None = Query(None, description="true: not ended; false: ended")
) -> list[dict[str, Any]]:
    service = outage_service(request)
    return [await outage_view(service, o) for o in await service.list(active=active)]


async def _found(service: OutageService, outage_id: int) -> Any:
    try:
        return await service.get(outage_id)
    except LookupError:
        raise ApiError(404, f"no outage {outage_id}") from None


@router.get("/outages/{outage_id}", name="get_outage", summary="One outage with reach and calls avoided")
async def get_outage(request: Request, outage_id: int = OutageId) -> dict[str, Any]:
    service = outage_service(request)
    return await outage_view(service, await _found(service, outage_id))


@router.patch("/outages/{outage_id}", name="change_outage", summary="Change the text, buildings or end time")
async def change_outage(
    body: OutageChange, request: Request, outage_id: int = OutageId, principal: Principal = Depends(authorize)
) -> dict[str, Any]:
    service = outage_service(request)
    await _found(service, outage_id)
    try:
        outage = await service.update(
            outage_id, title=body.title, message=body.message, ends_at=_aware(body.ends_at),
            buildings=_buildings(body.buildings) if body.buildings is not None else None,
        )  # fmt: skip
    except OutageError as exc:
        raise ApiError(409 if "ended" in str(exc) else 422, str(exc)) from None
    await audit(
        request, principal, "outage.change", outage_id, body.model_dump(exclude_none=True, mode="json")
    )
    return await outage_view(service, outage)


@router.post("/outages/{outage_id}/end", name="end_outage", summary="End an outage and close its posts")
async def end_outage(
    request: Request, outage_id: int = OutageId, principal: Principal = Depends(authorize)
) -> dict[str, Any]:
    service = outage_service(request)
    await _found(service, outage_id)
    outage = await service.end(outage_id)
    await audit(request, principal, "outage.end", outage_id, {})
    return await outage_view(service, outage)


@router.get("/house-chats", name="list_house_chats", summary="Buildings and their MAX house chats")
async def list_house_chats(request: Request) -> list[dict[str, Any]]:
    return [{"id": c.id, "street": c.street, "house": c.house, "chat_id": c.chat_id, "title": c.title}
            for c in await HouseChats(request.app.state.db).list()]  # fmt: skip


@router.post(
    "/house-chats", name="add_house_chat", status_code=201, summary="Map a building to its house chat"
)
async def add_house_chat(
    body: HouseChatIn, request: Request, principal: Principal = Depends(authorize)
) -> dict[str, Any]:
    try:
        chat = await HouseChats(request.app.state.db).add(body.street, body.house, body.chat_id, body.title)
    except OutageError as exc:
        raise ApiError(409, str(exc)) from None
    await audit(request, principal, "house_chat.add", chat.id, {"chat_id": body.chat_id})
    return {
        "id": chat.id,
        "street": chat.street,
        "house": chat.house,
        "chat_id": chat.chat_id,
        "title": chat.title,
    }


@router.delete(
    "/house-chats/{chat_row_id}", name="delete_house_chat", status_code=204, summary="Unmap a chat"
)
async def delete_house_chat(
    request: Request, chat_row_id: int = Path(ge=1, le=2**62), principal: Principal = Depends(authorize)
) -> None:
    if not await HouseChats(request.app.state.db).remove(chat_row_id):
        raise ApiError(404, f"no house chat {chat_row_id}")
    await audit(request, principal, "house_chat.delete", chat_row_id, {})
