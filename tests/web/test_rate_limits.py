"""A signed-in user cannot flood the UI: VOICEBOT_WEB_RATE_PER_MINUTE per user (their key, all sessions),
then a Russian 429 page with Retry-After; other users are untouched."""

from __future__ import annotations

import httpx

from tests.web.conftest import login
from voicebot.security.ratelimit import FailureLimiter, KeyRateLimiter


async def test_one_user_over_the_rate_gets_a_russian_429_others_do_not(web_app, client, keys):
    before = web_app.state.web_limiter
    web_app.state.web_limiter = KeyRateLimiter(5)
    try:
        await login(client, keys["admin"])  # the redirect target is not followed: no request counted
        for _ in range(5):
            assert (await client.get("/dashboard")).status_code == 200
        flooded = await client.get("/dashboard")
        assert flooded.status_code == 429 and "Слишком много запросов" in flooded.text
        assert 1 <= int(flooded.headers["retry-after"]) <= 60
        script = await client.get("/live.json")  # the UI's scripts get JSON in kind
        assert script.status_code == 429 and script.json()["error"]["status"] == 429
        # a second session of the same user shares the budget: no new allowance by logging in again
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web_app), base_url="http://testserver"
        ) as second:
            await login(second, keys["admin"])
            assert (await second.get("/dashboard")).status_code == 429
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web_app), base_url="http://testserver"
        ) as other:
            await login(other, keys["ops"])
            assert (await other.get("/dashboard")).status_code == 200
    finally:
        web_app.state.web_limiter = before


async def test_login_guessing_is_limited_per_client_address_whatever_it_claims(web_app, keys):
    before = web_app.state.auth_limiter
    web_app.state.auth_limiter = FailureLimiter(3, 60)
    try:
        transport = httpx.ASGITransport(app=web_app, client=("203.0.113.50", 4444))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as guesser:
            statuses = []
            for attempt in range(6):  # rotating X-Forwarded-For from an untrusted peer changes nothing
                guesser.headers["X-Forwarded-For"] = f"198.51.100.{attempt}"
                statuses.append((await login(guesser, f"vb_000000000000_guess{attempt}")).status_code)
            assert statuses[:3] == [401, 401, 401] and set(statuses[3:]) == {429}
            refused = await login(guesser, "vb_000000000000_another")
            assert "Слишком много неудачных попыток входа" in refused.text
            assert (await login(guesser, keys["staff"])).status_code == 303  # the owner is never locked out
    finally:
        web_app.state.auth_limiter = before
