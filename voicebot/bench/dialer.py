"""`voicebot bench dialer`: a 100 000-contact campaign through the real dialer with an instant telephone.

Measures the time to create (validate + store) the contacts, the time to claim and place every call,
database statements per placed call (a SQLAlchemy cursor-execute listener on the dialer's engine; the
fake dialogue rows are written through a second engine and are not counted), and the process's memory.
The campaign, its contacts and its calls are deleted afterwards (use `--keep` to look at them). Run it
against a scratch database: it writes real rows while it runs.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psutil
from sqlalchemy import event, insert, text

from voicebot.asterisk.ami_originate import OriginateResult
from voicebot.campaigns.calls import CallRequest
from voicebot.campaigns.dialer import Dialer
from voicebot.campaigns.store import create_campaign
from voicebot.db.models import Call
from voicebot.db.session import Database

ALWAYS = {"windows": {"weekday": ["00:00", "23:59:59"], "weekend": ["00:00", "23:59:59"]}}
MAX_CPS = 9999  # campaigns.calls_per_second is NUMERIC(6,2); the API caps users at 100


class StatementCounter:
    def __init__(self, db: Database) -> None:
        self.statements = 0
        self.rows = 0
        self.transactions = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._count)
        event.listen(db.engine.sync_engine, "commit", self._commit)

    def _commit(self, conn: Any) -> None:
        self.transactions += 1

    def _count(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        self.statements += 1
        self.rows += len(parameters) if many and parameters else 1


class InstantPhone:
    """Every call is answered; its dialogue row is written in batches on a separate engine."""

    def __init__(self, writer: Database) -> None:
        self.writer = writer
        self.pending: list[dict[str, Any]] = []
        self.placed = 0

    async def __call__(self, request: CallRequest) -> OriginateResult:
        self.placed += 1
        self.pending.append(
            {"id": request.call_id, "direction": "outbound", "channel": "voice", "scenario": request.scenario,
             "phone": request.phone, "campaign_id": request.campaign_id, "contact_id": request.contact_id,
             "status": "ended", "outcome": "informed", "answered_at": datetime.now(UTC)}
        )  # fmt: skip
        return OriginateResult.ANSWERED

    async def flush(self) -> None:
        batch, self.pending = self.pending, []
        if batch:
            async with self.writer.transaction() as session:
                await session.execute(insert(Call), batch)


async def run_bench(
    db: Database, contacts: int, max_calls: int, say: Callable[[str], None], keep: bool
) -> dict:
    process = psutil.Process()
    rss_start = process.memory_info().rss
    rows = [{"phone": f"+7900{i:07d}", "message": "Плановое отключение воды"} for i in range(contacts)]
    started = time.perf_counter()
    report = await create_campaign(
        db, name=f"bench {uuid.uuid4().hex[:8]}", scenario="announcement", rows=rows, max_concurrent=max_calls,
        calls_per_second=100, settings=ALWAYS, start=True,
    )  # fmt: skip
    create_s = time.perf_counter() - started
    del rows
    campaign_id = report.campaign_id
    say(f"created {report.accepted} contacts in {create_s:.1f} s")
    async with db.transaction() as session:
        await session.execute(text("UPDATE campaigns SET calls_per_second = :c WHERE id = :i"),
                              {"c": MAX_CPS, "i": campaign_id})  # fmt: skip
    writer = Database(db.url, pool_size=2)
    phone = InstantPhone(writer)
    counter = StatementCounter(db)
    dialer = Dialer(db, phone, max_calls=max_calls, poll_seconds=0)
    tick_ms: list[float] = []
    started = time.perf_counter()
    try:
        while True:
            t = time.perf_counter()
            await dialer.tick()
            tick_ms.append((time.perf_counter() - t) * 1000)
            await dialer.wait_idle()
            await phone.flush()
            if phone.placed >= report.accepted and dialer.in_flight == 0:
                break
            if len(tick_ms) % 50 == 0:
                say(f"placed {phone.placed}/{report.accepted}")
        dial_s = time.perf_counter() - started
        rss_end = process.memory_info().rss
        async with db.session() as session:
            done = await session.scalar(
                text("SELECT count(*) FROM campaign_contacts WHERE campaign_id = :i AND state = 'done'"),
                {"i": campaign_id},
            )
    finally:
        await writer.close()
        if not keep:
            await _clean_up(db, campaign_id)
    return {
        "contacts": report.accepted,
        "create_seconds": round(create_s, 2),
        "create_contacts_per_second": round(report.accepted / create_s),
        "dial_seconds": round(dial_s, 2),
        "placed_calls": phone.placed,
        "contacts_done": int(done or 0),
        "placed_calls_per_second": round(phone.placed / dial_s),
        "ticks": len(tick_ms),
        "tick_ms_p50": round(statistics.median(tick_ms), 1),
        "tick_ms_max": round(max(tick_ms), 1),
        "db_statements_per_call": round(counter.statements / max(phone.placed, 1), 2),
        "db_transactions_per_call": round(counter.transactions / max(phone.placed, 1), 2),
        "db_rows_touched_per_call": round(counter.rows / max(phone.placed, 1), 2),
        "rss_mb_start": round(rss_start / 2**20, 1),
        "rss_mb_end": round(rss_end / 2**20, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "max_calls_in_flight": max_calls,
    }


async def _clean_up(db: Database, campaign_id: int | None) -> None:
    """Drop the bench's rows. The calls go first and are vacuumed: deleting the contacts then makes
    PostgreSQL look for calls.contact_id references (no index), which is slow over dead rows."""
    async with db.transaction() as session:
        await session.execute(text("DELETE FROM calls WHERE campaign_id = :i"), {"i": campaign_id})
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM calls"))
    async with db.transaction() as session:
        await session.execute(text("DELETE FROM campaigns WHERE id = :i"), {"i": campaign_id})


def main(
    contacts: int = 100_000, *, max_calls: int = 200, keep: bool = False, say: Callable[[str], None] = print
) -> dict:
    """Run the benchmark against the configured database; returns the numbers."""
    from voicebot.db.lifecycle import open_database
    from voicebot.settings import get_settings

    async def go() -> dict:
        async with open_database(get_settings()) as db:
            return await run_bench(db, contacts, max_calls, say, keep)

    return asyncio.run(go())
