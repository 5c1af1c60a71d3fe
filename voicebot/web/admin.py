"""Admin pages: API keys (create, revoke), the audit log, webhook deliveries and the SMS gateway."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voicebot.db.models import ROLES
from voicebot.services import admin_view, keys
from voicebot.services.audit import audit
from voicebot.services.clients import remote_address
from voicebot.services.errors import ServiceError
from voicebot.web.auth import WebUser, area, check_csrf
from voicebot.web.campaigns import RowId
from voicebot.web.errors import UiRoute
from voicebot.web.labels import AUDIT_ACTIONS
from voicebot.web.templating import render

router = APIRouter(route_class=UiRoute)
PAGE_SIZE = 50
TABS = {"keys": "Ключи доступа", "audit": "Журнал действий", "webhooks": "Вебхуки", "sms": "СМС"}


def _page(request: Request, name: str, context: dict) -> HTMLResponse:
    return render(request, f"admin_{name}.html", {"tab": name, "tabs": TABS, **context})


@router.get("/admin", name="ui_admin", include_in_schema=False)
async def admin_home(user: WebUser = Depends(area("admin"))) -> Response:
    return RedirectResponse("/admin/keys", status_code=303)


@router.get("/admin/keys", name="ui_admin_keys", response_class=HTMLResponse, include_in_schema=False)
async def keys_page(request: Request, user: WebUser = Depends(area("admin"))) -> HTMLResponse:
    rows = await keys.list_keys(request.app.state.db)
    return _page(request, "keys", {"keys": rows, "roles": ROLES, "new_key": None, "me": user.session.key_id})


@router.post("/admin/keys", name="ui_admin_key_create", response_class=HTMLResponse, include_in_schema=False)
async def create_key(
    request: Request,
    name: str = Form("", max_length=200),
    role: str = Form("", max_length=16),
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("admin")),
) -> HTMLResponse:
    await check_csrf(request, user, csrf)
    if role not in ROLES:
        raise ServiceError(422, "Выберите роль ключа.")
    if not name.strip():
        raise ServiceError(422, "Назовите ключ: кому он выдан или для какой системы.")
    db = request.app.state.db
    created = await keys.create_key(db, role, name.strip())
    async with db.transaction() as s:
        details = {"name": created.name, "role": role, "prefix": created.prefix}
        audit(s, f"web:{user.name}", "key.create", "api_key", created.id, details, remote_address(request))
    rows = await keys.list_keys(db)
    context = {"keys": rows, "roles": ROLES, "new_key": created, "me": user.session.key_id}
    return _page(request, "keys", context)


@router.post("/admin/keys/{key_id}/revoke", name="ui_admin_key_revoke", include_in_schema=False)
async def revoke_key(
    key_id: RowId,
    request: Request,
    csrf: str = Form("", max_length=128),
    user: WebUser = Depends(area("admin")),
) -> Response:
    await check_csrf(request, user, csrf)
    if key_id == user.session.key_id:
        raise ServiceError(409, "Нельзя отозвать ключ, которым вы сейчас вошли.")
    db = request.app.state.db
    if await keys.revoke_key(db, key_id):
        async with db.transaction() as s:
            audit(s, f"web:{user.name}", "key.revoke", "api_key", key_id, {}, remote_address(request))
    return RedirectResponse("/admin/keys", status_code=303)


@router.get("/admin/audit", name="ui_admin_audit", response_class=HTMLResponse, include_in_schema=False)
async def audit_page(
    request: Request,
    actor: str = Query("", max_length=100),
    action: str = Query("", max_length=64),
    page: int = Query(1, ge=1, le=100_000),
    user: WebUser = Depends(area("admin")),
) -> HTMLResponse:
    query = admin_view.AuditQuery(actor, action, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    rows, total = await admin_view.audit_page(request.app.state.db, query)
    kept = urlencode({k: v for k, v in {"actor": actor, "action": action}.items() if v})
    context = {
        "rows": rows,
        "total": total,
        "query": query,
        "actions": AUDIT_ACTIONS,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "kept": kept,
    }
    return _page(request, "audit", context)


@router.get("/admin/webhooks", name="ui_admin_webhooks", response_class=HTMLResponse, include_in_schema=False)
async def webhooks_page(request: Request, user: WebUser = Depends(area("admin"))) -> HTMLResponse:
    rows, counts = await admin_view.outbox(request.app.state.db, "webhook")
    settings = request.app.state.settings
    return _page(request, "outbox", {"kind": "webhook", "rows": rows, "counts": counts, "settings": settings})


@router.get("/admin/sms", name="ui_admin_sms", response_class=HTMLResponse, include_in_schema=False)
async def sms_page(request: Request, user: WebUser = Depends(area("admin"))) -> HTMLResponse:
    rows, counts = await admin_view.outbox(request.app.state.db, "sms")
    settings = request.app.state.settings
    return _page(request, "outbox", {"kind": "sms", "rows": rows, "counts": counts, "settings": settings})
