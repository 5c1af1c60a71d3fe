"""What the voice channel adds to the `calls` row the dialogue runtime writes: recording and answer time."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, literal, text, update
from sqlalchemy.dialects.postgresql import JSONB

from voicebot.db.models import Call
from voicebot.db.session import Database

log = logging.getLogger(__name__)


async def save_call_media(
    db: Database,
    call_id: uuid.UUID,
    recording: tuple[Path, float] | None,
    answered_at: datetime,
    meta: dict[str, Any] | None = None,
) -> None:
    """UPDATE after the runtime closed the row; `meta` is merged into the row's meta, not replacing it."""
    values: dict[str, Any] = {"answered_at": answered_at}
    if recording is not None:
        values["recording_path"] = str(recording[0])
        values["recording_duration"] = round(recording[1], 2)
    if meta:
        values["meta"] = func.coalesce(Call.meta, text("'{}'::jsonb")).op("||")(literal(meta, type_=JSONB))
    try:
        async with db.transaction() as session:
            await session.execute(update(Call).where(Call.id == call_id).values(**values))
    except Exception:  # the call is over either way; losing the path must not hide the dialogue's outcome
        log.exception("could not store the call's recording", extra={"call_id": str(call_id)})


async def insert_call_row(db: Database, call_id: uuid.UUID, **values: Any) -> None:
    """A call row written by the voice channel itself (calls that never reach a dialogue)."""
    async with db.transaction() as session:
        await session.execute(insert(Call).values(id=call_id, **values))
