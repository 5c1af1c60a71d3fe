"""Schemathesis against the OpenAPI document as admin: whatever it sends, no server error (5xx).

Bounded: a few examples per operation, so the whole run stays well under a minute.
"""

from __future__ import annotations

import asyncio

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from voicebot.api.app import create_app
from voicebot.db.session import Database
from voicebot.services.keys import create_key
from voicebot.settings import Settings

pytestmark = pytest.mark.slow
EXAMPLES_PER_OPERATION = 5


def _loop_free_database(url: str) -> Database:
    """Starlette's test client runs each request on its own event loop: pooled connections cannot follow."""
    db = Database(url, pool_size=1)
    db.engine = create_async_engine(url, poolclass=NullPool)
    db.sessions = async_sessionmaker(db.engine, expire_on_commit=False)
    return db


@pytest.fixture(scope="module")
def fuzz_target(database_url, tmp_path_factory):
    db = _loop_free_database(database_url)
    data = tmp_path_factory.mktemp("fuzz")
    app = create_app(
        Settings(data_dir=data, webhook_secret="s", api_auth_max_failures=1_000_000, simulation_max=10_000),
        database=db,
    )
    key = asyncio.run(create_key(db, "admin", "fuzz")).key
    return app, key


def test_no_server_errors(fuzz_target):
    app, key = fuzz_target
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # collect every operation's failure, not just the first
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert operations >= 30
    assert failures == []
