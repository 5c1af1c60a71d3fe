"""Reads the UI needs that the API modules do not offer: campaign progress for a page of campaigns and the
work queues ordered by deadline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from voicebot.db.session import Database
from voicebot.values import json_value

FINISHED_STATES = ("done", "failed", "cancelled", "blocked")

_CAMPAIGNS = text(
    """
    SELECT c.id, c.name, c.scenario, c.status, c.created_at, c.started_at, c.finished_at, c.created_by,
           count(cc.id) AS total,
           count(cc.id) FILTER (WHERE cc.state IN ('done', 'failed', 'cancelled', 'blocked')) AS finished,
           count(cc.id) FILTER (WHERE cc.outcome IS NOT NULL) AS with_outcome
    FROM (SELECT * FROM campaigns ORDER BY id DESC LIMIT :limit OFFSET :offset) c
    LEFT JOIN campaign_contacts cc ON cc.campaign_id = c.id
    GROUP BY c.id, c.name, c.scenario, c.status, c.created_at, c.started_at, c.finished_at, c.created_by
    ORDER BY c.id DESC
    """
)


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 100.0


async def campaign_page(db: Database, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    async with db.session() as s:
        total = await s.scalar(text("SELECT count(*) FROM campaigns"))
        rows = (await s.execute(_CAMPAIGNS, {"limit": limit, "offset": offset})).all()
    items = []
    for row in rows:
        item = {k: json_value(v) for k, v in row._mapping.items()}
        item["percent"] = _percent(row.finished, row.total)
        items.append(item)
    return items, total or 0


_QUEUES = {
    "tickets": (
        "SELECT number, category, priority, address, description, status, created_at, due_at, contact_phone, "
        "call_id, (due_at IS NOT NULL AND due_at < now()) AS overdue "
        "FROM tickets WHERE status IN ('new', 'in_progress') ORDER BY due_at NULLS LAST, id",
        "SELECT count(*) AS total, count(*) FILTER (WHERE due_at < now()) AS overdue "
        "FROM tickets WHERE status IN ('new', 'in_progress')",
    ),
    "voice_messages": (
        "SELECT id, phone, call_id, created_at, review_due_at, duration, transcript, "
        "(review_due_at < now()) AS overdue "
        "FROM voice_messages WHERE reviewed_at IS NULL ORDER BY review_due_at, id",
        "SELECT count(*) AS total, count(*) FILTER (WHERE review_due_at < now()) AS overdue "
        "FROM voice_messages WHERE reviewed_at IS NULL",
    ),
    "callbacks": (
        "SELECT id, phone, reason, scenario, status, attempts, missed_at, due_at, last_attempt_at, "
        "source_call_id, (due_at < now()) AS overdue "
        "FROM callbacks WHERE status IN ('pending', 'in_progress') ORDER BY due_at, id",
        "SELECT count(*) AS total, count(*) FILTER (WHERE due_at < now()) AS overdue "
        "FROM callbacks WHERE status IN ('pending', 'in_progress')",
    ),
}


async def queue(db: Database, name: str, limit: int, offset: int) -> dict[str, Any]:
    """Open items of one queue, earliest deadline first, with the count of all and of overdue ones."""
    rows_sql, count_sql = _QUEUES[name]
    async with db.session() as s:
        rows = await s.execute(
            text(f"{rows_sql} LIMIT :limit OFFSET :offset"), {"limit": limit, "offset": offset}
        )
        items = [{k: json_value(v) for k, v in r._mapping.items()} for r in rows.all()]
        counts = (await s.execute(text(count_sql))).one()
    return {"items": items, "total": counts.total, "overdue": counts.overdue}
