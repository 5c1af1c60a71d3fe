"""The UI on create_app(settings, database=...) + mount(app): an in-process client, and for the browser
tests a uvicorn server on 127.0.0.1 and one headless Debian Chromium for the whole session."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from voicebot.api.app import create_app
from voicebot.db.models import ROLES
from voicebot.db.session import Database
from voicebot.services.keys import create_key
from voicebot.settings import Settings
from voicebot.web import mount

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # a synthetic microphone, so the voice mode of "Проверить бота" runs without hardware or a prompt
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def web_settings(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("web")
    return Settings(data_dir=root, recordings_dir=root / "recordings", api_auth_max_failures=50)


@pytest.fixture(scope="session")
def web_app(web_settings: Settings, database: Database):
    app = create_app(web_settings, database=database)
    mount(app)
    mount(app)  # a second call must be harmless
    return app


@pytest.fixture
async def client(web_app, db) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def keys(db: Database) -> dict[str, str]:
    return {role: (await create_key(db, role, f"тест {role}")).key for role in ROLES}


async def login(client: httpx.AsyncClient, key: str) -> httpx.Response:
    form = await client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
    return await client.post("/login", data={"key": key, "login_token": token, "next": "/"})


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


# --- the browser ------------------------------------------------------------------------------------------


def browser_missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is not installed"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.fixture(scope="session")
async def base_url(web_app) -> AsyncIterator[str]:
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(web_app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def browser():
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        await chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def have_audio_tools() -> bool:
    return bool(shutil.which("ffmpeg") or shutil.which("sox"))
