"""Applies journal entries to PostgreSQL in order, exactly once, and keeps at it through outages.

Exactly once: each entry's key goes into `journal_applied` in the same transaction as its effect, so
an entry applied just before a crash (but not yet marked locally) is skipped when replayed. Order: one
entry at a time, oldest first; a later entry never overtakes an earlier one.

An error that means "the database is not there" (connection refused or lost, timeouts, a server that
refuses sessions: starting up, shutting down, too many clients, a database closed to connections — SQLSTATE
classes 08, 53 and 57P, or anything raised before the entry's own statements ran) stops the round and
retries later with backoff; an error the database gives for the entry itself (a constraint,
bad data) is retried a few times and then the entry is marked failed and skipped, so one bad record
cannot hold every later call's records hostage. Failed entries stay in the local file and are counted
in `voicebot_journal_failed_total`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from voicebot.db.session import Database
from voicebot.journal.local import Entry, LocalJournal
from voicebot.journal.ops import ApplyFn
from voicebot.metrics import JOURNAL_BACKLOG, JOURNAL_FAILED, JOURNAL_OLDEST_AGE, JOURNAL_REPLAYED
from voicebot.retry import Backoff

log = logging.getLogger(__name__)

_CLAIM_KEY = text(
    "INSERT INTO journal_applied (key, op) VALUES (CAST(:key AS uuid), :op) "
    "ON CONFLICT DO NOTHING RETURNING key"
)
_PURGE_KEYS = text("DELETE FROM journal_applied WHERE applied_at < now() - make_interval(days => :days)")
MAX_ENTRY_ATTEMPTS = 3
APPLIED_KEPT_SECONDS = 24 * 3600
KEYS_KEPT_DAYS = 7


# SQLSTATE classes that say the server (not the entry) is the trouble: connection exceptions, insufficient
# resources (too many connections, disk full), operator intervention (shutdown, cannot connect now).
_OUTAGE_SQLSTATES = ("08", "53", "57P")


class _BeforeEntry(Exception):
    """Failed before the entry's own statements ran (connecting, the session's settings, the claim)."""


def is_outage(exc: BaseException) -> bool:
    """True when `exc` says the database is unreachable (retry later), not that the entry is wrong."""
    if isinstance(exc, _BeforeEntry):
        return True
    if isinstance(exc, OSError | TimeoutError | ConnectionError | PoolTimeoutError | DisconnectionError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        if sqlstate.startswith(_OUTAGE_SQLSTATES):
            return True
        name = type(exc.orig).__name__ if exc.orig is not None else ""
        # asyncpg: connection errors, "cannot connect now", "too many connections", shutdowns, interface.
        return any(
            part in name
            for part in ("Connection", "CannotConnect", "TooManyConnections", "Shutdown", "Interface")
        ) or isinstance(exc.orig, OSError | TimeoutError)
    return False


class Replayer:
    def __init__(
        self,
        journal: LocalJournal,
        db: Database,
        ops: Mapping[str, ApplyFn],
        *,
        statement_timeout: float = 5.0,
        max_backoff: float = 5.0,
    ) -> None:
        self.journal = journal
        self.db = db
        self.ops = ops
        self.statement_timeout = statement_timeout
        self.max_backoff = max_backoff
        self.database_up = True  # optimistic until an attempt says otherwise
        self.processed_seq = 0  # every entry up to here is applied or failed
        self.backlog = -1  # entries waiting; -1 until the first round has looked
        self.last_error: str | None = None
        self._changed = asyncio.Condition()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_purge = 0.0

    # --- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="journal-replay")

    async def stop(self, within: float = 5.0) -> None:
        """Stop replaying; bounded, since a round stuck on a partitioned network may not unwind quickly."""
        if self._task is not None:
            self._task.cancel()
            done, _ = await asyncio.wait({self._task}, timeout=within)
            if not done:
                log.warning("journal replay did not stop in time; left behind")
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def wait_processed(self, seq: int, within: float) -> bool:
        """Wait up to `within` s until entry `seq` is applied (or given up); True if it was."""
        if self.processed_seq >= seq:
            return True
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.processed_seq >= seq), within)
            except TimeoutError:
                return False
        return True

    async def drain(self, within: float = 30.0) -> bool:
        """Replay until nothing is pending (tests, shutdown); False if the database stayed away."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if await self.replay_once() == 0 and (await self.journal.backlog()).pending == 0:
                return True
            await asyncio.sleep(0.05)
        return False

    # --- the loop -----------------------------------------------------------------------------------
    async def _loop(self) -> None:
        backoff = Backoff(initial=0.2, maximum=self.max_backoff, jitter=0.2)
        while True:
            self._wake.clear()  # before reading: an append during the round wakes the next one
            try:
                done = await self.replay_once()
            except Exception:  # the loop must survive anything; the entries stay in the journal
                log.exception("journal replay round failed")
                done = -1
            if done < 0:  # outage: back off
                await self._sleep(backoff.next_delay())
                continue
            backoff.reset()
            if done == 0:
                await self._sleep(self.max_backoff)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def replay_once(self, limit: int = 200) -> int:
        """Apply up to `limit` pending entries; returns how many, or -1 when the database is away."""
        entries = await self.journal.pending(limit)
        for count, entry in enumerate(entries):
            outcome = await self._apply(entry)
            if outcome == "outage":
                await self._publish_backlog()
                return -1 if count == 0 else count
            await self._processed(entry.seq)
        await self._publish_backlog()
        if not entries:
            await self._purge()
        return len(entries)

    async def _apply(self, entry: Entry) -> str:
        fn = self.ops.get(entry.op)
        try:
            if fn is None:
                raise LookupError(f"unknown journal operation {entry.op!r}")
            # A partitioned network never answers: bound the whole attempt, not only the statement.
            async with asyncio.timeout(self.statement_timeout * 2), self.db.transaction() as session:
                try:  # nothing here depends on the entry: a failure means the database is not usable
                    await session.execute(
                        text(f"SET LOCAL statement_timeout = {int(self.statement_timeout * 1000)}")
                    )
                    claimed = await session.scalar(_CLAIM_KEY, {"key": entry.key, "op": entry.op})
                except Exception as exc:
                    raise _BeforeEntry(f"{type(exc).__name__}: {exc}") from exc
                if claimed is not None:
                    await fn(session, entry.payload)
        except Exception as exc:
            return await self._failed(entry, exc)
        await self.journal.mark_applied(entry.seq)
        JOURNAL_REPLAYED.inc()
        if not self.database_up:
            log.info("database reachable again; replaying the journal")
        self.database_up = True
        self.last_error = None
        return "applied"

    async def _failed(self, entry: Entry, exc: Exception) -> str:
        reason = f"{type(exc).__name__}: {exc}"[:500]
        if is_outage(exc):
            if self.database_up:
                log.warning(
                    "database unreachable; call records wait in the local journal", extra={"error": reason}
                )
            self.database_up = False
            self.last_error = reason
            return "outage"
        if entry.attempts + 1 >= MAX_ENTRY_ATTEMPTS:
            log.error(
                "journal entry refused by the database; kept as failed",
                extra={"seq": entry.seq, "op": entry.op, "error": reason},
            )
            await self.journal.mark_failed(entry.seq, reason)
            JOURNAL_FAILED.inc()
            return "failed"
        await self.journal.note_attempt(entry.seq, reason)
        log.warning(
            "journal entry failed; will retry", extra={"seq": entry.seq, "op": entry.op, "error": reason}
        )
        return "outage"  # stop this round; the order must hold

    async def _processed(self, seq: int) -> None:
        async with self._changed:
            self.processed_seq = max(self.processed_seq, seq)
            self._changed.notify_all()

    async def _publish_backlog(self) -> None:
        backlog = await self.journal.backlog()
        self.backlog = backlog.pending
        JOURNAL_BACKLOG.set(backlog.pending)
        JOURNAL_OLDEST_AGE.set(time.time() - backlog.oldest_created_at if backlog.oldest_created_at else 0)

    async def _purge(self) -> None:
        if time.monotonic() - self._last_purge < 3600:
            return
        self._last_purge = time.monotonic()
        await self.journal.purge_applied(APPLIED_KEPT_SECONDS)
        try:
            async with self.db.transaction() as session:
                await session.execute(_PURGE_KEYS, {"days": KEYS_KEPT_DAYS})
        except Exception as exc:  # housekeeping only; next hour will do
            log.info("could not purge old journal keys", extra={"error": repr(exc)})
