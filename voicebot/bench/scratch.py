"""A throw-away database for benchmarks: created beside the configured one, dropped afterwards.

Benchmarks need demo accounts and write call rows; doing that in the database they are pointed at would
overwrite phone lists and mix bench calls into real statistics. So they work in a database of their own on
the same server (`voicebot_bench_<random>`), migrated and filled with the demo data, and drop it at the end.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from voicebot.db import migrate
from voicebot.db.server import redact, resolve_database_url
from voicebot.db.session import Database
from voicebot.settings import Settings

log = logging.getLogger(__name__)


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@asynccontextmanager
async def scratch_database(settings: Settings, *, demo_data: bool = True) -> AsyncIterator[Database]:
    url, embedded = await asyncio.to_thread(resolve_database_url, settings)
    name = f"voicebot_bench_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(_plain(url))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.PostgresError as exc:
            raise RuntimeError(
                f"the benchmark needs a database of its own and could not create one on {redact(url)}: {exc}"
            ) from exc
        finally:
            await admin.close()
        scratch = with_database(url, name)
        log.info("benchmark database created", extra={"database": name})
        try:
            await asyncio.to_thread(migrate.upgrade, scratch)
            db = Database(scratch, pool_size=settings.db_pool_size)
            try:
                if demo_data:
                    from voicebot.demo import load_demo_data

                    await load_demo_data(db, settings.default_timezone)
                yield db
            finally:
                await db.close()
        finally:
            admin = await asyncpg.connect(_plain(url))
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
