"""The voice link between `serve`'s two processes, over a real loopback socket: the HTTP side sees the
voice side's state, metrics and call cards, and a voice process that is away is "unavailable"."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from voicebot import metrics
from voicebot.health import Health, Probe
from voicebot.services.callcard import CardHub
from voicebot.services.voicelink import UNREACHABLE, VoiceLink, VoiceSide, link_app

TOKEN = "link-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Admission:
    active, limit = 3, 40


class _Engine:
    admission = _Admission()
    recognizers = object()


@pytest.fixture
async def voice_side():
    """A voice process's link server on a free port (what `serve --no-http` runs)."""
    probes = Health()

    async def journal() -> Probe:
        return Probe(True, {"backlog": 7, "database_reachable": False})

    probes.register("journal", journal)
    side = VoiceSide(probes, CardHub(), voice=_Engine())
    port = _free_port()
    config = uvicorn.Config(
        link_app(side, TOKEN), host="127.0.0.1", port=port, log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    assert await _until(lambda: server.started)
    yield side, port
    server.should_exit = True
    await task


async def _until(predicate, within: float = 10.0) -> bool:  # noqa: ANN001
    for _ in range(int(within / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def test_state_cards_and_metrics_cross_the_link(voice_side):
    side, port = voice_side
    side.cards.publish({"call_id": "c-1", "target": "operator", "transfer": {"status": "offered"}})
    here = CardHub()
    link = VoiceLink(port, TOKEN, here)
    runner = asyncio.create_task(link.run(every=0.1))
    try:
        # the recent card arrives on connecting, a new one the moment it is published
        assert await _until(lambda: [c["call_id"] for c in here.recent] == ["c-1"])
        async with here.subscribe() as queue:
            side.cards.publish({"call_id": "c-2", "target": "dispatcher", "transfer": {"status": "offered"}})
            card = await asyncio.wait_for(queue.get(), 10)
        assert card["call_id"] == "c-2" and card["target"] == "dispatcher"

        probe = await link.probe()  # the voice side is degraded (journal holds records), not down
        assert probe.ok and probe.degraded is False and probe.detail["journal"]["backlog"] == 7
        assert link.systems()["lines"] == {"busy": 3, "limit": 40} and link.systems()["asr_ok"] is True
        assert link.telephony.problems == [] and link.telephony.ami.connected is False

        metrics.JOURNAL_BACKLOG.set(7)
        text = await link.metrics_text()
        assert text is not None
        merged = metrics.render_merged("http", {"voice": text}).decode()
        samples = {
            (s.name, s.labels.get("process")): s.value
            for family in text_string_to_metric_families(merged)
            for s in family.samples
        }
        assert samples[("voicebot_journal_backlog", "voice")] == 7
        assert ("voicebot_journal_backlog", "http") in samples
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await link.close()


async def test_the_link_wants_its_token(voice_side):
    _, port = voice_side
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        assert (await http.get("/state")).status_code == 403
        assert (await http.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code == 403
    wrong = VoiceLink(port, "nope", CardHub())
    try:
        assert (await wrong.probe()).ok is False
    finally:
        await wrong.close()


async def test_a_voice_process_that_is_away_makes_healthz_unavailable():
    link = VoiceLink(_free_port(), TOKEN, CardHub())
    health = Health()
    health.register("voice", link.probe, critical=True)
    try:
        status, report = await health.check()
        assert status == "unavailable" and report["voice"]["error"] == UNREACHABLE
        assert link.telephony.problems == [UNREACHABLE] and await link.metrics_text() is None
    finally:
        await link.close()
