"""Every UI page and form × every role, generated from the route table, like the API's matrix.

A UI area's roles are the roles of the API operation showing the same data (security/roles.py), so the
`ops` role (analytics only in the API) opens no call list, call page, queue, live view or call card.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute

from tests.web.conftest import csrf_of, login
from tests.web.seed import seed
from voicebot.db.models import ROLES
from voicebot.security.roles import ACCESS, UI_AREA_OPERATION, UI_AREAS, ui_allowed
from voicebot.web.errors import UiRoute

PUBLIC = {"ui_home", "ui_login", "ui_login_submit", "ui_logout"}  # need only a session, or nothing
PATH_VALUES = {
    "call_id": "{call}",
    "campaign_id": "1",
    "ids": "1",
    "scenario": "announcement",
    "fmt": "csv",
    "action": "pause",
    "ticket_id": "1",
    "message_id": "1",
    "step": "done",
    "callback_id": "1",
    "outage_id": "1",
    "chat_row_id": "1",
    "appointment_id": "1",
    "slot_id": "1",
    "simulation_id": "nope",
    "key_id": "999999",
}
DENIED_TEXT = "У вашей роли нет доступа"


def _area(route: APIRoute) -> str | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        if getattr(dependency.call, "area", None):
            return dependency.call.area
        stack.extend(dependency.dependencies)
    return None


def _walk(routes):
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router (no prefixes in the UI)
            yield from _walk(route.original_router.routes)


def ui_routes(app) -> list[tuple[str, str, str, str | None]]:
    rows = []
    for route in _walk(app.routes):
        if isinstance(route, UiRoute):
            for method in sorted(route.methods - {"HEAD"}) or ["HEAD"]:
                rows.append((method, route.path, route.name, _area(route)))
    return rows


def test_every_ui_route_has_an_area_and_every_area_follows_the_api(web_app):
    routes = ui_routes(web_app)
    assert len(routes) >= 50
    unguarded = [(m, p) for m, p, name, area in routes if area is None and name not in PUBLIC]
    assert unguarded == []
    for area, operation in UI_AREA_OPERATION.items():
        assert UI_AREAS[area] == ACCESS[operation]
    # the gap that was: ops sees analytics, never a resident's call
    for area in ("calls", "listen", "queues", "operator", "campaigns", "admin", "house_chats_edit"):
        assert not ui_allowed(area, "ops"), area
    assert ui_allowed("dashboard", "ops") and not ui_allowed("dashboard", "supervisor")


async def test_every_ui_page_and_form_for_every_role(web_app, db, keys, web_settings):
    seeded = await seed(db, web_settings.recordings_dir)
    values = {k: v.replace("{call}", str(seeded.recorded_call)) for k, v in PATH_VALUES.items()}
    web_app.state.key_limiter.per_minute = 0
    failures = []
    for role in ROLES:
        transport = httpx.ASGITransport(app=web_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await login(client, keys[role])
            home = await client.get("/", follow_redirects=True)
            token = csrf_of(home.text)
            for method, path, _name, area in ui_routes(web_app):
                if area is None:
                    continue
                url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], path)
                allowed = ui_allowed(area, role)
                if allowed and path.endswith("/stream"):
                    continue  # an endless event stream; its refusals are checked below
                response = await client.request(
                    method,
                    url,
                    data={"csrf": token} if method == "POST" else None,
                    headers={"X-CSRF-Token": token, "Origin": "http://testserver"},
                )
                denied = response.status_code == 403 and DENIED_TEXT in response.text
                if denied == allowed or response.status_code in (401, 500):
                    failures.append((role, method, path, area, response.status_code))
    assert failures == []


@pytest.mark.parametrize("path", ["/calls", "/calls/{call}", "/queues", "/live", "/live.json", "/operator"])
async def test_ops_opens_no_resident_data(client, keys, db, web_settings, path):
    seeded = await seed(db, web_settings.recordings_dir)
    await login(client, keys["ops"])
    response = await client.get(path.replace("{call}", str(seeded.recorded_call)))
    assert response.status_code == 403
    assert "+7916" not in response.text and "Гагарина" not in response.text
