"""An API client against create_app(settings, database=db) and one key per role."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.receiver import Receiver
from voicebot.api.app import create_app
from voicebot.db.models import ROLES
from voicebot.db.session import Database
from voicebot.services.keys import create_key
from voicebot.settings import Settings


@pytest.fixture
def api_settings(tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        recordings_dir=tmp_path / "recordings",
        webhook_secret="test-secret",
        webhook_allow_private=True,  # the test receiver listens on 127.0.0.1
        api_auth_max_failures=5,
        api_auth_block_seconds=60,
    )


@pytest.fixture
def app(api_settings: Settings, db: Database):
    return create_app(api_settings, database=db)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def keys(db: Database) -> dict[str, str]:
    return {role: (await create_key(db, role, f"test {role}")).key for role in ROLES}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def receiver():
    server = await Receiver().start()
    yield server
    await server.stop()
