"""UI sessions on the server: the signed cookie alone is not enough, its row must still be open.

The row's id is the SHA-256 of the session's random token (the cookie carries the token, the database
only its digest). Logout ends the row, revoking the API key ends all of its rows (services/keys.py), so a copied cookie
stops working at once instead of living out its 12 hours.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from voicebot.db.models import ApiKey, WebSession
from voicebot.db.session import Database


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(db: Database, token: str, key_id: int, expires: int) -> None:
    async with db.transaction() as s:
        await s.execute(
            insert(WebSession).values(
                id=session_id(token), key_id=key_id, expires_at=datetime.fromtimestamp(expires, UTC)
            )
        )


async def session_is_live(db: Database, token: str, key_id: int) -> bool:
    """Open, not expired, and its key not revoked."""
    async with db.session() as s:
        row = (
            await s.execute(
                select(WebSession.ended_at, WebSession.expires_at, ApiKey.revoked_at)
                .join(ApiKey, ApiKey.id == WebSession.key_id)
                .where(WebSession.id == session_id(token), WebSession.key_id == key_id)
            )
        ).first()
    return (
        row is not None
        and row.ended_at is None
        and row.revoked_at is None
        and row.expires_at > datetime.now(UTC)
    )


async def end_session(db: Database, token: str) -> None:
    async with db.transaction() as s:
        await s.execute(
            update(WebSession)
            .where(WebSession.id == session_id(token), WebSession.ended_at.is_(None))
            .values(ended_at=datetime.now(UTC))
        )
