"""/healthz reports each dependency; /metrics speaks Prometheus text and is not public."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from voicebot.api.app import create_app
from voicebot.health import Probe
from voicebot.metrics import ADMISSION_REFUSALS


def _samples(text: str) -> dict[str, float]:
    return {
        f"{s.name}{sorted(s.labels.items())}": s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_healthz_reports_each_dependency(client, app):
    async def ami_down() -> Probe:
        return Probe(False, {"error": "connection refused"})

    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"]["ok"] is True

    app.state.health.register("ami", ami_down)
    body = (await client.get("/healthz")).json()
    assert body["status"] == "degraded"
    assert body["ami"] == {
        "ok": False,
        "error": "connection refused",
        "latency_ms": body["ami"]["latency_ms"],
    }
    assert body["database"]["ok"] is True


async def test_healthz_answers_quickly_when_a_probe_hangs(client, app):
    import asyncio

    async def hung() -> Probe:
        await asyncio.sleep(3600)
        return Probe(True)

    app.state.health.timeout = 0.2
    app.state.health.register("journal", hung, critical=True)
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert "no answer within" in response.json()["journal"]["error"]


async def test_metrics_are_prometheus_text_readable_from_loopback(client):
    before = ADMISSION_REFUSALS.labels("full")._value.get()
    ADMISSION_REFUSALS.labels("full").inc()
    response = await client.get("/metrics")  # ASGITransport's client address is 127.0.0.1
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert samples["voicebot_admission_refusals_total[('reason', 'full')]"] == before + 1
    assert "voicebot_audio_frame_lateness_seconds_count[]" in samples


async def test_metrics_refused_to_remote_clients_without_the_token(api_settings, db):
    app = create_app(api_settings, database=db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as remote:
        assert (await remote.get("/metrics")).status_code == 403
        assert (await remote.get("/healthz")).status_code == 200


async def test_metrics_token_admits_remote_scrapers(api_settings, db):
    app = create_app(api_settings.model_copy(update={"metrics_token": "scrape-secret"}), database=db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as remote:
        assert (await remote.get("/metrics")).status_code == 403
        wrong = await remote.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        ok = await remote.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert ok.status_code == 200 and "voicebot_calls_in_progress" in ok.text


async def test_open_obligations_and_their_age_reach_metrics(client, db):
    from datetime import UTC, datetime, timedelta

    from voicebot.db.models import Callback
    from voicebot.services.live import publish_obligations

    now = datetime.now(UTC)
    async with db.transaction() as session:
        session.add(Callback(phone="+79160001122", reason="missed", missed_at=now - timedelta(minutes=10),
                             due_at=now, status="pending"))  # fmt: skip
    await publish_obligations(db, now)
    samples = _samples((await client.get("/metrics")).text)
    assert samples["voicebot_open_obligations[('kind', 'callbacks')]"] >= 1
    assert samples["voicebot_open_obligation_oldest_age_seconds[('kind', 'callbacks')]"] >= 599
