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


async def active_outage_message(
    session: AsyncSession, homes: Iterable[tuple[str | None, str | None]], at: datetime
) -> str | None:
    """The text of an outage active at `at` at any of the (street, house) homes, the latest declared first.
    An outage with no buildings covers the whole company: every caller hears it, known or not."""
    homes = [h for h in homes if h[0]]
    rows = await session.execute(
        select(Outage.message, OutageBuilding.street, OutageBuilding.house)
        .outerjoin(OutageBuilding, OutageBuilding.outage_id == Outage.id)
        .where(Outage.starts_at <= at, or_(Outage.ends_at.is_(None), Outage.ends_at > at))
        .where(Outage.ended_at.is_(None) | (Outage.ended_at > at))
        .order_by(Outage.starts_at.desc(), Outage.id.desc())
    )
    for message, street, house in rows:
        if street is None or any(building_matches(street, house, s, h) for s, h in homes):
            return message
    return None
