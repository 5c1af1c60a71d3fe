"""Outages in the UI: declare (buildings, what happened, until when, the text residents get), see reach
and calls avoided, change and end; and the building → MAX house chat map."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voicebot.services.outage_views import audit, outage_view, parse_buildings
from voicebot.services.outages import HouseChats, OutageError, OutageService
from voicebot.web.auth import WebUser, area, check_csrf
from voicebot.web.errors import UiRoute
from voicebot.web.templating import render

router = APIRouter(route_class=UiRoute)
RowId = Path(ge=1, le=2**62)


def _service(request: Request) -> OutageService:
    max_service = getattr(request.app.state, "max_service", None)
    client = max_service.client if max_service is not None else None
    return OutageService(request.app.state.db, client, request.app.state.settings.default_timezone)


def _when(value: str, tz: str) -> datetime | None:
    """A datetime-local field (company time) → aware datetime; empty → None."""
    if not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=ZoneInfo(tz))
    except ValueError:
        raise OutageError(f"«{value}» — не дата и время") from None


def _addr(request: Request) -> str:
    return request.client.host if request.client else ""


async def _list_page(request: Request, error: str | None = None, values: dict[str, Any] | None = None,
                     status: int = 200) -> HTMLResponse:  # fmt: skip
    service = _service(request)
    items = [await outage_view(service, o) for o in await service.list()]
    chats = await HouseChats(request.app.state.db).list()
    return render(request, "outages.html", {"outages": items, "chats": len(chats), "error": error,
                                            "values": values or {}}, status)  # fmt: skip


@router.get("/outages", name="ui_outages", response_class=HTMLResponse, include_in_schema=False)
async def outages_page(request: Request, user: WebUser = Depends(area("outages"))) -> HTMLResponse:
    return await _list_page(request)


@router.post("/outages", name="ui_outage_declare", include_in_schema=False)
async def declare(
    request: Request,
    title: str = Form("", max_length=200),
    message: str = Form("", max_length=2000),
    buildings: str = Form("", max_length=20000),
    ends_at: str = Form("", max_length=32),
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("outages")),
) -> Response:
    await check_csrf(request, user, csrf)
    values = {"title": title, "message": message, "buildings": buildings, "ends_at": ends_at}
    tz = request.app.state.settings.default_timezone
    try:
        outage = await _service(request).declare(
            title=title, message=message, buildings=parse_buildings(buildings), ends_at=_when(ends_at, tz),
            by=user.principal.actor[:64],
        )  # fmt: skip
    except OutageError as exc:
        return await _list_page(request, _russian(str(exc)), values, 422)
    await audit(request.app.state.db, user.principal.actor, "outage.declare", outage.id, {}, _addr(request))
    return RedirectResponse(f"/outages/{outage.id}", status_code=303)


@router.get("/outages/{outage_id}", name="ui_outage", response_class=HTMLResponse, include_in_schema=False)
async def outage_page(
    request: Request,
    outage_id: int = RowId,
    user: WebUser = Depends(area("outages")),
    error: str | None = None,
) -> HTMLResponse:
    service = _service(request)
    try:
        outage = await service.get(outage_id)
    except LookupError:
        return render(
            request, "error.html", {"title": "Не найдено", "message": "Такого отключения нет."}, 404
        )
    return render(request, "outage.html", {"o": await outage_view(service, outage), "error": error})


@router.post("/outages/{outage_id}", name="ui_outage_change", include_in_schema=False)
async def change(
    request: Request,
    outage_id: int = RowId,
    message: str = Form("", max_length=2000),
    ends_at: str = Form("", max_length=32),
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("outages")),
) -> Response:
    await check_csrf(request, user, csrf)
    tz = request.app.state.settings.default_timezone
    try:
        await _service(request).update(outage_id, message=message or None, ends_at=_when(ends_at, tz))
    except (OutageError, LookupError) as exc:
        return await outage_page(request, outage_id, user, _russian(str(exc)))
    await audit(request.app.state.db, user.principal.actor, "outage.change", outage_id, {}, _addr(request))
    return RedirectResponse(f"/outages/{outage_id}", status_code=303)


@router.post("/outages/{outage_id}/end", name="ui_outage_end", include_in_schema=False)
async def end(
    request: Request, outage_id: int = RowId, csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("outages")),
) -> Response:  # fmt: skip
    await check_csrf(request, user, csrf)
    try:
        await _service(request).end(outage_id)
    except LookupError:
        return render(
            request, "error.html", {"title": "Не найдено", "message": "Такого отключения нет."}, 404
        )
    await audit(request.app.state.db, user.principal.actor, "outage.end", outage_id, {}, _addr(request))
    return RedirectResponse(f"/outages/{outage_id}", status_code=303)


@router.get("/house-chats", name="ui_house_chats", response_class=HTMLResponse, include_in_schema=False)
async def house_chats_page(
    request: Request,
    user: WebUser = Depends(area("house_chats")),
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    chats = await HouseChats(request.app.state.db).list()
    return render(request, "house_chats.html", {"chats": chats, "error": error}, status)


@router.post("/house-chats", name="ui_house_chat_add", include_in_schema=False)
async def add_chat(
    request: Request,
    street: str = Form("", max_length=200),
    house: str = Form("", max_length=16),
    chat_id: str = Form("", max_length=24),
    title: str = Form("", max_length=200),
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("house_chats_edit")),
) -> Response:
    await check_csrf(request, user, csrf)
    if not chat_id.strip().lstrip("-").isdigit():
        return await house_chats_page(request, user, f"«{chat_id}» — не номер чата MAX (нужны цифры).", 422)
    try:
        chat = await HouseChats(request.app.state.db).add(street, house, int(chat_id), title)
    except OutageError as exc:
        return await house_chats_page(request, user, _russian(str(exc)), 422)
    await audit(request.app.state.db, user.principal.actor, "house_chat.add", chat.id, {}, _addr(request))
    return RedirectResponse("/house-chats", status_code=303)


@router.post("/house-chats/{chat_row_id}/delete", name="ui_house_chat_delete", include_in_schema=False)
async def delete_chat(
    request: Request, chat_row_id: int = RowId, csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("house_chats_edit")),
) -> Response:  # fmt: skip
    await check_csrf(request, user, csrf)
    await HouseChats(request.app.state.db).remove(chat_row_id)
    await audit(
        request.app.state.db, user.principal.actor, "house_chat.delete", chat_row_id, {}, _addr(request)
    )
    return RedirectResponse("/house-chats", status_code=303)


RUSSIAN = {
    "the text residents hear is empty": "Напишите текст для жителей.",
    "name at least one building: a street and, for one house, its number": "Укажите хотя бы один дом: улицу и номер дома.",
    "'until' must be later than the start": "Время окончания должно быть позже начала.",
    "a house chat needs a street and a house number": "Для домового чата нужны улица и номер дома.",
}


def _russian(message: str) -> str:
    parts = [RUSSIAN.get(p.strip(), p.strip()) for p in message.split(";")]
    text = " ".join(parts)
    if "already mapped" in text:
        return "Этот чат уже привязан к дому."
    if "has ended" in text:
        return "Отключение уже завершено — объявите новое."
    return text
