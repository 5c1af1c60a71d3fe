"""Where a call's records go: its own database pool, the local journal, the replayer and the call ledger.

`CallRecords.open` is what `serve` uses: the voice path gets a connection pool of its own (an API burst
can exhaust the API's pool, never this one), reads bounded by `VOICEBOT_DB_READ_TIMEOUT`, and every
write through the local journal. `CallRecords.direct` is the journal-less variant for the `simulate`
command and tests: the same operations, applied straight to PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from sqlalchemy import text

from voicebot.db.session import Database
from voicebot.dialogue.store import STORE_OPS, DialogueStore
from voicebot.health import Probe
from voicebot.journal.ledger import CallLedger
from voicebot.journal.local import LocalJournal
from voicebot.journal.ops import merge
from voicebot.journal.replay import Replayer
from voicebot.journal.writer import DirectWriter, JournalWriter, Writer
from voicebot.metrics import on_scrape, sample_pool
from voicebot.sla.missed import MISSED_OPS

log = logging.getLogger(__name__)

CALLBACK_SCHEDULE = "callback.schedule"
CALL_RECORD_OPS = merge(STORE_OPS, MISSED_OPS)  # + what Asterisk reports of callers not served


class CallRecords:
    def __init__(
        self,
        db: Database,
        writer: Writer,
        *,
        node: str | None = None,
        read_timeout: float | None = None,
        journal: LocalJournal | None = None,
        replayer: Replayer | None = None,
        owns_db: bool = False,
    ) -> None:
        self.db = db
        self.writer = writer
        self.ledger = CallLedger(writer, node=node)
        self.read_timeout = read_timeout
        self.journal = journal
        self.replayer = replayer
        self._owns_db = owns_db
        self._unsample = on_scrape(lambda: sample_pool("voice", db.engine.pool)) if owns_db else None

    @classmethod
    def direct(cls, db: Database, *, node: str | None = None) -> CallRecords:
        return cls(db, DirectWriter(db, CALL_RECORD_OPS), node=node)

    @classmethod
    async def open(
        cls,
        url: str,
        journal_path: Path,
        *,
        pool_size: int = 5,
        read_timeout: float = 1.0,
        write_wait: float = 2.0,
        node: str | None = None,
    ) -> CallRecords:
        """The journalled records with a pool of their own on `url`."""
        db = Database(url, pool_size=pool_size)
        journal = LocalJournal(journal_path)
        await journal.open()
        earlier = await journal.bind_target(_target_of(url))
        replayer = Replayer(journal, db, CALL_RECORD_OPS)
        if earlier is not None:
            log.error(
                "the call journal holds records for another database; they are not replayed here",
                extra={"journal": str(journal_path), "database": earlier},
            )
        else:
            replayer.start()
        writer = JournalWriter(journal, replayer, wait=write_wait)
        records = cls(db, writer, node=node, read_timeout=read_timeout, journal=journal, replayer=replayer,
                      owns_db=True)  # fmt: skip
        await records.warm(min(pool_size, 3))
        return records

    async def warm(self, connections: int) -> None:
        """Open a few connections now, so the first calls do not pay for connecting (and type
        introspection) inside their read timeout. A database that is away only gets logged."""

        async def one() -> None:
            async with self.db.session() as session:
                await session.execute(text("SELECT 1"))

        try:
            await asyncio.wait_for(asyncio.gather(*(one() for _ in range(connections))), 10)
        except Exception as exc:  # the journal and the timeouts handle an absent database
            log.warning("voice database pool not warmed", extra={"error": repr(exc)})

    def store(self) -> DialogueStore:
        """The dialogue's window on the database: bounded reads, writes and the call row through here."""
        return DialogueStore(self.db, writer=self.writer, ledger=self.ledger, read_timeout=self.read_timeout)

    async def schedule_callback(
        self,
        phone: str,
        reason: str,
        *,
        missed_at: datetime,
        delay: timedelta,
        source_call_id: UUID | None = None,
        scenario: str | None = None,
        max_per_hour: int | None = None,
    ) -> None:
        """Queue a call back (one open per phone; see `sla.callbacks.schedule_callback`), journalled."""
        payload = {"phone": phone, "reason": reason, "missed_at": missed_at, "delay_seconds": delay.total_seconds(),
                   "source_call_id": source_call_id, "scenario": scenario, "max_per_hour": max_per_hour}  # fmt: skip
        await self.writer.write(CALLBACK_SCHEDULE, payload)

    async def journal_probe(self) -> Probe:
        if self.journal is None or self.replayer is None:
            return Probe(True, {"mode": "direct"})
        backlog = await self.journal.backlog()
        detail = {
            "backlog": backlog.pending,
            "failed": backlog.failed,
            "database_reachable": self.replayer.database_up,
        }
        if self.replayer.last_error:
            detail["last_error"] = self.replayer.last_error
        # up (calls are served and their records kept), yet degraded while PostgreSQL does not take them
        return Probe(True, detail, degraded=not self.replayer.database_up)

    async def close(self) -> None:
        await self.ledger.close()
        if self.replayer is not None:
            await self.replayer.stop()
            if self.replayer.database_up:
                await self.replayer.drain(within=5.0)  # leave as little as possible behind
        if self.journal is not None:
            await self.journal.close()
        if self._unsample is not None:
            self._unsample()
        if self._owns_db:  # a partitioned network must not hold the shutdown forever
            try:
                await asyncio.wait_for(self.db.close(), 5.0)
            except TimeoutError:
                log.warning("voice database pool did not close in time")


def default_journal_path(data_dir: Path, url: str) -> Path:
    """DATA_DIR/journal/<host>_<port>_<db>.sqlite3: one journal per database, so pointing the service at
    another database never replays one database's records into the other."""
    slug = "".join(c if c.isalnum() or c in "-." else "_" for c in _target_of(url))
    return data_dir / "journal" / f"{slug}.sqlite3"


def _target_of(url: str) -> str:
    """host:port/dbname of a database URL (no user, no password): what the journal belongs to."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return f"{parsed.host or ''}:{parsed.port or 5432}/{parsed.database or ''}"
