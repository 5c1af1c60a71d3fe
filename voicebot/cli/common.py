"""Helpers shared by the sub-commands: settings, logging and running a coroutine with the database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from voicebot.db.lifecycle import open_database
from voicebot.db.session import Database
from voicebot.logs import configure_logging
from voicebot.settings import Settings, get_settings

T = TypeVar("T")


def setup(log_format: str | None = None) -> Settings:
    settings = get_settings()
    configure_logging(settings.log_level, log_format or settings.log_format)
    return settings


def run_with_database(
    work: Callable[[Database, Settings], Awaitable[T]], *, migrate: bool | None = None
) -> T:
    settings = get_settings()

    async def main() -> T:
        async with open_database(settings, run_migrations=migrate) as db:
            return await work(db, settings)

    return asyncio.run(main())
