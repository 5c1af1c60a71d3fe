"""Work queues (tickets, voice messages, callbacks): sortable, filterable pages and the audited actions a
dispatcher takes on them (ticket status and assignee, voice message listened/processed, callback outcome)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update

from voicebot.db.models import TICKET_STATUSES, Callback, Ticket, TicketEvent, VoiceMessage
from voicebot.db.session import Database
from voicebot.services.audit import audit
from voicebot.services.errors import ServiceError
from voicebot.services.paging import like_pattern, rows_of


def DeskError(status: int, message: str) -> ServiceError:  # noqa: N802
    """An action that cannot be done; the message is Russian, for the dispatcher who tried it."""
    return ServiceError(status, message)


@dataclass(frozen=True)
class Actor:
    name: str
    remote_addr: str | None = None


@dataclass(frozen=True)
class QueueQuery:
    tab: str = "tickets"
    state: str = "open"  # open | closed | all
    q: str = ""
    sort: str = ""
    desc: bool = False
    overdue_only: bool = False
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class _Spec:
    columns: str
    table: str
    open_filter: str
    deadline: str
    search: tuple[str, ...]
    sorts: dict[str, str]
    default_sort: str


SPECS = {
    "tickets": _Spec(
        "id, number, category, priority, address, description, status, created_at, due_at, responsible, "
        "contact_phone, call_id, closed_at",
        "tickets",
        "status IN ('new', 'in_progress')",
        "due_at",
        ("number", "address", "description", "contact_phone", "responsible", "category"),
        {
            "due": "due_at",
            "number": "number",
            "category": "category",
            "priority": "priority",
            "status": "status",
            "created": "created_at",
            "responsible": "responsible",
        },
        "due",
    ),
    "voice_messages": _Spec(
        "id, phone, call_id, created_at, review_due_at, duration, transcript, recording_path, listened_at, "
        "listened_by, reviewed_at, reviewed_by",
        "voice_messages",
        "reviewed_at IS NULL",
        "review_due_at",
        ("phone", "transcript"),
        {"due": "review_due_at", "created": "created_at", "phone": "phone", "duration": "duration"},
        "due",
    ),
    "callbacks": _Spec(
        "id, phone, reason, scenario, status, attempts, missed_at, due_at, last_attempt_at, result, "
        "source_call_id, handled_at, handled_by, note",
        "callbacks",
        "status IN ('pending', 'in_progress')",
        "due_at",
        ("phone", "note"),
        {
            "due": "due_at",
            "phone": "phone",
            "reason": "reason",
            "status": "status",
            "attempts": "attempts",
            "last": "last_attempt_at",
        },
        "due",
    ),
}


def _where(spec: _Spec, query: QueueQuery) -> tuple[str, dict[str, Any]]:
    parts, params = [], {}
    if query.state == "open":
        parts.append(spec.open_filter)
    elif query.state == "closed":
        parts.append(f"NOT ({spec.open_filter})")
    if query.overdue_only:
        parts.append(f"({spec.open_filter}) AND {spec.deadline} < now()")
    if query.q.strip():
        params["q"] = like_pattern(query.q)
        parts.append("(" + " OR ".join(f"coalesce({c}, '') ILIKE :q" for c in spec.search) + ")")
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


async def page(db: Database, query: QueueQuery) -> dict[str, Any]:
    """One page of a queue, sorted by a whitelisted column, with counts of matching and overdue items."""
    spec = SPECS[query.tab]
    where, params = _where(spec, query)
    column = spec.sorts.get(query.sort) or spec.sorts[spec.default_sort]
    direction = "DESC" if query.desc else "ASC"
    overdue = f"(({spec.open_filter}) AND {spec.deadline} < now())"
    rows_sql = (
        f"SELECT {spec.columns}, {overdue} AS overdue FROM {spec.table}{where} "
        f"ORDER BY {column} {direction} NULLS LAST, id LIMIT :limit OFFSET :offset"
    )
    count_sql = (
        f"SELECT count(*) AS total, count(*) FILTER (WHERE {overdue}) AS overdue FROM {spec.table}{where}"
    )
    async with db.session() as s:
        rows = await s.execute(text(rows_sql), {**params, "limit": query.limit, "offset": query.offset})
        items = rows_of(rows)
        counts = (await s.execute(text(count_sql), params)).one()
    return {"items": items, "total": counts.total, "overdue": counts.overdue}


async def open_counts(db: Database) -> dict[str, dict[str, int]]:
    """Open and overdue items of every queue (the tab badges)."""
    result = {}
    for name in SPECS:
        found = await page(db, QueueQuery(tab=name, limit=0))
        result[name] = {"total": found["total"], "overdue": found["overdue"]}
    return result


# --- actions ----------------------------------------------------------------------------------------------


async def set_ticket_status(
    db: Database, ticket_id: int, status: str, comment: str, actor: Actor, now: datetime
) -> None:
    if status not in TICKET_STATUSES:
        raise DeskError(422, "Нет такого статуса заявки.")
    async with db.transaction() as s:
        ticket = await s.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None:
            raise DeskError(404, "Заявка не найдена.")
        before = ticket.status
        ticket.status = status
        ticket.closed_at = now if status in ("done", "cancelled") else None
        s.add(
            TicketEvent(ticket_id=ticket.id, status=status, comment=comment or None, actor=actor.name, at=now)
        )
        details = {"number": ticket.number, "from": before, "to": status, "comment": comment or None}
        audit(s, actor.name, "ticket.status", "ticket", ticket.id, details, actor.remote_addr)


async def assign_ticket(db: Database, ticket_id: int, responsible: str, actor: Actor) -> None:
    async with db.transaction() as s:
        ticket = await s.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None:
            raise DeskError(404, "Заявка не найдена.")
        before = ticket.responsible
        ticket.responsible = responsible.strip() or None
        details = {"number": ticket.number, "from": before, "to": ticket.responsible}
        audit(s, actor.name, "ticket.assign", "ticket", ticket.id, details, actor.remote_addr)


async def mark_voice_message(db: Database, message_id: int, step: str, actor: Actor, now: datetime) -> None:
    """`listened` or `reviewed` (processed); the first mark stands, a repeat is a no-op."""
    if step not in ("listened", "reviewed"):
        raise DeskError(404, "Нет такого действия.")
    at, by = (
        (VoiceMessage.listened_at, "listened_by")
        if step == "listened"
        else (VoiceMessage.reviewed_at, "reviewed_by")
    )
    async with db.transaction() as s:
        if await s.get(VoiceMessage, message_id) is None:
            raise DeskError(404, "Голосовое сообщение не найдено.")
        values = {at.key: now, by: actor.name}
        if step == "reviewed":  # processing implies it was listened to
            await s.execute(
                update(VoiceMessage)
                .where(VoiceMessage.id == message_id, VoiceMessage.listened_at.is_(None))
                .values(listened_at=now, listened_by=actor.name)
            )
        changed = await s.execute(
            update(VoiceMessage).where(VoiceMessage.id == message_id, at.is_(None)).values(**values)
        )
        if changed.rowcount:
            audit(s, actor.name, f"voice_message.{step}", "voice_message", message_id, {}, actor.remote_addr)


CALLBACK_CLOSE = {"resolved": "done", "not_needed": "cancelled", "unreachable": "failed"}


async def close_callback(
    db: Database, callback_id: int, result: str, note: str, actor: Actor, now: datetime
) -> None:
    if result not in CALLBACK_CLOSE:
        raise DeskError(422, "Выберите итог перезвона.")
    async with db.transaction() as s:
        row = (
            await s.execute(select(Callback).where(Callback.id == callback_id).with_for_update())
        ).scalar_one_or_none()
        if row is None:
            raise DeskError(404, "Перезвон не найден.")
        if row.status not in ("pending", "in_progress"):
            raise DeskError(409, "Перезвон уже закрыт.")
        if row.status == "in_progress" and row.lease_expires_at and row.lease_expires_at > now:
            raise DeskError(409, "Бот сейчас звонит по этому перезвону; дождитесь итога звонка.")
        row.status = CALLBACK_CLOSE[result]
        row.result = result
        row.note = note.strip() or None
        row.handled_at, row.handled_by = now, actor.name
        row.lease_owner = row.lease_expires_at = None
        details = {"result": result, "note": row.note}
        audit(s, actor.name, "callback.closed", "callback", callback_id, details, actor.remote_addr)
