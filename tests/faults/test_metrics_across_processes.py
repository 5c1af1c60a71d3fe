"""The /metrics bar against a real `voicebot serve` (voice and HTTP in two processes): scraped from the HTTP
process during an emulated call and a database block, it shows the voice process's call in progress, its
frame lateness and its journal backlog move, and /healthz says the voice side is degraded, not down."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.emulators.agi_client import AGIClientEmulator
from tests.emulators.audiosocket_peer import AudioSocketPeer
from tests.faults.test_kill_serve import CALLER, Serve, _wait

pytestmark = [pytest.mark.faults, pytest.mark.slow]


async def _voice_samples(port: int) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.labels.get("process") != "voice":
                continue
            labels = "".join(f"[{k}={v}]" for k, v in sorted(s.labels.items()) if k != "process")
            found[s.name + labels] = found.get(s.name + labels, 0.0) + s.value
    return found


def _calls_in_progress(samples: dict[str, float]) -> float:
    return sum(v for k, v in samples.items() if k.startswith("voicebot_calls_in_progress[channel=voice]"))


async def test_metrics_of_the_voice_process_move_during_a_call_and_an_outage(
    db, pg_proxy, proxied_url, tmp_path
):
    serve = Serve(proxied_url, tmp_path / "var")
    await serve.start()
    try:
        before = await _voice_samples(serve.http)
        agi = AGIClientEmulator("127.0.0.1", serve.agi, callerid=CALLER, args=("74951234567",))
        await agi.run()
        call_id = uuid.UUID(agi.variables["VOICEBOT_UUID"])
        peer = await AudioSocketPeer("127.0.0.1", serve.audio, call_uuid=call_id).connect()
        peer.start_stream(bytes(320 * 50 * 60))

        lateness = "voicebot_audio_frame_lateness_seconds_count"

        async def call_seen() -> bool:
            samples = await _voice_samples(serve.http)
            return _calls_in_progress(samples) >= 1 and samples.get(lateness, 0) > before.get(lateness, 0)

        assert await _wait(call_seen, 60), "the call and its frames never showed on /metrics"

        await pg_proxy.cut("refuse")  # the caller stays silent: re-prompts write turns to the journal only

        async def backlog() -> bool:
            return (await _voice_samples(serve.http)).get("voicebot_journal_backlog", 0) > 0

        assert await _wait(backlog, 60), "the journal backlog never showed on /metrics"
        async with httpx.AsyncClient(timeout=10) as http:
            health = (await http.get(f"http://127.0.0.1:{serve.http}/healthz")).json()
        assert health["voice"]["ok"] is True and health["voice"]["status"] == "degraded"
        assert health["voice"]["journal"]["database_reachable"] is False

        pg_proxy.restore()

        async def drained() -> bool:
            return (await _voice_samples(serve.http)).get("voicebot_journal_backlog", 1) == 0

        await peer.hang_up()
        assert await _wait(drained, 60), "the journal never drained on /metrics"
        await asyncio.sleep(0)
    finally:
        serve.stop()
