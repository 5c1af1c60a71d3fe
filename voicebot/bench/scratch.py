"""A throw-away database for benchmarks: created beside the configured one, dropped afterwards.

Benchmarks need demo accounts and write call rows; doing that in the database they are pointed at would
overwrite phone lists and mix bench calls into real statistics. So they work in a database of their own on
the same server (`voicebot_bench_<random>`), migrated (and filled with the demo data when asked), and drop
it at the end. `scratch_url` is the one place that creates and drops such a database; `admin_server` gives
the server to create it on (the given URL's, else an embedded one in a temporary folder).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from voicebot.db import migrate
from voicebot.db.server import EmbeddedPostgres, redact, resolve_database_url, to_asyncpg_url
from voicebot.db.session import Database
from voicebot.settings import Settings

log = logging.getLogger(__name__)


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def admin_server(database_url: str | None) -> Iterator[str]:
    """The asyncpg URL of the server to create scratch databases on: `database_url`'s server, else an
    embedded PostgreSQL in a temporary folder (stopped and removed afterwards)."""
    if database_url:
        yield to_asyncpg_url(database_url)
        return
    with tempfile.TemporaryDirectory(prefix="voicebot-bench-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp))
        try:
            yield embedded.start()
        finally:
            embedded.stop()


@asynccontextmanager
async def scratch_url(admin_url: str) -> AsyncIterator[str]:
    """A new, migrated database on the server at `admin_url`, dropped (connections and all) afterwards."""
    name = f"voicebot_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(_plain(admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.PostgresError as exc:
        raise RuntimeError(
            f"the benchmark needs a database of its own and could not create one on {redact(admin_url)}: {exc}"
        ) from exc
    finally:
        await admin.close()
    log.info("benchmark database created", extra={"database": name})
    try:
        url = with_database(admin_url, name)
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        admin = await asyncpg.connect(_plain(admin_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def scratch_database(settings: Settings, *, demo_data: bool = True) -> AsyncIterator[Database]:
    """A scratch database on the configured server (an embedded one when DATABASE_URL is unset)."""
    url, embedded = await asyncio.to_thread(resolve_database_url, settings)
    try:
        async with scratch_url(url) as scratch:
            db = Database(scratch, pool_size=settings.db_pool_size)
            try:
                if demo_data:
                    from voicebot.demo import load_demo_data

                    await load_demo_data(db, settings.default_timezone)
                yield db
            finally:
                await db.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
