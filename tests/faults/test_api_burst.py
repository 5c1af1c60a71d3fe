"""An API burst is bounded: what the API cannot take now is refused at once (503 + Retry-After), never
queued behind the database pool; health and metrics still answer; the voice path's pool stays free."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.api.conftest import auth
from voicebot.api.app import create_app
from voicebot.campaigns.store import create_campaign
from voicebot.services.keys import create_key
from voicebot.settings import Settings

pytestmark = pytest.mark.faults


@pytest.fixture
def burst_app(tmp_path, db):
    settings = Settings(data_dir=tmp_path, api_max_concurrent=4, api_max_concurrent_exports=1)
    return create_app(settings, database=db)


async def test_a_burst_gets_answers_or_quick_refusals_never_errors(burst_app, db):
    keys = {"staff": (await create_key(db, "staff", "burst")).key}
    rows = [{"phone": f"+7916300{i:04d}", "message": "Отключение воды"} for i in range(300)]
    report = await create_campaign(db, name="burst", scenario="announcement", rows=rows)
    staff = auth(keys["staff"])
    transport = httpx.ASGITransport(app=burst_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as http:
        exports = [http.get(f"/api/v1/campaigns/{report.campaign_id}/results?format=csv", headers=staff)
                   for _ in range(10)]  # fmt: skip
        reads = [http.get("/api/v1/campaigns", headers=staff) for _ in range(90)]
        health = [http.get("/healthz") for _ in range(5)] + [http.get("/metrics") for _ in range(5)]
        answers = await asyncio.gather(*exports, *reads, *health)

    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {200, 503}, statuses  # nothing failed: served or told to come back
    refused = [r for r in answers if r.status_code == 503]
    assert refused and all(r.headers["retry-after"] == "1" for r in refused)
    assert all(r.json()["error"]["code"] == "busy" for r in refused)
    served_exports = [r for r in answers[:10] if r.status_code == 200]
    assert served_exports and all(
        r.text.count("\n") == 301 for r in served_exports
    )  # whole file, header + 300
    assert all(r.status_code == 200 for r in answers[100:])  # health and metrics are never refused
    assert "voicebot_http_rejected_total" in answers[-1].text
