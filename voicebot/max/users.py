"""Residents of the MAX channel: the phone each shared with consent, nothing they merely typed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from voicebot.db.models import MaxUser
from voicebot.db.session import Database


class MaxUsers:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def phone(self, user_id: int) -> str | None:
        async with self.db.session() as s:
            return await s.scalar(select(MaxUser.phone).where(MaxUser.user_id == user_id))

    async def remember_phone(self, user_id: int, name: str, phone: str) -> None:
        """Store the phone MAX shared at the resident's request; the consent moment is kept with it."""
        now = datetime.now(UTC)
        stmt = pg_insert(MaxUser).values(user_id=user_id, name=name, phone=phone, consent_at=now)
        async with self.db.transaction() as s:
            await s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[MaxUser.user_id],
                    set_={"name": name, "phone": phone, "consent_at": now, "updated_at": now},
                )
            )

    async def users_with_phone(self, phone: str) -> list[int]:
        """MAX users who shared `phone` and let the bot write first (newest first)."""
        async with self.db.session() as s:
            rows = await s.scalars(
                select(MaxUser.user_id)
                .where(MaxUser.phone == phone, MaxUser.opted_out_at.is_(None))
                .order_by(MaxUser.updated_at.desc())
            )
            return list(rows)

    async def opt_out(self, user_id: int, name: str, out: bool) -> None:
        """«Не пишите мне» (out) or «подписаться» (back in): whether the bot may start conversations."""
        now = datetime.now(UTC)
        value = now if out else None
        stmt = pg_insert(MaxUser).values(user_id=user_id, name=name, opted_out_at=value)
        async with self.db.transaction() as s:
            await s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[MaxUser.user_id], set_={"opted_out_at": value, "updated_at": now}
                )
            )


def masked(phone: str | None) -> str:
    """For logs and chat replies: +7916•••45-01 style, never the full number."""
    if not phone:
        return ""
    return phone[:5] + "•••" + phone[-4:-2] + "-" + phone[-2:]
