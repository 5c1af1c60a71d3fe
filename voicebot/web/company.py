"""The company card in the UI: admins keep address, contacts, office hours and the numbers in one place."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voicebot.db.company import Card, load_card, save_card
from voicebot.services.outage_views import audit
from voicebot.web.auth import WebUser, area, check_csrf
from voicebot.web.errors import UiRoute
from voicebot.web.templating import render

router = APIRouter(route_class=UiRoute)


@router.get("/company", name="ui_company", response_class=HTMLResponse, include_in_schema=False)
async def company_page(request: Request, user: WebUser = Depends(area("company"))) -> HTMLResponse:
    saved = request.query_params.get("saved") == "1"
    return render(request, "company.html", {"card": await load_card(request.app.state.db), "saved": saved})


@router.post("/company", name="ui_company_save", include_in_schema=False)
async def save(
    request: Request,
    address: str = Form("", max_length=300),
    phone: str = Form("", max_length=32),
    email: str = Form("", max_length=200),
    office_hours: str = Form("", max_length=300),
    dispatcher_phone: str = Form("", max_length=32),
    emergency_phone: str = Form("", max_length=32),
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("company")),
) -> Response:
    await check_csrf(request, user, csrf)
    card = Card(address, phone, email, office_hours, dispatcher_phone, emergency_phone)
    await save_card(request.app.state.db, card)
    addr = request.client.host if request.client else ""
    await audit(request.app.state.db, user.principal.actor, "company_card.save", 1, {}, addr)
    return RedirectResponse("/company?saved=1", status_code=303)
