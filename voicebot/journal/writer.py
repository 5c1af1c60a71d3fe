"""How call code writes a record: `await writer.write(op, payload)`, whatever stands behind it.

`JournalWriter` (voice and API calls in `serve`): durable on local disk first, then waits briefly for
PostgreSQL while it is reachable, so readers see the record right away as before; during an outage it
returns as soon as the entry is on disk. `DirectWriter` (the `simulate` command, tools, tests): the same
operations applied straight to PostgreSQL in one transaction, errors raised to the caller.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any, Protocol

from voicebot.db.session import Database
from voicebot.journal.local import LocalJournal
from voicebot.journal.ops import ApplyFn
from voicebot.journal.replay import Replayer

log = logging.getLogger(__name__)


class Writer(Protocol):
    async def write(self, op: str, payload: dict[str, Any]) -> None: ...


class DirectWriter:
    def __init__(self, db: Database, ops: Mapping[str, ApplyFn]) -> None:
        self.db = db
        self.ops = ops

    async def write(self, op: str, payload: dict[str, Any]) -> None:
        fn = self.ops[op]
        async with self.db.transaction() as session:
            await fn(session, payload)


class JournalWriter:
    def __init__(self, journal: LocalJournal, replayer: Replayer, *, wait: float = 2.0) -> None:
        self.journal = journal
        self.replayer = replayer
        self.wait = wait  # longest a write waits for PostgreSQL while it is believed reachable

    async def write(self, op: str, payload: dict[str, Any]) -> None:
        if op not in self.replayer.ops:
            raise LookupError(f"unknown journal operation {op!r}")
        try:
            entry = await self.journal.append(op, payload)
        except (OSError, sqlite3.Error) as exc:
            # The local disk failed (full?): PostgreSQL alone is the next best place for the record.
            log.error(
                "local journal unwritable; writing straight to PostgreSQL",
                extra={"op": op, "error": repr(exc)},
            )
            async with self.replayer.db.transaction() as session:
                await self.replayer.ops[op](session, payload)
            return
        self.replayer.wake()
        if self.replayer.database_up:
            applied = await self.replayer.wait_processed(entry.seq, self.wait)
            if not applied:
                log.info("record kept in the local journal; PostgreSQL is slow or away", extra={"op": op})
