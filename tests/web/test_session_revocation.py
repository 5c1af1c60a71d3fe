"""Stolen or kept cookies: after logout, after the key is revoked, or forged from an old session, the
cookie opens nothing, whoever replays it."""

from __future__ import annotations

import httpx

from tests.web.conftest import csrf_of, login
from voicebot.services.keys import create_key, revoke_key
from voicebot.web import session as cookies


async def _replay(web_app, cookie: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        other.cookies.set(cookies.COOKIE, cookie)
        return await other.get("/calls", headers={"Accept": "application/json"})


async def test_a_cookie_kept_after_logout_is_dead(client, keys, web_app):
    await login(client, keys["supervisor"])
    stolen = client.cookies[cookies.COOKIE]
    assert (await _replay(web_app, stolen)).status_code == 200  # a working copy before logout
    page = await client.get("/calls")
    out = await client.post("/logout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303
    assert (await _replay(web_app, stolen)).status_code == 401


async def test_revoking_the_key_ends_its_sessions_and_only_its(client, db, web_app, keys):
    doomed = await create_key(db, "supervisor", "уходит")
    await login(client, doomed.key)
    stolen = client.cookies[cookies.COOKIE]
    client.cookies.clear()
    await login(client, keys["supervisor"])
    kept = client.cookies[cookies.COOKIE]
    await revoke_key(db, doomed.id)
    assert (await _replay(web_app, stolen)).status_code == 401
    assert (await _replay(web_app, kept)).status_code == 200


async def test_a_validly_signed_cookie_without_a_server_session_opens_nothing(client, keys, web_app, db):
    """Even with the signing secret (a leaked backup), a session must have been opened by a login."""
    await login(client, keys["admin"])
    secret = web_app.state.ui_secret
    forged = cookies.new_session(1, "подделка", "admin")
    assert (await _replay(web_app, cookies.encode(secret, forged))).status_code == 401
