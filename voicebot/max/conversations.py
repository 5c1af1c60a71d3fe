"""MAX conversations kept in PostgreSQL between messages (`max_conversations`), so a restart loses none.

One row per resident: the dialogue waiting for their answer, if any (a snapshot, see
voicebot/dialogue/snapshot.py), the bot's last message with buttons (its buttons are taken away when one
is pressed) and the keys of the last updates handled (MAX delivers at least once: a long poll cut off by
a restart is delivered again). The idle sweep finds old open dialogues here, whichever process wrote them. The reaper leaves the `calls` rows of these conversations alone: they are not dead,
only waiting for the resident.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import null, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from voicebot.db.models import MaxConversation
from voicebot.db.session import Database

RECENT = 20  # update keys remembered per resident (a redelivery repeats the last batch or so)


@dataclass(frozen=True)
class Kept:
    user_id: int
    call_id: uuid.UUID | None
    state: dict[str, Any] | None
    last_message: tuple[str, str] | None
    seen_at: datetime
    recent: list[str]


class Conversations:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def load(self, user_id: int) -> Kept | None:
        async with self.db.session() as s:
            row = await s.get(MaxConversation, user_id)
            if row is None:
                return None
            last = (row.last_mid, row.last_text or "") if row.last_mid else None
            return Kept(row.user_id, row.call_id, row.state, last, row.seen_at, list(row.recent or []))

    async def keep(
        self,
        user_id: int,
        *,
        call_id: uuid.UUID | None,
        state: dict[str, Any] | None,
        last_message: tuple[str, str] | None,
        recent: list[str],
    ) -> datetime:
        """Store what is open for `user_id` (state None: no dialogue open) and the updates handled;
        returns the moment written (`seen_at`, which also tells whether another process wrote since)."""
        values = {
            "recent": recent[-RECENT:],
            "call_id": call_id,
            "state": state if state is not None else null(),
            "last_mid": last_message[0] if last_message else None,
            "last_text": last_message[1] if last_message else None,
            "seen_at": datetime.now(UTC),
        }
        stmt = pg_insert(MaxConversation).values(user_id=user_id, **values)
        async with self.db.transaction() as s:
            await s.execute(stmt.on_conflict_do_update(index_elements=[MaxConversation.user_id], set_=values))
        return values["seen_at"]

    async def written_at(self, user_id: int) -> datetime | None:
        async with self.db.session() as s:
            return await s.scalar(select(MaxConversation.seen_at).where(MaxConversation.user_id == user_id))

    async def idle(self, idle_for: timedelta) -> list[int]:
        """Residents whose open dialogue has waited longer than `idle_for` for their answer."""
        since = datetime.now(UTC) - idle_for
        async with self.db.session() as s:
            rows = await s.scalars(
                select(MaxConversation.user_id).where(
                    MaxConversation.state.is_not(None), MaxConversation.seen_at <= since
                )
            )
            return list(rows)
