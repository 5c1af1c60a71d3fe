"""`voicebot bench api`: the API's two bars, measured in a scratch database.

1. Campaign creation from a CSV of N contacts (default 100 000) through POST /api/v1/campaigns/csv.
2. GET /api/v1/analytics/summary over M call rows (default 1 000 000, generated with generate_series).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import typer

from voicebot.api.app import create_app
from voicebot.bench.scratch import admin_server, scratch_url
from voicebot.db.server import redact
from voicebot.db.session import Database
from voicebot.services.keys import create_key
from voicebot.settings import Settings

_GENERATE_CALLS = """
INSERT INTO calls (id, direction, channel, status, scenario, outcome, started_at, offered_at, answered_at, ended_at)
SELECT gen_random_uuid(), d.direction, 'voice', 'ended', d.scenario, d.outcome, d.started,
       CASE WHEN d.direction = 'inbound' THEN d.started END,
       CASE WHEN d.direction = 'inbound' AND i % 20 <> 0 THEN d.started + make_interval(secs => (i * 7) % 420) END,
       d.started + interval '2 minutes'
FROM generate_series(1, $1) AS i,
LATERAL (SELECT
    (ARRAY['meter_readings', 'debt_reminder', 'request_intake', 'nps_survey', 'visit_warning', 'announcement'])
        [1 + i % 6] AS scenario,
    CASE WHEN i % 6 IN (0, 2) THEN 'inbound' ELSE 'outbound' END AS direction,
    (ARRAY['readings_accepted', 'promise_to_pay', 'ticket_created', 'nps_collected', 'visit_confirmed',
           'announcement_heard', 'hangup', 'refused', 'transferred'])[1 + (i * 13) % 9] AS outcome,
    now() - make_interval(secs => (i * 2.591)::int % (30 * 86400)) AS started
) d
"""


def _contacts_csv(count: int) -> bytes:
    lines = ["phone,timezone,account,full_name,amount,period"]
    lines += [
        f"+7916{i:07d},Europe/Moscow,{10_000_000 + i},Иванов Иван Иванович,{(i % 9000) + 100}.50,октябрь"
        for i in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()


async def _generate_calls(url: str, count: int) -> float:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        started = time.perf_counter()
        await conn.execute(_GENERATE_CALLS, count)
        await conn.execute("VACUUM ANALYZE calls")  # index-only scans need the visibility map
        return time.perf_counter() - started
    finally:
        await conn.close()


async def _measure(url: str, calls: int, contacts: int, runs: int) -> dict[str, float]:
    db = Database(url, pool_size=8)
    results: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                data_dir=Path(tmp), api_max_upload_bytes=200_000_000, api_max_contacts=contacts
            )
            app = create_app(settings, database=db)
            key = (await create_key(db, "admin", "bench")).key
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client:
                headers = {"Authorization": f"Bearer {key}"}
                data = _contacts_csv(contacts)
                started = time.perf_counter()
                response = await client.post(
                    "/api/v1/campaigns/csv",
                    headers=headers,
                    files={"file": ("c.csv", data, "text/csv")},
                    data={"name": "bench", "scenario": "debt_reminder"},
                )
                results["campaign_csv_seconds"] = time.perf_counter() - started
                if response.status_code != 201 or response.json()["report"]["accepted"] != contacts:
                    raise RuntimeError(
                        f"campaign creation failed: {response.status_code} {response.text[:300]}"
                    )
                results["generate_calls_seconds"] = await _generate_calls(url, calls)
                timings = []
                for _ in range(runs):
                    started = time.perf_counter()
                    response = await client.get("/api/v1/analytics/summary", headers=headers)
                    timings.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200 or response.json()["calls"]["total"] != calls:
                        raise RuntimeError(f"summary failed: {response.status_code} {response.text[:300]}")
                results["summary_first_ms"] = timings[0]
                results["summary_median_ms"] = statistics.median(timings)
                results["summary_max_ms"] = max(timings)
    finally:
        await db.close()
    return results


async def _run(admin_url: str, calls: int, contacts: int, runs: int) -> dict[str, float]:
    async with scratch_url(admin_url) as url:
        return await _measure(url, calls, contacts, runs)


def api_command(
    calls: int = typer.Option(1_000_000, "--calls", help="Call rows to generate for the analytics summary"),
    contacts: int = typer.Option(100_000, "--contacts", help="Contacts in the CSV campaign"),
    runs: int = typer.Option(5, "--runs", help="Summary requests to time"),
    database_url: str = typer.Option(
        None, "--database-url", help="Server to create the scratch database on; default: an embedded one"
    ),
) -> None:
    """Campaign creation from CSV and the analytics summary over many calls; prints the timings."""
    with admin_server(database_url) as admin_url:
        typer.echo(f"server: {redact(admin_url)}; {contacts} contacts, {calls} calls")
        results = asyncio.run(_run(admin_url, calls, contacts, runs))
    typer.echo(f"campaign from CSV, {contacts} contacts: {results['campaign_csv_seconds']:.2f} s (bar: 30 s)")
    typer.echo(f"generating {calls} calls (+ VACUUM ANALYZE): {results['generate_calls_seconds']:.1f} s")
    typer.echo(
        f"analytics summary over {calls} calls: first {results['summary_first_ms']:.0f} ms, "
        f"median {results['summary_median_ms']:.0f} ms, max {results['summary_max_ms']:.0f} ms "
        f"of {runs} (bar: 500 ms)"
    )
