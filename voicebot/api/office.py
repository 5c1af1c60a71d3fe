"""/api/v1/office: the service centre's schedule and appointments (one schedule for phone, MAX and staff)."""

from __future__ import annotations

from datetime import date, time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from voicebot.api.access import authorize, remote_address
from voicebot.api.errors import ApiError
from voicebot.api.outages import Text
from voicebot.db.appointments import SlotTaken
from voicebot.importers.csvfile import CsvFormatError
from voicebot.services.appointments import Schedule, ScheduleError, day_view
from voicebot.services.keys import Principal
from voicebot.services.outage_views import audit
from voicebot.values import parse_phone

router = APIRouter(prefix="/office", tags=["office appointments"], dependencies=[Depends(authorize)])


class SlotsIn(BaseModel):
    day: date
    first: time = Field(description="Start of reception, HH:MM")
    last: time = Field(description="End of reception, HH:MM")
    minutes: int = Field(30, ge=5, le=480)
    windows: int = Field(1, ge=1, le=20)


class BookingIn(BaseModel):
    slot_id: int = Field(ge=1)
    phone: Text = Field(max_length=32)
    name: Text = Field("", max_length=200)
    topic: Text = Field("", max_length=500)


class BookingChange(BaseModel):
    status: Literal["cancelled", "done", "missed"] | None = None
    slot_id: int | None = Field(None, ge=1, description="Move to this free slot")


def schedule(request: Request) -> Schedule:
    return Schedule(request.app.state.db, request.app.state.settings.default_timezone)


@router.get("/appointments", name="office_day", summary="The day's slots and appointments")
async def office_day(
    request: Request, day: date = Query(..., description="YYYY-MM-DD")
) -> list[dict[str, Any]]:
    return day_view(await schedule(request).day(day), schedule(request).zone)


@router.post("/slots", name="add_office_slots", status_code=201, summary="Add reception slots for a day")
async def add_office_slots(
    body: SlotsIn, request: Request, principal: Principal = Depends(authorize)
) -> dict:
    try:
        added = await schedule(request).add_slots(body.day, body.first, body.last, body.minutes, body.windows)
    except ScheduleError as exc:
        raise ApiError(422, str(exc)) from None
    await audit(
        request.app.state.db,
        principal.actor,
        "office.slots_add",
        body.day,
        {"added": added},
        remote_address(request),
    )
    return {"added": added}


@router.post("/slots/import", name="import_office_slots", summary="Import the schedule from CSV (date,start,end[,window])",
             openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}})  # fmt: skip
async def import_office_slots(request: Request, principal: Principal = Depends(authorize)) -> dict:
    raw = await request.body()
    try:
        report = await schedule(request).import_csv(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(422, "the CSV is not UTF-8") from None
    except CsvFormatError as exc:
        raise ApiError(422, str(exc)) from None
    await audit(
        request.app.state.db,
        principal.actor,
        "office.slots_import",
        "",
        report.to_dict(),
        remote_address(request),
    )
    return report.to_dict()


@router.post("/slots/{slot_id}/close", name="close_office_slot", summary="Stop offering a free slot")
async def close_office_slot(
    slot_id: int, request: Request, principal: Principal = Depends(authorize)
) -> dict:
    try:
        await schedule(request).close_slot(slot_id)
    except LookupError as exc:
        raise ApiError(404, str(exc)) from None
    except ScheduleError as exc:
        raise ApiError(409, str(exc)) from None
    await audit(
        request.app.state.db, principal.actor, "office.slot_close", slot_id, {}, remote_address(request)
    )
    return {"closed": slot_id}


@router.post(
    "/appointments", name="book_office_appointment", status_code=201, summary="Book a resident into a slot"
)
async def book_office_appointment(
    body: BookingIn, request: Request, principal: Principal = Depends(authorize)
) -> dict:
    try:
        phone = parse_phone(body.phone)
        booked = await schedule(request).book(body.slot_id, phone=phone, name=body.name, topic=body.topic)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    except SlotTaken as exc:
        raise ApiError(409, str(exc)) from None
    await audit(
        request.app.state.db,
        principal.actor,
        "office.book",
        booked.id,
        {"slot_id": body.slot_id},
        remote_address(request),
    )
    return {"id": booked.id, "slot_id": booked.slot_id, "status": booked.status}


@router.patch(
    "/appointments/{appointment_id}", name="change_office_appointment", summary="Cancel, mark or move"
)
async def change_office_appointment(
    appointment_id: int, body: BookingChange, request: Request, principal: Principal = Depends(authorize)
) -> dict:
    service = schedule(request)
    try:
        if body.slot_id is not None:
            changed = await service.move(appointment_id, body.slot_id)
        elif body.status is not None:
            changed = await service.set_status(appointment_id, body.status)
        else:
            raise ApiError(422, "give a status or a slot_id")
    except LookupError as exc:
        raise ApiError(404, str(exc)) from None
    except SlotTaken as exc:
        raise ApiError(409, str(exc)) from None
    await audit(request.app.state.db, principal.actor, "office.change", appointment_id,
                body.model_dump(exclude_none=True), remote_address(request))  # fmt: skip
    return {"id": changed.id, "slot_id": changed.slot_id, "status": changed.status}
