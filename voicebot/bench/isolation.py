"""`voicebot bench isolation`: does an API burst reach the callers? 20 emulated calls and, part-way
through, a 200-request burst from one staff key (10 of them exports of an 80 000-contact campaign).

The server is what `serve` runs in one process: the voice engine with its own pool and the journal, the
AudioSocket server, and the HTTP API under uvicorn on the same event loop. The legs and the burst run in
a child process (`voicebot.bench.isolation_peer`) that times every frame the callers receive.
Bars: frame lateness p99 ≤ 40 ms, no gap over 200 ms.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from voicebot.settings import Settings

BENCH_SCENARIO = "meter_readings"


async def _seed(db: Any, contacts: int) -> tuple[int, str]:
    from voicebot.campaigns.store import create_campaign
    from voicebot.demo import load_demo_data
    from voicebot.services.keys import create_key

    await load_demo_data(db)
    rows = ({"phone": f"+7916{i:07d}", "message": "Плановое отключение воды"} for i in range(contacts))
    report = await create_campaign(db, name="isolation", scenario="announcement", rows=rows)
    return report.campaign_id, (await create_key(db, "staff", "bench isolation")).key


async def _engine(settings: Settings, db: Any, records: Any) -> Any:
    from voicebot.bench.calls import model_path
    from voicebot.calls.service import create_voice_engine, warm_up

    path, grammar = model_path(settings, lambda _m: None)
    settings = settings.model_copy(update={"vosk_model_path": path, "max_dialogues": 40})
    engine = await create_voice_engine(settings, db, records=records)
    engine.use_grammar = grammar
    engine.inbound_scenario = BENCH_SCENARIO
    await warm_up(engine)
    return engine


async def _serve_http(settings: Settings, db: Any, engine: Any) -> tuple[uvicorn.Server, asyncio.Task, int]:
    from voicebot.api.app import create_app

    config = uvicorn.Config(create_app(settings, database=db, voice_engine=engine), host="127.0.0.1", port=0,
                            log_config=None, access_log=False, lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    for _ in range(600):  # uvicorn sets `started` once it listens
        if server.started:
            break
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, task, port


async def bench_isolation(
    settings: Settings, url: str, options: dict[str, Any], say: Callable[[str], None]
) -> dict[str, Any]:
    from voicebot.asterisk.audiosocket import AudioSocketServer
    from voicebot.bench.calls import caller_speech
    from voicebot.calls.records import CallRecords
    from voicebot.db.session import Database

    db = Database(url, pool_size=settings.db_pool_size)
    tmp = Path(tempfile.mkdtemp(prefix="voicebot-isolation-"))
    records = await CallRecords.open(url, tmp / "journal.sqlite3", pool_size=settings.voice_db_pool_size,
                                     read_timeout=settings.db_read_timeout)  # fmt: skip
    try:
        say(f"seeding {options['contacts']} contacts…")
        campaign, key = await _seed(db, options["contacts"])
        engine = await _engine(settings.model_copy(update={"data_dir": tmp}), db, records)
        audio = AudioSocketServer(engine.handle_audiosocket, "127.0.0.1", 0, unknown_uuid="inbound")
        await audio.start()
        http, http_task, http_port = await _serve_http(settings, db, engine)
        speech = await caller_speech(settings)
        say(f"{options['calls']} calls for {options['duration']:.0f} s; burst of {options['burst']} at "
            f"{options['burst_at']:.0f} s…")  # fmt: skip
        try:
            return await _run_peer(audio.bound_port, http_port, key, campaign, speech, options)
        finally:
            http.should_exit = True
            await http_task
            await audio.stop()
    finally:
        await records.close()
        await db.close()


async def _run_peer(
    audio_port: int, http_port: int, key: str, campaign: int, speech: Path, options: dict[str, Any]
) -> dict[str, Any]:
    from voicebot.bench.calls import child_json

    return await child_json(
        "voicebot.bench.isolation_peer", "--audio-port", str(audio_port),
        "--http-port", str(http_port), "--key", key, "--campaign", str(campaign),
        "--calls", str(options["calls"]), "--duration", str(options["duration"]),
        "--burst", str(options["burst"]), "--exports", str(options["exports"]),
        "--burst-at", str(options["burst_at"]), "--speech", str(speech),
    )  # fmt: skip


def report(result: dict[str, Any]) -> list[str]:
    a, b, burst = result["all"], result["during_burst"], result["burst"]
    ok = (a["lateness_p99_ms"] or 0) <= 40 and a["max_gap_ms"] <= 200
    return [
        f"calls: {result['calls']} ({result['calls_failed']} failed)",
        f"frame lateness (all {a['frames']} frames): p50 {a['lateness_p50_ms']} ms, p99 {a['lateness_p99_ms']} ms, "
        f"max {a['lateness_max_ms']} ms; longest gap {a['max_gap_ms']} ms; calls with gaps > 200 ms: "
        f"{a['calls_with_gaps']}",
        f"during the burst ({b['frames']} frames): p99 {b['lateness_p99_ms']} ms, max {b['lateness_max_ms']} ms, "
        f"calls with gaps: {b['calls_with_gaps']}",
        f"burst: {burst['statuses']} in {burst['burst_seconds']} s; exports served {burst['exports_served']} "
        f"({burst['export_mb']} MB each); slowest answer {burst['slowest_s']} s",
        f"bars (p99 ≤ 40 ms, no gap > 200 ms): {'met' if ok else 'NOT met'}",
    ]


async def run_on_scratch(
    admin_url: str, settings: Settings, options: dict[str, Any], say: Callable[[str], None]
) -> dict[str, Any]:
    """In a throw-away database on the server at `admin_url` (migrated, dropped afterwards)."""
    from voicebot.bench.scratch import scratch_url

    async with scratch_url(admin_url) as url:
        return await bench_isolation(settings, url, options, say)


def isolation_main(
    settings: Settings, database_url: str | None, options: dict[str, Any], say: Callable[[str], None]
) -> dict[str, Any]:
    """Run the benchmark in a scratch database on `database_url`'s server (else an embedded one)."""
    from voicebot.bench.scratch import admin_server

    with admin_server(database_url) as admin_url:
        return asyncio.run(run_on_scratch(admin_url, settings, options, say))
