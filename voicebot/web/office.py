"""The service centre's day in the UI: slots and appointments, booking, moving, cancelling, adding slots
and importing the schedule from CSV. One schedule with the phone and MAX dialogues."""

from __future__ import annotations

from datetime import date, datetime, time

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voicebot.db.appointments import SlotTaken
from voicebot.importers.csvfile import CsvFormatError
from voicebot.services.appointments import Schedule, ScheduleError, day_view
from voicebot.services.outage_views import audit
from voicebot.values import parse_phone
from voicebot.web.auth import WebUser, area, check_csrf
from voicebot.web.errors import UiRoute
from voicebot.web.templating import render

router = APIRouter(route_class=UiRoute)

STATUS_RU = {"booked": "записан", "cancelled": "отменена", "done": "пришёл", "missed": "не пришёл"}


def _schedule(request: Request) -> Schedule:
    return Schedule(request.app.state.db, request.app.state.settings.default_timezone)


def _addr(request: Request) -> str:
    return request.client.host if request.client else ""


async def _page(request: Request, day: date, message: str | None = None, error: str | None = None,
                status: int = 200) -> HTMLResponse:  # fmt: skip
    schedule = _schedule(request)
    rows = day_view(await schedule.day(day), schedule.zone)
    free = [r for r in rows if r["appointment"] is None and not r["closed"]]
    return render(request, "office.html", {"day": day, "rows": rows, "free": free, "message": message,
                                           "error": error, "status_ru": STATUS_RU}, status)  # fmt: skip


def _today(request: Request) -> date:
    return datetime.now(_schedule(request).zone).date()


@router.get("/office", name="ui_office", response_class=HTMLResponse, include_in_schema=False)
async def office_page(
    request: Request, day: date | None = Query(None), user: WebUser = Depends(area("office"))
) -> HTMLResponse:
    return await _page(request, day or _today(request))


@router.post("/office/book", name="ui_office_book", include_in_schema=False)
async def book(
    request: Request, day: date = Form(...), slot_id: int = Form(...), phone: str = Form("", max_length=32),
    name: str = Form("", max_length=200), topic: str = Form("", max_length=500), csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("office")),
) -> Response:  # fmt: skip
    await check_csrf(request, user, csrf)
    try:
        booked = await _schedule(request).book(slot_id, phone=parse_phone(phone), name=name, topic=topic)
    except ValueError:
        return await _page(
            request, day, error=f"«{phone}» — не номер телефона (нужно +79161234567).", status=422
        )
    except SlotTaken:
        return await _page(request, day, error="Это время уже занято — выберите другое.", status=409)
    await audit(request.app.state.db, user.principal.actor, "office.book", booked.id, {}, _addr(request))
    return RedirectResponse(f"/office?day={day}", status_code=303)


@router.post("/office/appointments/{appointment_id}", name="ui_office_change", include_in_schema=False)
async def change(
    appointment_id: int, request: Request, day: date = Form(...), action: str = Form(..., max_length=16),
    slot_id: int | None = Form(None), csrf: str = Form("", max_length=128), user: WebUser = Depends(area("office")),
) -> Response:  # fmt: skip
    await check_csrf(request, user, csrf)
    schedule = _schedule(request)
    try:
        if action == "move" and slot_id:
            await schedule.move(appointment_id, slot_id)
        elif action in ("cancelled", "done", "missed"):
            await schedule.set_status(appointment_id, action)
        else:
            return await _page(request, day, error="Выберите новое время для переноса.", status=422)
    except SlotTaken:
        return await _page(request, day, error="Это время уже занято — выберите другое.", status=409)
    except LookupError:
        return await _page(request, day, error="Такой записи нет.", status=404)
    await audit(
        request.app.state.db,
        user.principal.actor,
        "office.change",
        appointment_id,
        {"action": action},
        _addr(request),
    )
    return RedirectResponse(f"/office?day={day}", status_code=303)


@router.post("/office/slots", name="ui_office_slots", include_in_schema=False)
async def add_slots(
    request: Request, day: date = Form(...), first: time = Form(...), last: time = Form(...),
    minutes: int = Form(30, ge=5, le=480), windows: int = Form(1, ge=1, le=20), csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("office")),
) -> Response:  # fmt: skip
    await check_csrf(request, user, csrf)
    try:
        added = await _schedule(request).add_slots(day, first, last, minutes, windows)
    except ScheduleError:
        return await _page(request, day, error="Конец приёма должен быть позже начала.", status=422)
    await audit(
        request.app.state.db, user.principal.actor, "office.slots_add", day, {"added": added}, _addr(request)
    )
    return await _page(request, day, message=f"Добавлено окон приёма: {added}.")


@router.post("/office/slots/{slot_id}/close", name="ui_office_close", include_in_schema=False)
async def close_slot(
    slot_id: int, request: Request, day: date = Form(...), csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("office")),
) -> Response:  # fmt: skip
    await check_csrf(request, user, csrf)
    try:
        await _schedule(request).close_slot(slot_id)
    except (LookupError, ScheduleError):
        return await _page(request, day, error="Занятое время не закрыть: сначала отмените или перенесите запись.",
                           status=409)  # fmt: skip
    return RedirectResponse(f"/office?day={day}", status_code=303)


@router.post("/office/import", name="ui_office_import", include_in_schema=False)
async def import_schedule(
    request: Request, day: date = Form(...), file: UploadFile = File(...), csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("office")),
) -> Response:  # fmt: skip
    await check_csrf(request, user, csrf)
    try:
        report = await _schedule(request).import_csv((await file.read()).decode("utf-8"))
    except (UnicodeDecodeError, CsvFormatError) as exc:
        reason = "файл не в UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
        return await _page(request, day, error=f"Файл не прочитан: {reason}.", status=422)
    await audit(
        request.app.state.db,
        user.principal.actor,
        "office.slots_import",
        "",
        report.to_dict(),
        _addr(request),
    )
    rejected = "; ".join(f"строка {r.line}: {r.reason}" for r in report.rejected[:10])
    text = (
        f"Прочитано строк: {report.read}, новых окон: {report.inserted}, отклонено: {len(report.rejected)}."
    )
    return await _page(request, day, message=text + (f" {rejected}" if rejected else ""))
