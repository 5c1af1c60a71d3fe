"""Declaring, changing and ending an outage, and keeping its house-chat posts in step.

Staff declare an outage for buildings (or whole streets) with the text residents get. The same row is
what inbound callers from those buildings hear first (voicebot/db/outages.py), and the text is posted to
the MAX house chat of each affected building; a change edits the posts, the end closes them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot.db.models import Account, AccountPhone, Call, HouseChat, Outage, OutageBuilding, OutagePost
from voicebot.db.outages import building_matches
from voicebot.db.session import Database
from voicebot.max.client import MaxClient
from voicebot.values import house_number, street_name

log = logging.getLogger(__name__)

COMPARE_BACK = timedelta(days=7)  # calls avoided: the same hours a week earlier


class OutageError(ValueError):
    """What was wrong with a declaration or a change; nothing was saved."""


@dataclass(frozen=True)
class Building:
    street: str
    house: str | None = None

    @property
    def label(self) -> str:
        return f"{self.street}, {self.house}" if self.house else f"{self.street} (вся улица)"


@dataclass(frozen=True)
class Reach:
    chats: int
    chat_members: int
    failed_chats: int
    phone_callers: int

    @property
    def residents(self) -> int:
        return self.chat_members + self.phone_callers


@dataclass(frozen=True)
class CallsAvoided:
    during: int
    before: int

    @property
    def avoided(self) -> int:
        return self.before - self.during


class OutageService:
    def __init__(self, db: Database, client: MaxClient | None, timezone: str = "Europe/Moscow") -> None:
        self.db = db
        self.client = client
        self.zone = ZoneInfo(timezone)

    # --- lifecycle ----------------------------------------------------------------------------------------

    async def declare(
        self,
        *,
        title: str,
        message: str,
        buildings: list[Building],
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        by: str | None = None,
    ) -> Outage:
        title, message = title.replace("\x00", "").strip(), message.strip()
        _check(message, buildings, starts_at, ends_at)
        async with self.db.transaction() as s:
            outage = Outage(
                title=title,
                message=message,
                starts_at=starts_at or datetime.now(UTC),
                ends_at=ends_at,
                created_by=by,
                buildings=_rows(buildings),
            )  # fmt: skip
            s.add(outage)
        await self._sync_posts(outage.id)
        log.info("outage declared", extra={"outage_id": outage.id, "buildings": len(buildings)})
        return await self.get(outage.id)

    async def update(
        self,
        outage_id: int,
        *,
        title: str | None = None,
        message: str | None = None,
        ends_at: datetime | None = None,
        buildings: list[Building] | None = None,
    ) -> Outage:
        async with self.db.transaction() as s:
            outage = await _load(s, outage_id)
            if outage.ended_at is not None:
                raise OutageError(f"outage {outage_id} has ended; declare a new one")
            new_buildings = (
                buildings
                if buildings is not None
                else [Building(b.street, b.house) for b in outage.buildings]
            )
            new_message = (message if message is not None else outage.message).strip()
            _check(new_message, new_buildings, outage.starts_at, ends_at or outage.ends_at)
            outage.message = new_message
            if title is not None:
                outage.title = title.replace("\x00", "").strip()
            if ends_at is not None:
                outage.ends_at = ends_at
            if buildings is not None:
                outage.buildings = _rows(buildings)
        await self._sync_posts(outage_id)
        return await self.get(outage_id)

    async def end(self, outage_id: int, *, at: datetime | None = None) -> Outage:
        async with self.db.transaction() as s:
            outage = await _load(s, outage_id)
            if outage.ended_at is None:
                outage.ended_at = at or datetime.now(UTC)
                if outage.ends_at is None or outage.ends_at > outage.ended_at:
                    outage.ends_at = outage.ended_at
        await self._sync_posts(outage_id)
        log.info("outage ended", extra={"outage_id": outage_id})
        return await self.get(outage_id)

    async def get(self, outage_id: int) -> Outage:
        async with self.db.session() as s:
            return await _load(s, outage_id)

    async def list(self, *, active: bool | None = None, limit: int = 100) -> list[Outage]:
        stmt = select(Outage).order_by(Outage.starts_at.desc(), Outage.id.desc()).limit(limit)
        if active is True:
            stmt = stmt.where(Outage.ended_at.is_(None))
        elif active is False:
            stmt = stmt.where(Outage.ended_at.is_not(None))
        async with self.db.session() as s:
            return list(await s.scalars(stmt))

    async def posts(self, outage_id: int) -> list[OutagePost]:
        async with self.db.session() as s:
            return list(
                await s.scalars(
                    select(OutagePost).where(OutagePost.outage_id == outage_id).order_by(OutagePost.id)
                )
            )

    # --- reach and calls avoided ----------------------------------------------------------------------------

    async def reach(self, outage: Outage) -> Reach:
        posts = await self.posts(outage.id)
        live = [p for p in posts if p.state != "failed"]
        callers = await self._calls_from_buildings(
            outage, outage.starts_at, _end(outage), distinct_phones=True
        )
        return Reach(
            chats=len(live),
            chat_members=sum(p.members for p in live),
            failed_chats=len(posts) - len(live),
            phone_callers=callers,
        )

    async def calls_avoided(self, outage: Outage) -> CallsAvoided:
        start, end = outage.starts_at, _end(outage)
        during = await self._calls_from_buildings(outage, start, end)
        before = await self._calls_from_buildings(outage, start - COMPARE_BACK, end - COMPARE_BACK)
        return CallsAvoided(during=during, before=before)

    async def _calls_from_buildings(
        self, outage: Outage, start: datetime, end: datetime, *, distinct_phones: bool = False
    ) -> int:
        phones = await self._phones_in(outage)
        if not phones:
            return 0
        counted = func.count(func.distinct(Call.phone)) if distinct_phones else func.count()
        async with self.db.session() as s:
            stmt = (
                select(counted)
                .select_from(Call)
                .where(
                    Call.direction == "inbound",
                    Call.phone.in_(phones),
                    Call.started_at >= start,
                    Call.started_at < end,
                )
            )
            return int(await s.scalar(stmt) or 0)

    async def _phones_in(self, outage: Outage) -> list[str]:
        async with self.db.session() as s:
            rows = await s.execute(
                select(AccountPhone.phone, Account.street, Account.house).join(
                    Account, Account.id == AccountPhone.account_id
                )
            )
            return sorted({phone for phone, street, house in rows
                           if any(building_matches(b.street, b.house, street, house) for b in outage.buildings)})  # fmt: skip

    # --- house-chat posts -----------------------------------------------------------------------------------

    def post_text(self, outage: Outage) -> str:
        places = "; ".join(Building(b.street, b.house).label for b in outage.buildings)
        if outage.ended_at is not None:
            return f"✅ Завершено: {outage.title or 'отключение'}.\n{places}.\nРаботы закончены {self._local(outage.ended_at)}."
        until = f"\nОриентировочно до {self._local(outage.ends_at)}." if outage.ends_at else ""
        head = f"⚠️ {outage.title}\n" if outage.title else "⚠️ "
        return f"{head}{outage.message}\n{places}.{until}"

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%d.%m %H:%M")

    async def _sync_posts(self, outage_id: int) -> None:
        """Post to chats of affected buildings not yet posted, edit the others; close all when ended."""
        outage = await self.get(outage_id)
        chats = await self._chats_for(outage)
        posts = {p.chat_id: p for p in await self.posts(outage_id)}
        text = self.post_text(outage)
        for chat in chats:
            post = posts.get(chat.chat_id)
            if post is None or post.state == "failed":
                if outage.ended_at is None:
                    await self._post(outage_id, chat.chat_id, text)
            else:
                await self._edit(post, text, closed=outage.ended_at is not None)
        wanted = {c.chat_id for c in chats}
        for chat_id, post in posts.items():  # a building was removed: close its post
            if chat_id not in wanted and post.state == "posted":
                await self._edit(
                    post, self.post_text(outage) if outage.ended_at else "Отменено: " + text, closed=True
                )

    async def _chats_for(self, outage: Outage) -> list[HouseChat]:
        async with self.db.session() as s:
            chats = list(await s.scalars(select(HouseChat).order_by(HouseChat.id)))
        return [
            c
            for c in chats
            if any(building_matches(b.street, b.house, c.street, c.house) for b in outage.buildings)
        ]

    async def _post(self, outage_id: int, chat_id: int, text: str) -> None:
        values: dict[str, object] = {"state": "failed", "members": 0, "error": "the MAX channel is off"}
        if self.client is not None:
            try:
                members = await self.client.chat_members(chat_id)
                message_id = await self.client.send(text, chat_id=chat_id)
                values = {"state": "posted", "members": members, "error": None, "message_id": message_id}
            except Exception as exc:  # one chat failing must not stop the others; staff see the error
                values = {"state": "failed", "members": 0, "error": str(exc)[:500]}
                log.warning("outage post failed", extra={"outage_id": outage_id, "error": repr(exc)})
        async with self.db.transaction() as s:
            await s.execute(
                delete(OutagePost).where(OutagePost.outage_id == outage_id, OutagePost.chat_id == chat_id)
            )
            s.add(OutagePost(outage_id=outage_id, chat_id=chat_id, **values))

    async def _edit(self, post: OutagePost, text: str, *, closed: bool) -> None:
        if self.client is None or post.message_id is None:
            return
        try:
            await self.client.edit(post.message_id, text)
            state, error = ("closed" if closed else "posted"), None
        except Exception as exc:
            state, error = post.state, str(exc)[:500]
            log.warning("outage post edit failed", extra={"outage_id": post.outage_id, "error": repr(exc)})
        async with self.db.transaction() as s:
            row = await s.get(OutagePost, post.id)
            if row is not None:
                row.state, row.error = state, error


class HouseChats:
    """The building → MAX house chat mapping."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self) -> list[HouseChat]:
        async with self.db.session() as s:
            return list(await s.scalars(select(HouseChat).order_by(HouseChat.street, HouseChat.house)))

    async def add(self, street: str, house: str, chat_id: int, title: str = "") -> HouseChat:
        street, house = street_name(street.replace("\x00", "")), house_number(house.replace("\x00", "")) or ""
        if not street or not house:
            raise OutageError("a house chat needs a street and a house number")
        async with self.db.transaction() as s:
            if await s.scalar(select(HouseChat.id).where(HouseChat.chat_id == chat_id)):
                raise OutageError(f"chat {chat_id} is already mapped to a building")
            chat = HouseChat(
                street=street, house=house, chat_id=chat_id, title=title.replace("\x00", "").strip()
            )
            s.add(chat)
        return chat

    async def remove(self, chat_row_id: int) -> bool:
        async with self.db.transaction() as s:
            result = await s.execute(delete(HouseChat).where(HouseChat.id == chat_row_id))
            return bool(result.rowcount)


def _rows(buildings: list[Building]) -> list[OutageBuilding]:
    return [
        OutageBuilding(
            street=street_name(b.street.replace("\x00", "")),
            house=house_number((b.house or "").replace("\x00", "")),
        )
        for b in buildings
    ]


def _end(outage: Outage) -> datetime:
    now = datetime.now(UTC)
    end = outage.ended_at or outage.ends_at or now
    return min(end, now) if end > outage.starts_at else now


def _check(
    message: str, buildings: list[Building], starts_at: datetime | None, ends_at: datetime | None
) -> None:
    problems = []
    if not message:
        problems.append("the text residents hear is empty")
    if "\x00" in message:
        problems.append("the text contains a NUL character")
    if not buildings or any(not b.street.strip() for b in buildings):
        problems.append("name at least one building: a street and, for one house, its number")
    if ends_at is not None and ends_at <= (starts_at or datetime.now(UTC)):
        problems.append("'until' must be later than the start")
    if problems:
        raise OutageError("; ".join(problems))


async def _load(s: AsyncSession, outage_id: int) -> Outage:
    outage = await s.get(Outage, outage_id)
    if outage is None:
        raise LookupError(f"no outage {outage_id}")
    return outage
