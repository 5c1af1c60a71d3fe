"""`voicebot bench isolation`: does an API burst reach the callers? 20 emulated calls and, part-way
through, a 200-request burst from one staff key (10 of them exports of an 80 000-contact campaign).

The server is the real `voicebot serve` as a subprocess on a scratch database: by default its two
processes (voice, HTTP), or `--single-process` for the one-process layout it replaced, to compare. Calls
arrive on AudioSocket with UUIDs nobody announced (`VOICEBOT_AUDIOSOCKET_UNKNOWN_UUID=inbound`: the
inbound scenario, no Asterisk needed). The legs and the burst run in a child process
(`voicebot.bench.isolation_peer`) that times every frame the callers receive.
Bars: frame lateness p99 ≤ 40 ms, no gap over 200 ms, and every call served (no failed call, audio
for the whole call).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from voicebot.settings import Settings

P99_BAR_MS = 40.0
GAP_BAR_MS = 200.0
MIN_COVERAGE = 0.95


async def _seed(url: str, contacts: int) -> tuple[int, str]:
    from voicebot.campaigns.store import create_campaign
    from voicebot.db.session import Database
    from voicebot.demo import load_demo_data
    from voicebot.services.keys import create_key

    db = Database(url, pool_size=2)
    try:
        await load_demo_data(db)
        rows = ({"phone": f"+7916{i:07d}", "message": "Плановое отключение воды"} for i in range(contacts))
        report = await create_campaign(db, name="isolation", scenario="announcement", rows=rows)
        return report.campaign_id, (await create_key(db, "staff", "bench isolation")).key
    finally:
        await db.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_environment(settings: Settings, url: str, data_dir: Path, ports: dict[str, int]) -> dict[str, str]:
    from voicebot.bench.calls import model_path

    model, _grammar = model_path(settings, lambda _m: None)
    return {**os.environ, "DATABASE_URL": url, "VOICEBOT_DATA_DIR": str(data_dir),
            "VOICEBOT_HTTP_HOST": "127.0.0.1", "VOICEBOT_HTTP_PORT": str(ports["http"]),
            "VOICEBOT_AUDIOSOCKET_HOST": "127.0.0.1", "VOICEBOT_AUDIOSOCKET_PORT": str(ports["audio"]),
            "VOICEBOT_AUDIOSOCKET_UNKNOWN_UUID": "inbound", "VOICEBOT_FASTAGI_HOST": "127.0.0.1",
            "VOICEBOT_FASTAGI_PORT": str(ports["agi"]), "VOICEBOT_AMI_PORT": str(ports["ami"]),
            "VOICEBOT_DIALER_ENABLED": "false", "VOICEBOT_MAX_MODE": "off", "VOICEBOT_MAX_DIALOGUES": "40",
            "VOICEBOT_VOSK_MODEL_PATH": str(model), "VOICEBOT_DEV_MODE": "1", "VOICEBOT_LOG_LEVEL": "WARNING",
            "VOICEBOT_LOG_FORMAT": "text"}  # fmt: skip


async def _until_served(proc: asyncio.subprocess.Process, http_port: int, within: float = 180.0) -> None:
    """/healthz 200 (the voice process too), then the CPU settled: prompts synthesised, recognisers warm."""
    import psutil

    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=3) as http:
        while True:
            if proc.returncode is not None:
                raise RuntimeError(f"voicebot serve exited ({proc.returncode}) before it served")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"http://127.0.0.1:{http_port}/healthz")).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("voicebot serve did not answer /healthz")
            await asyncio.sleep(0.5)
    tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    for process in tree:
        process.cpu_percent()  # the first reading only starts the measurement
    while time.monotonic() < deadline:  # warm-up runs in the background after start-up
        await asyncio.sleep(1.0)
        if sum(p.cpu_percent() for p in tree if p.is_running()) < 15.0:
            return


async def bench_isolation(
    settings: Settings, url: str, options: dict[str, Any], say: Callable[[str], None]
) -> dict[str, Any]:
    from voicebot.bench.calls import caller_speech

    say(f"seeding {options['contacts']} contacts…")
    campaign, key = await _seed(url, options["contacts"])
    ports = {name: _free_port() for name in ("http", "audio", "agi", "ami")}
    with tempfile.TemporaryDirectory(prefix="voicebot-isolation-") as tmp:
        env = serve_environment(settings, url, Path(tmp), ports)
        layout = ["--single-process"] if options.get("single_process") else []
        say(f"starting voicebot serve {' '.join(layout) or '(voice and HTTP processes)'}…")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "voicebot", "serve", *layout, env=env
        )
        try:
            await _until_served(proc, ports["http"])
            speech = await caller_speech(settings)
            say(f"{options['calls']} calls for {options['duration']:.0f} s; burst of {options['burst']} at "
                f"{options['burst_at']:.0f} s…")  # fmt: skip
            result = await _run_peer(ports["audio"], ports["http"], key, campaign, speech, options)
            result["layout"] = "single process" if layout else "voice and HTTP processes"
            return result
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 60)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


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


def bars_met(result: dict[str, Any]) -> bool:
    """Met only when frames were measured at all, every call was served with audio for its whole length,
    and the lateness and gap bars hold."""
    a = result["all"]
    return (
        result["calls"] > 0
        and result["calls_failed"] == 0
        and a["frames"] > 0
        and a["coverage"] >= MIN_COVERAGE
        and a["lateness_p99_ms"] is not None
        and a["lateness_p99_ms"] <= P99_BAR_MS
        and a["max_gap_ms"] <= GAP_BAR_MS
        and a["calls_with_gaps"] == 0
    )


def report(result: dict[str, Any]) -> list[str]:
    a, b, burst = result["all"], result["during_burst"], result["burst"]
    lag = result["client_lag_ms"]
    return [
        f"server: voicebot serve, {result.get('layout', '?')}",
        f"calls: {result['calls']} ({result['calls_failed']} failed, {result['calls_ended_by_bot']} ended by the "
        f"bot); failures: {result['failures'] or 'none'}",
        f"frame lateness (all {a['frames']} frames): p50 {a['lateness_p50_ms']} ms, p99 {a['lateness_p99_ms']} ms, "
        f"max {a['lateness_max_ms']} ms; longest gap {a['max_gap_ms']} ms; calls with gaps > 200 ms (or failed): "
        f"{a['calls_with_gaps']}; frames received / due {a['coverage']}",
        f"during the burst ({b['frames']} frames): p99 {b['lateness_p99_ms']} ms, max {b['lateness_max_ms']} ms, "
        f"calls with gaps: {b['calls_with_gaps']}",
        f"burst: {burst['statuses']} in {burst['burst_seconds']} s; exports served {burst['exports_served']} "
        f"({burst['export_mb']} MB each); slowest answer {burst['slowest_s']} s",
        f"client timer lag (its own CPU starvation): p99 {lag['p99']} ms, max {lag['max']} ms",
        f"bars (p99 ≤ 40 ms, no gap > 200 ms, every call served): {'met' if bars_met(result) else 'NOT met'}",
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
