"""Supervisors' quality reviews of calls: a 1–5 score, a comment and tags, one review per call (the last
save stands), each save audited."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from voicebot.db.models import Call, CallReview
from voicebot.db.session import Database
from voicebot.services.audit import audit
from voicebot.services.errors import ServiceError

MAX_TAGS = 10


def parse_tags(text: str) -> list[str]:
    """«жалоба, перевод» → ['жалоба', 'перевод']: trimmed, lower case, unique, at most ten."""
    tags: list[str] = []
    for part in text.replace(";", ",").split(","):
        tag = part.strip().lower()[:40]
        if tag and tag not in tags:
            tags.append(tag)
    return tags[:MAX_TAGS]


async def save_review(
    db: Database,
    call_id: uuid.UUID,
    score: int | None,
    comment: str,
    tags: list[str],
    reviewer: str,
    now: datetime,
    remote_addr: str | None = None,
) -> None:
    if score is not None and not 1 <= score <= 5:
        raise ServiceError(422, "Оценка — от 1 до 5.")
    values = {
        "score": score,
        "comment": comment.strip() or None,
        "tags": tags,
        "reviewer": reviewer,
        "updated_at": now,
    }
    async with db.transaction() as s:
        if await s.get(Call, call_id) is None:
            raise ServiceError(404, "Звонок не найден.")
        statement = insert(CallReview).values(call_id=call_id, **values)
        await s.execute(statement.on_conflict_do_update(index_elements=[CallReview.call_id], set_=values))
        audit(s, reviewer, "call.review", "call", call_id, {"score": score, "tags": tags}, remote_addr)


async def reviews_of(db: Database, call_ids: list[Any]) -> dict[str, dict[str, Any]]:
    """call id (str) → {score, comment, tags, reviewer, updated_at} for the calls that have a review."""
    if not call_ids:
        return {}
    async with db.session() as s:
        rows = await s.scalars(
            select(CallReview).where(CallReview.call_id.in_([uuid.UUID(str(c)) for c in call_ids]))
        )
        return {
            str(r.call_id): {
                "score": r.score,
                "comment": r.comment,
                "tags": list(r.tags or []),
                "reviewer": r.reviewer,
                "updated_at": r.updated_at,
            }
            for r in rows
        }
