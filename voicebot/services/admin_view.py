"""What the admin pages read: the audit log, the webhook and SMS outboxes (counts by status and the latest
rows), and whether an SMS gateway is configured at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from voicebot.db.session import Database
from voicebot.services.paging import like_pattern, rows_of


@dataclass(frozen=True)
class AuditQuery:
    actor: str = ""
    action: str = ""
    limit: int = 50
    offset: int = 0


async def audit_page(db: Database, query: AuditQuery) -> tuple[list[dict[str, Any]], int]:
    parts, params = ["true"], {}
    if query.actor.strip():
        parts.append("actor ILIKE :actor")
        params["actor"] = like_pattern(query.actor)
    if query.action:
        parts.append("action = :action")
        params["action"] = query.action
    where = " AND ".join(parts)
    async with db.session() as s:
        rows = rows_of(
            await s.execute(
                text(
                    "SELECT id, at, actor, action, object_type, object_id, details, remote_addr FROM audit_log "
                    f"WHERE {where} ORDER BY id DESC LIMIT :limit OFFSET :offset"
                ),
                {**params, "limit": query.limit, "offset": query.offset},
            )
        )
        total = await s.scalar(text(f"SELECT count(*) FROM audit_log WHERE {where}"), params)
    return rows, int(total or 0)


_OUTBOX = {
    "webhook": (
        "SELECT id, event_type, campaign_id, status, url, attempts, next_attempt_at, last_error, created_at, "
        "delivered_at AS done_at FROM webhook_outbox ORDER BY id DESC LIMIT :limit",
        "SELECT status, count(*) AS n FROM webhook_outbox GROUP BY status",
    ),
    "sms": (
        "SELECT id, phone, template, status, attempts, next_attempt_at, last_error, created_at, "
        "sent_at AS done_at FROM sms_outbox ORDER BY id DESC LIMIT :limit",
        "SELECT status, count(*) AS n FROM sms_outbox GROUP BY status",
    ),
}


async def outbox(db: Database, kind: str, limit: int = 50) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The latest rows of the webhook or SMS outbox and the count of every status."""
    rows_sql, counts_sql = _OUTBOX[kind]
    async with db.session() as s:
        rows = rows_of(await s.execute(text(rows_sql), {"limit": limit}))
        counts = {r.status: r.n for r in (await s.execute(text(counts_sql))).all()}
    return rows, counts
