"""Shared fixtures: one fresh, migrated PostgreSQL database for the whole test session.

The server is DATABASE_URL's (or VOICEBOT_TEST_DATABASE_URL's) when set — a new database named
voicebot_test_<random> is created on it and dropped at the end — otherwise an embedded pgserver in a
temporary folder. Tests that write use `db`, which empties every table first.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.faults.proxy import PgProxy
from voicebot.calls.records import CallRecords
from voicebot.db import migrate
from voicebot.db.models import Base
from voicebot.db.server import EmbeddedPostgres, to_asyncpg_url
from voicebot.db.session import Database

# Nothing a test run writes (TTS cache, recordings, an embedded server's files) lands in the checkout.
_VAR = tempfile.mkdtemp(prefix="voicebot-test-var-")
os.environ.setdefault("VOICEBOT_DATA_DIR", _VAR)
atexit.register(shutil.rmtree, _VAR, ignore_errors=True)


def _server_url() -> str | None:
    return os.environ.get("VOICEBOT_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _with_db(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return f"{base}?{query}" if query else base


class TestServer:
    """Creates throw-away databases on one server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    async def create(self, prefix: str = "voicebot_test") -> str:
        name = f"{prefix}_{secrets.token_hex(4)}"
        conn = await asyncpg.connect(_plain(self.admin_url))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        return _with_db(self.admin_url, name)

    async def drop_all(self) -> None:
        conn = await asyncpg.connect(_plain(self.admin_url))
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    url = _server_url()
    if url:
        yield to_asyncpg_url(url)
        return
    with tempfile.TemporaryDirectory(prefix="voicebot-pg-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp))
        yield embedded.start()
        embedded.stop()


@pytest.fixture(scope="session")
async def pg_server(pg_admin_url: str) -> AsyncIterator[TestServer]:
    server = TestServer(pg_admin_url)
    yield server
    await server.drop_all()


@pytest.fixture(scope="session")
async def database_url(pg_server: TestServer) -> str:
    url = await pg_server.create()
    await asyncio.to_thread(migrate.upgrade, url)
    return url


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, pool_size=5)
    yield db
    await db.close()


# DELETE, not TRUNCATE: a TRUNCATE of every table gives each a new file and costs ~0.3 s a test on a
# busy machine, against ~15 ms for deleting the few rows a test wrote. Triggers (and the foreign-key
# checks, themselves triggers) are off for the emptying (`session_replication_role = replica`), so the
# call-statistics trigger does not count the deleted calls and the order of the tables does not matter.
_EMPTY = [f'DELETE FROM "{t.name}"' for t in Base.metadata.sorted_tables]
_RESTART_SEQUENCES = (
    "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s "
    "JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema()"
)


async def empty_tables(database: Database) -> None:
    """Empty every table and restart every sequence (what `TRUNCATE … RESTART IDENTITY` does, faster).

    A previous test's background work (a router's deferred write, a worker finishing its pass) may still
    hold row locks when this runs; PostgreSQL then picks one side of the deadlock to fail. The straggler
    has no test left to matter to, so the emptying simply tries again."""
    for attempt in range(5):
        try:
            async with database.transaction() as session:
                await session.execute(text("SET LOCAL session_replication_role = replica"))
                for statement in _EMPTY:
                    await session.execute(text(statement))
                await session.execute(text(_RESTART_SEQUENCES))
            return
        except DBAPIError as exc:
            if "deadlock detected" not in str(exc) or attempt == 4:
                raise
            await asyncio.sleep(0.1 * (attempt + 1))


async def finish_leftover_placements(grace: float = 2.0) -> None:
    """Let an earlier test's dialer placements (tasks `dial-*`, still awaiting an outcome when that test
    ended) write their results before the tables are emptied, and cancel what is still waiting after
    `grace`. The event loop lives for the whole session, and sequences restart: a straggler settling
    its contact id 1 after the emptying would settle *this* test's contact 1."""
    current = asyncio.current_task()
    leftover = [
        t
        for t in asyncio.all_tasks()
        if t is not current and not t.done() and t.get_name().startswith("dial-")
    ]
    if not leftover:
        return
    _, pending = await asyncio.wait(leftover, timeout=grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


@pytest.fixture
async def db(database: Database) -> Database:
    """The session database with every table emptied."""
    await finish_leftover_placements()
    await empty_tables(database)
    return database


@pytest.fixture(scope="session")
def nlu():  # noqa: ANN201
    """The one trained NLU of the test session (the classifier is cached outside the checkout, keyed by
    its training data, so later sessions load it instead of training)."""
    from voicebot.nlu import create_nlu
    from voicebot.settings import Settings

    engine = create_nlu(Settings())
    engine.warm_up()
    return engine


# --- fault injection: a cuttable TCP proxy in front of the test database (tests/faults/proxy.py) ---------


@pytest.fixture
async def pg_proxy(database_url: str) -> AsyncIterator[PgProxy]:
    url = make_url(database_url)
    socket_dir = url.query.get("host")  # the embedded server: a Unix socket only
    socket = f"{socket_dir}/.s.PGSQL.{url.port or 5432}" if socket_dir and not url.host else None
    proxy = PgProxy(url.host or "127.0.0.1", url.port or 5432, socket)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
def proxied_url(pg_proxy: PgProxy, database_url: str) -> str:
    """The test database's URL through `pg_proxy`: cut the proxy and the database is gone for this URL."""
    return pg_proxy.url_for(database_url)


@pytest.fixture
async def records(proxied_url: str, tmp_path: Path) -> AsyncIterator[CallRecords]:
    """The voice path's call records (local journal, short read and replay timeouts) on `proxied_url`:
    cut `pg_proxy` and the records go to the journal, restore it and they are replayed."""
    opened = await CallRecords.open(
        proxied_url, tmp_path / "journal.sqlite3", read_timeout=0.5, write_wait=1.0
    )
    opened.replayer.statement_timeout = 1.0
    yield opened
    await opened.close()
