"""Attacks on the UI's forms and login: cross-site form posts, open redirects after login, a planted
session cookie."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select

from tests.web.conftest import csrf_of, login
from tests.web.test_role_matrix import PATH_VALUES, ui_routes
from voicebot.db.models import ApiKey
from voicebot.web import session as cookies


async def test_every_ui_form_refuses_a_post_without_the_sessions_token(web_app, client, keys, db):
    await login(client, keys["admin"])  # may do everything: only the token can stop it
    async with db.session() as s:
        keys_before = await s.scalar(select(func.count()).select_from(ApiKey))
    posts = [(path, name) for method, path, name, _ in ui_routes(web_app) if method == "POST"]
    assert len(posts) >= 20
    failures = []
    for path, name in posts:
        if name in ("ui_login_submit",):
            continue  # its own token (login_token cookie), checked below
        url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PATH_VALUES[m.group(1)].replace("{call}", "1"), path)
        for token in (None, "forged-token"):  # what a foreign page can send: no token or a guess
            data = {"name": "x", "role": "admin", "csrf": token} if token else {"name": "x", "role": "admin"}
            response = await client.post(url, data=data, headers={"Origin": "https://evil.example"})
            if (
                response.status_code not in (403, 422)  # 422: the form itself was refused, nothing done
            ):
                failures.append((path, token, response.status_code))
    assert failures == []
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(ApiKey)) == keys_before  # no key minted
    assert (await client.get("/admin")).status_code in (200, 303)  # still signed in: logout refused too


async def test_login_without_its_form_token_is_refused(client, keys):
    response = await client.post("/login", data={"key": keys["admin"], "login_token": "guess", "next": "/"})
    assert response.status_code == 400 and cookies.COOKIE not in response.cookies


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "/\\evil.example", "/\\/evil.example", "/\t/evil.example", "/%09/evil.example".replace("%09", "\t"),
     "https://evil.example", "\\\\evil.example", "/ /evil.example", "/login?next=//evil.example", "javascript:alert(1)"],
)  # fmt: skip
async def test_no_open_redirect_after_login(client, keys, target):
    form = await client.get("/login", params={"next": target})
    shown = re.search(r'name="next" value="([^"]*)"', form.text).group(1)
    assert shown == "/"
    token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
    response = await client.post("/login", data={"key": keys["admin"], "login_token": token, "next": target})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and location[1:2] not in ("/", "\\") and "evil" not in location


async def test_a_planted_session_cookie_is_not_adopted(web_app, client, keys):
    await login(client, keys["ops"])
    planted = client.cookies[cookies.COOKIE]  # the attacker's own valid session, planted in the victim
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as victim:
        victim.cookies.set(cookies.COOKIE, planted)
        signed_in = await login(victim, keys["supervisor"])
        fresh = signed_in.cookies.get(cookies.COOKIE)
        assert fresh and fresh != planted  # a new session, minted at login
        page = await victim.get("/calls")
        assert page.status_code == 200 and "тест supervisor" in page.text
        assert csrf_of(page.text) != csrf_of((await client.get("/dashboard")).text)


async def test_session_cookie_is_secure_behind_a_tls_proxy_and_not_fooled_by_others(web_app, keys):
    from voicebot.security.networks import parse_networks

    before = web_app.state.trusted_proxies
    web_app.state.trusted_proxies = parse_networks("127.0.0.1/32")
    try:
        for peer, secure in (("127.0.0.1", True), ("203.0.113.9", False)):  # the proxy; anyone else
            transport = httpx.ASGITransport(app=web_app, client=(peer, 4444))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", headers={"X-Forwarded-Proto": "https"}
            ) as http:
                form = await http.get(
                    "/login"
                )  # its cookie is Secure too: hand it over as a browser on TLS would
                token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
                response = await http.post(
                    "/login",
                    data={"key": keys["staff"], "login_token": token, "next": "/"},
                    headers={"Cookie": f"{cookies.LOGIN_COOKIE}={token}"},
                )
                assert response.status_code == 303
                (cookie,) = [
                    c for c in response.headers.get_list("set-cookie") if c.startswith(cookies.COOKIE + "=")
                ]
                assert ("Secure" in cookie) == secure, peer
    finally:
        web_app.state.trusted_proxies = before
