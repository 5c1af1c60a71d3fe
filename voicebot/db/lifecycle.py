"""Open the database for a command or the server: resolve, start embedded if needed, migrate."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from voicebot.db import migrate
from voicebot.db.server import redact, resolve_database_url
from voicebot.db.session import Database
from voicebot.settings import Settings

log = logging.getLogger(__name__)


@asynccontextmanager
async def open_database(settings: Settings, *, run_migrations: bool | None = None) -> AsyncIterator[Database]:
    url, embedded = await asyncio.to_thread(resolve_database_url, settings)
    log.info("database", extra={"url": redact(url), "embedded": embedded is not None})
    try:
        if settings.auto_migrate if run_migrations is None else run_migrations:
            # Alembic's env runs its own event loop, so it gets a thread of its own.
            await asyncio.to_thread(migrate.upgrade, url)
        db = Database(url, pool_size=settings.db_pool_size)
        try:
            yield db
        finally:
            await db.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
