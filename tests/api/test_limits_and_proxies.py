"""Key guessing and key flooding: X-Forwarded-For rotation, lock-outs of valid keys, per-key rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from tests.api.conftest import auth
from voicebot.api.app import create_app
from voicebot.runtime import http_config
from voicebot.security.networks import parse_networks
from voicebot.security.proxies import client_address


@pytest.fixture
async def served(api_settings, db) -> AsyncIterator[str]:
    """The API behind the very uvicorn configuration `voicebot serve` uses, on a free loopback port."""
    server = uvicorn.Server(http_config(create_app(api_settings, database=db), "127.0.0.1", 0))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_rotating_x_forwarded_for_does_not_reset_the_guess_limit(served, keys):
    wrong = keys["admin"][:-4] + "abcd"
    async with httpx.AsyncClient(base_url=served) as http:
        codes = [
            (
                await http.get("/api/v1/me", headers={**auth(wrong), "X-Forwarded-For": f"203.0.113.{i}"})
            ).status_code
            for i in range(12)
        ]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
        # the owner of a valid key on the same address is not locked out by the guesser
        assert (await http.get("/api/v1/me", headers=auth(keys["admin"]))).status_code == 200


async def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy():
    proxies = parse_networks("10.0.0.5/32")
    headers = {"x-forwarded-for": "198.51.100.7, 203.0.113.9"}
    assert client_address("127.0.0.1", headers, proxies) == "127.0.0.1"  # not a proxy: header ignored
    assert client_address("127.0.0.1", headers, []) == "127.0.0.1"
    assert client_address("10.0.0.5", headers, proxies) == "203.0.113.9"  # the hop the proxy saw
    assert client_address("10.0.0.5", {"x-forwarded-for": "junk"}, proxies) == "10.0.0.5"
    assert client_address("10.0.0.5", {}, proxies) == "10.0.0.5"


async def test_the_limiter_counts_each_client_behind_a_trusted_proxy(app, client, keys):
    app.state.trusted_proxies = parse_networks("127.0.0.1/32")  # ASGITransport's peer is 127.0.0.1
    wrong = keys["admin"][:-4] + "abcd"
    for _ in range(5):
        await client.get("/api/v1/me", headers={**auth(wrong), "X-Forwarded-For": "203.0.113.1"})
    bad = await client.get("/api/v1/me", headers={**auth(wrong), "X-Forwarded-For": "203.0.113.1"})
    other = await client.get("/api/v1/me", headers={**auth(wrong), "X-Forwarded-For": "203.0.113.2"})
    assert bad.status_code == 429 and other.status_code == 401


async def test_one_key_cannot_flood_the_api(app, client, keys):
    app.state.key_limiter.per_minute = 5
    codes = [(await client.get("/api/v1/me", headers=auth(keys["ops"]))).status_code for _ in range(7)]
    assert codes == [200] * 5 + [429, 429]
    flooded = await client.get("/api/v1/me", headers=auth(keys["ops"]))
    assert 1 <= int(flooded.headers["Retry-After"]) <= 60
    assert (
        await client.get("/api/v1/me", headers=auth(keys["staff"]))
    ).status_code == 200  # others unaffected
