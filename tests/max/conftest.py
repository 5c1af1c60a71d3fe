"""A MAX bot under test: the product's MaxService (real maxapi client) against the Bot API emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.emulators.max_api import MaxApiEmulator, SentMessage
from voicebot.demo import load_demo_data
from voicebot.dialogue.library import FlowLibrary
from voicebot.max.service import MaxService
from voicebot.nlu import create_nlu
from voicebot.settings import PROJECT_ROOT, Settings


@pytest.fixture(scope="module")
def library() -> FlowLibrary:
    return FlowLibrary.load(PROJECT_ROOT / "scenarios")


@pytest.fixture(scope="module")
def nlu(tmp_path_factory):
    return create_nlu(Settings(data_dir=tmp_path_factory.mktemp("nlu")))


@pytest.fixture
async def max_api() -> AsyncIterator[MaxApiEmulator]:
    async with MaxApiEmulator() as api:
        yield api


def max_settings(api: MaxApiEmulator, tmp_path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "max_mode": "polling",
        "max_bot_token": api.token,
        "max_api_url": api.url,
        "duty_dispatcher": None,
        "dialer_enabled": False,  # tests run the MAX campaign dialer themselves, with their own clock
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def bot(db, max_api, nlu, library, tmp_path) -> AsyncIterator[MaxService]:
    await load_demo_data(db)
    service = MaxService(max_settings(max_api, tmp_path), db, nlu=nlu, library=library, poll_timeout=1)
    await service.start()
    yield service
    await service.stop()


class Resident:
    """A resident in the MAX app: writes, presses buttons, shares a contact; reads the bot's replies."""

    def __init__(self, api: MaxApiEmulator, user_id: int, name: str = "Житель") -> None:
        self.api = api
        self.user_id = user_id
        self.name = name
        self.seen = 0

    async def _replies(self, count: int) -> list[SentMessage]:
        messages = await self.api.wait_for(self.user_id, self.seen + count)
        new = messages[self.seen :]
        self.seen = len(messages)
        return new

    async def start(self, replies: int = 1) -> list[SentMessage]:
        await self.api.start_bot(self.user_id, self.name)
        return await self._replies(replies)

    async def write(self, text: str, replies: int = 1) -> list[SentMessage]:
        await self.api.write(self.user_id, text, self.name)
        return await self._replies(replies)

    async def press(self, message: SentMessage, button: str, replies: int = 1) -> list[SentMessage]:
        await self.api.press(self.user_id, message, button, self.name)
        return await self._replies(replies)

    async def share_phone(self, phone: str, replies: int = 2, **kwargs: Any) -> list[SentMessage]:
        await self.api.share_contact(self.user_id, phone, self.name, **kwargs)
        return await self._replies(replies)

    def last(self) -> SentMessage:
        return self.api.sent_to(self.user_id)[-1]
