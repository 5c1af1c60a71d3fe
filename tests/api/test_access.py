"""Every endpoint × every role (and no key, a wrong key, a revoked key), generated from the route table."""

from __future__ import annotations

import logging
import re

import pytest

from tests.api.conftest import auth
from voicebot.api.access import ACCESS, FailureLimiter, allowed
from voicebot.api.app import api_routes
from voicebot.db.models import ROLES
from voicebot.services.keys import create_key, revoke_key

ROUTES = api_routes()
PATH_VALUES = {
    "campaign_id": "1",
    "call_id": "00000000-0000-4000-8000-000000000001",
    "number": "24001",
    "simulation_id": "nope",
    "event_id": "1",
    "outage_id": "1",
    "chat_row_id": "1",
    "slot_id": "1",
    "appointment_id": "1",
}


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


def test_route_table_and_access_table_agree():
    names = {name for _, _, name in ROUTES}
    assert names == set(ACCESS), "every route needs a row in ACCESS and every row a route"
    assert len(ROUTES) >= 30


async def _call(client, method: str, path: str, headers: dict[str, str]):
    return await client.request(method, _url(path), headers=headers, json={} if method != "GET" else None)


async def test_role_matrix(app, client, keys, db):
    app.state.auth_limiter = FailureLimiter(max_failures=10_000, window_seconds=60)
    revoked = await create_key(db, "admin", "revoked admin")
    await revoke_key(db, revoked.id)
    failures = []
    for method, path, name in ROUTES:
        response = await _call(client, method, path, {})
        if response.status_code != 401:
            failures.append((method, path, "no key", response.status_code))
        for role in ROLES:
            response = await _call(client, method, path, auth(keys[role]))
            expected_denied = not allowed(name, role)
            denied = response.status_code == 403
            if denied != expected_denied or response.status_code in (401, 500):
                failures.append((method, path, role, response.status_code))
            if denied and method != "HEAD":  # HEAD answers carry no body
                assert response.json()["error"]["code"] == "forbidden"
    for method, path, _name in ROUTES:
        response = await _call(client, method, path, auth(revoked.key))
        if response.status_code != 401:
            failures.append((method, path, "revoked", response.status_code))
    assert failures == []


async def test_admin_may_do_everything_and_each_role_something(keys):
    for _method, _path, name in ROUTES:
        assert allowed(name, "admin")
    for role in ("staff", "ops", "supervisor"):
        assert any(allowed(name, role) for _, _, name in ROUTES if name != "whoami")
    assert allowed("get_recording", "supervisor") and not allowed("get_recording", "staff")
    assert allowed("analytics_summary", "ops") and not allowed("analytics_summary", "staff")
    assert allowed("create_campaign", "staff") and not allowed("create_campaign", "ops")


async def test_both_headers_work_and_bad_schemes_do_not(client, keys):
    assert (await client.get("/api/v1/me", headers={"X-API-Key": keys["ops"]})).json()["role"] == "ops"
    assert (await client.get("/api/v1/me", headers=auth(keys["ops"]))).status_code == 200
    response = await client.get("/api/v1/me", headers={"Authorization": f"Basic {keys['ops']}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_repeated_failures_are_rate_limited_and_keys_never_logged(client, keys, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = keys["admin"][:-4] + "abcd"
    for _ in range(5):
        assert (await client.get("/api/v1/me", headers=auth(wrong))).status_code == 401
    blocked = await client.get("/api/v1/me", headers=auth(wrong))
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["error"]["code"] == "too_many_requests"
    secret_parts = [k.split("_")[2] for k in keys.values()]
    assert not any(part in caplog.text for part in secret_parts)


def test_failure_limiter_window_and_expiry():
    limiter = FailureLimiter(max_failures=3, window_seconds=10)
    limiter.fail("a", now=0)
    limiter.fail("a", now=1)
    limiter.fail("a", now=20)  # the first two left the window
    assert limiter.retry_after("a", now=20) == 0
    limiter.fail("a", now=21)
    limiter.fail("a", now=22)
    assert limiter.retry_after("a", now=22) == 10
    assert limiter.retry_after("b", now=22) == 0
    assert limiter.retry_after("a", now=33) == 0


@pytest.mark.parametrize("key", ["", "vb_", "vb__x", "nonsense", "vb_abc_def_ghi", "vb_" + "x" * 5000])
async def test_malformed_keys_are_401_not_500(client, key):
    response = await client.get("/api/v1/me", headers={"X-API-Key": key} if key else {})
    assert response.status_code == 401
