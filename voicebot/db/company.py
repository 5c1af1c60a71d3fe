"""The company card: address, contacts, office hours, dispatcher and emergency numbers — one row, edited
by admins, read by the phone and messenger dialogues and shown on the house-chat card."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from sqlalchemy.dialects.postgresql import insert as pg_insert

from voicebot.db.models import CompanyCard
from voicebot.db.session import Database


@dataclass(frozen=True)
class Card:
    address: str = ""
    phone: str = ""
    email: str = ""
    office_hours: str = ""
    dispatcher_phone: str = ""
    emergency_phone: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


CARD_FIELDS = tuple(f.name for f in fields(Card))
PHONE_FIELDS = ("phone", "dispatcher_phone", "emergency_phone")


async def load_card(db: Database) -> Card:
    async with db.session() as s:
        row = await s.get(CompanyCard, 1)
    return Card(**{name: getattr(row, name) or "" for name in CARD_FIELDS}) if row else Card()


async def save_card(db: Database, card: Card) -> Card:
    values = {name: value.replace("\x00", "").strip() for name, value in card.as_dict().items()}
    stmt = pg_insert(CompanyCard).values(id=1, **values)
    async with db.transaction() as s:
        await s.execute(stmt.on_conflict_do_update(index_elements=[CompanyCard.id], set_=values))
    return Card(**values)
