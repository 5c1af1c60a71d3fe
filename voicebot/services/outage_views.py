"""An outage as staff see it (API and UI): the row, its buildings, posts, reach and calls avoided."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from voicebot.db.models import AuditEntry, Outage
from voicebot.db.session import Database
from voicebot.services.outages import Building, OutageService


async def outage_view(service: OutageService, outage: Outage) -> dict[str, Any]:
    reach = await service.reach(outage)
    calls = await service.calls_avoided(outage)
    posts = await service.posts(outage.id)
    now = datetime.now(UTC)
    return {
        "id": outage.id,
        "title": outage.title,
        "message": outage.message,
        "buildings": [
            {"street": b.street, "house": b.house, "label": Building(b.street, b.house).label}
            for b in outage.buildings
        ],  # fmt: skip
        "starts_at": outage.starts_at,
        "ends_at": outage.ends_at,
        "ended_at": outage.ended_at,
        "active": outage.ended_at is None
        and outage.starts_at <= now
        and (outage.ends_at is None or outage.ends_at > now),
        "created_by": outage.created_by,
        "reach": {
            "chats": reach.chats,
            "chat_members": reach.chat_members,
            "failed_chats": reach.failed_chats,
            "phone_callers": reach.phone_callers,
            "residents": reach.residents,
        },
        "calls": {"during": calls.during, "before": calls.before, "avoided": calls.avoided},
        "posts": [
            {
                "chat_id": p.chat_id,
                "state": p.state,
                "members": p.members,
                "error": p.error,
                "updated_at": p.updated_at,
            }
            for p in posts
        ],
    }


async def audit(
    db: Database, actor: str, action: str, object_id: Any, details: dict[str, Any], addr: str
) -> None:
    """Who declared, changed or ended an outage or remapped a house chat (API keys and UI sessions alike)."""
    async with db.transaction() as s:
        s.add(AuditEntry(actor=actor, action=action, object_type=action.split(".")[0], object_id=str(object_id),
                         details=details, remote_addr=addr[:64]))  # fmt: skip


def parse_buildings(text: str) -> list[Building]:
    """One building a line: «Гагарина, 15», «ул. Мира, д. 8»; a street alone means the whole street."""
    found = []
    for line in text.splitlines():
        street, _, house = line.partition(",")
        if street.strip():
            found.append(Building(street.strip(), house.strip() or None))
    return found
