"""A small demo housing company, loaded through the same importers a real company uses."""

from __future__ import annotations

from importlib import resources

from voicebot.db.session import Database
from voicebot.importers import registry
from voicebot.importers.csvfile import ImportReport


def demo_csv(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.csv").read_text(encoding="utf-8")


async def load_demo_data(db: Database, default_tz: str = "Europe/Moscow") -> list[ImportReport]:
    return [
        await registry.import_accounts(db, demo_csv("accounts"), default_tz=default_tz),
        await registry.import_meters(db, demo_csv("meters")),
        await registry.import_tickets(db, demo_csv("tickets"), default_tz=default_tz),
    ]
