import asyncio

import asyncpg

from voicebot.db import migrate
from voicebot.db.models import Base

EXPECTED = {t.name for t in Base.metadata.sorted_tables}


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {r["tablename"] for r in rows} - {"alembic_version"}


async def test_upgrade_downgrade_upgrade_on_empty_database(pg_server):
    url = await pg_server.create("voicebot_migr")
    assert await _tables(url) == set()

    await asyncio.to_thread(migrate.upgrade, url)
    assert await _tables(url) == EXPECTED

    await asyncio.to_thread(migrate.downgrade, url, "base")
    assert await _tables(url) == set()

    await asyncio.to_thread(migrate.upgrade, url)
    assert await _tables(url) == EXPECTED


async def test_schema_matches_models(database_url):
    """Autogenerate against the migrated database finds nothing to add: models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await engine.dispose()
    assert diff == []


async def test_money_is_exact_and_times_have_zones(database_url):
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        debt = await conn.fetchval(
            "SELECT data_type FROM information_schema.columns WHERE table_name='accounts' AND column_name='debt'"
        )
        naive = await conn.fetchval(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema='public' "
            "AND data_type = 'timestamp without time zone'"
        )
    finally:
        await conn.close()
    assert debt == "numeric"
    assert naive == 0
