"""One audit line per action a person takes from the desk, written in the action's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from voicebot.db.models import AuditEntry


def audit(
    session: AsyncSession,
    actor: str,
    action: str,
    object_type: str,
    object_id: object,
    details: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            details=details or {},
            remote_addr=(remote_addr or "")[:64] or None,
        )
    )
