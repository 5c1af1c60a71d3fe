"""The journal on local disk: one SQLite file in WAL mode, used from one thread off the event loop.

`synchronous=FULL` makes each append survive a power cut, not only a crash of this process: an entry
the bot has confirmed to the caller must still be there after any restart. Entries are replayed in
`seq` order; applied ones are kept a day for inspection, then purged.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicebot.journal import codec

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT NOT NULL UNIQUE,
    op         TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at REAL NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending',   -- pending, applied, failed
    attempts   INTEGER NOT NULL DEFAULT 0,
    error      TEXT,
    done_at    REAL
);
CREATE INDEX IF NOT EXISTS entries_state_seq ON entries (state, seq);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Entry:
    seq: int
    key: str
    op: str
    payload: dict[str, Any]
    created_at: float
    attempts: int = 0


@dataclass(frozen=True)
class Backlog:
    pending: int
    failed: int
    oldest_created_at: float | None


class LocalJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        # One thread owns the connection: SQLite calls are serialised and never run on the event loop.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._conn: sqlite3.Connection | None = None

    # --- lifecycle ----------------------------------------------------------------------------------
    async def open(self) -> None:
        await self._run(self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(_SCHEMA)
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            await self._run(self._conn.close)
            self._conn = None
        self._thread.shutdown(wait=True)

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the journal is not open")
        return self._conn

    # --- writing ------------------------------------------------------------------------------------
    async def append(self, op: str, payload: dict[str, Any]) -> Entry:
        """Durably store one entry (committed and synced when this returns)."""
        key = str(uuid.uuid4())
        text = codec.dumps(payload)  # fails here, in the caller, on a value that cannot be journalled
        created = time.time()
        seq = await self._run(self._append, key, op, text, created)
        return Entry(seq, key, op, payload, created)

    def _append(self, key: str, op: str, text: str, created: float) -> int:
        cursor = self.conn.execute(
            "INSERT INTO entries (key, op, payload, created_at) VALUES (?, ?, ?, ?)", (key, op, text, created)
        )
        return int(cursor.lastrowid or 0)

    async def mark_applied(self, seq: int) -> None:
        await self._run(self._mark, seq, "applied", None)

    async def mark_failed(self, seq: int, error: str) -> None:
        await self._run(self._mark, seq, "failed", error)

    async def note_attempt(self, seq: int, error: str) -> None:
        await self._run(self._note_attempt, seq, error)

    def _mark(self, seq: int, state: str, error: str | None) -> None:
        self.conn.execute(
            "UPDATE entries SET state = ?, error = ?, done_at = ?, attempts = attempts + 1 WHERE seq = ?",
            (state, error, time.time(), seq),
        )

    def _note_attempt(self, seq: int, error: str) -> None:
        self.conn.execute("UPDATE entries SET attempts = attempts + 1, error = ? WHERE seq = ?", (error, seq))

    # --- reading ------------------------------------------------------------------------------------
    async def pending(self, limit: int = 100) -> list[Entry]:
        return await self._run(self._pending, limit)

    def _pending(self, limit: int) -> list[Entry]:
        rows = self.conn.execute(
            "SELECT seq, key, op, payload, created_at, attempts FROM entries "
            "WHERE state = 'pending' ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [Entry(r[0], r[1], r[2], codec.loads(r[3]), r[4], r[5]) for r in rows]

    async def backlog(self) -> Backlog:
        return await self._run(self._backlog)

    def _backlog(self) -> Backlog:
        pending, oldest = self.conn.execute(
            "SELECT count(*), min(created_at) FROM entries WHERE state = 'pending'"
        ).fetchone()
        failed = self.conn.execute("SELECT count(*) FROM entries WHERE state = 'failed'").fetchone()[0]
        return Backlog(int(pending), int(failed), oldest)

    async def entries(self, state: str | None = None) -> list[Entry]:
        """Every entry (or those in `state`), oldest first: for tests and inspection."""
        return await self._run(self._entries, state)

    def _entries(self, state: str | None) -> list[Entry]:
        sql = "SELECT seq, key, op, payload, created_at, attempts FROM entries"
        rows = self.conn.execute(sql + (" WHERE state = ?" if state else "") + " ORDER BY seq", (
            (state,) if state else ()
        )).fetchall()  # fmt: skip
        return [Entry(r[0], r[1], r[2], codec.loads(r[3]), r[4], r[5]) for r in rows]

    async def purge_applied(self, older_than: float) -> int:
        return await self._run(self._purge, older_than)

    def _purge(self, older_than: float) -> int:
        cursor = self.conn.execute(
            "DELETE FROM entries WHERE state = 'applied' AND done_at < ?", (time.time() - older_than,)
        )
        return cursor.rowcount

    # --- which database it belongs to -----------------------------------------------------------------
    async def bind_target(self, target: str) -> str | None:
        """Remember the database these entries belong to; returns a different earlier one, if any."""
        return await self._run(self._bind_target, target)

    def _bind_target(self, target: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE name = 'target'").fetchone()
        if row is None:
            self.conn.execute("INSERT INTO meta (name, value) VALUES ('target', ?)", (target,))
            return None
        if row[0] != target:
            pending = self.conn.execute("SELECT count(*) FROM entries WHERE state = 'pending'").fetchone()[0]
            if not pending:
                self.conn.execute("UPDATE meta SET value = ? WHERE name = 'target'", (target,))
                return None
            return str(row[0])
        return None
