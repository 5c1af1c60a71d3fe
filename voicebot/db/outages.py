"""The one lookup of a declared outage at a building, shared by the inbound router and the dialogue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot.db.models import Outage, OutageBuilding
from voicebot.values import house_number, normalize_key, street_name


def building_matches(street: str, house: str | None, home_street: str | None, home_house: str | None) -> bool:
    """An outage for a street with no house covers every house of it; streets compare normalised."""
    if not home_street or normalize_key(street_name(street)) != normalize_key(street_name(home_street)):
        return False
    return not house or normalize_key(house_number(house)) == normalize_key(house_number(home_house))


OutageRow = tuple[str, str | None, str | None, datetime, datetime | None, datetime | None]


async def current_outages(session: AsyncSession, at: datetime) -> list[OutageRow]:
    """(message, street, house, starts_at, ends_at, ended_at) of every outage not over at `at` (future ones
    too), one row per building (street None: company-wide), the latest declared first."""
    rows = await session.execute(
        select(
            Outage.message, OutageBuilding.street, OutageBuilding.house, Outage.starts_at, Outage.ends_at,
            Outage.ended_at,
        )
        .outerjoin(OutageBuilding, OutageBuilding.outage_id == Outage.id)
        .where(or_(Outage.ends_at.is_(None), Outage.ends_at > at))
        .where(Outage.ended_at.is_(None) | (Outage.ended_at > at))
        .order_by(Outage.starts_at.desc(), Outage.id.desc())
    )  # fmt: skip
    return [tuple(row) for row in rows]  # type: ignore[misc]


def outage_message_for(
    outages: Iterable[OutageRow], homes: Iterable[tuple[str | None, str | None]], at: datetime
) -> str | None:
    """The text of the first outage active at `at` covering any of the homes; an outage with no buildings
    covers the whole company: every caller hears it, known or not."""
    homes = [h for h in homes if h[0]]
    for message, street, house, starts_at, ends_at, ended_at in outages:
        if (
            starts_at > at
            or (ends_at is not None and ends_at <= at)
            or (ended_at is not None and ended_at <= at)
        ):
            continue
        if street is None or any(building_matches(street, house, s, h) for s, h in homes):
            return message
    return None


async def active_outage_message(
    session: AsyncSession, homes: Iterable[tuple[str | None, str | None]], at: datetime
) -> str | None:
    """The text of an outage active at `at` at any of the (street, house) homes (or company-wide)."""
    return outage_message_for(await current_outages(session, at), homes, at)
