"""API keys: `vb_<prefix>_<secret>`; only sha256(secret) is stored, the prefix finds the row."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

from voicebot.db.models import ROLES, ApiKey, WebSession
from voicebot.db.session import Database

KEY_PREFIX = "vb"


@dataclass(frozen=True)
class Principal:
    key_id: int
    name: str
    role: str

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}:{self.name}"


@dataclass(frozen=True)
class NewKey:
    id: int
    key: str  # shown once
    prefix: str
    role: str
    name: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    parts = key.strip().split("_")
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


async def create_key(db: Database, role: str, name: str = "") -> NewKey:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32).replace("_", "-")
    async with db.transaction() as s:
        row = ApiKey(name=name or f"{role} key", prefix=prefix, key_hash=_hash(secret), role=role)
        s.add(row)
        await s.flush()
        key_id = row.id
    return NewKey(key_id, f"{KEY_PREFIX}_{prefix}_{secret}", prefix, role, row.name)


async def verify_key(db: Database, key: str) -> Principal | None:
    """The key's principal, or None for malformed, unknown, wrong or revoked keys."""
    parts = split_key(key)
    if parts is None:
        return None
    prefix, secret = parts
    async with db.session() as s:
        row = await s.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _hash(secret)):
        return None
    return Principal(row.id, row.name, row.role)


async def touch_key(db: Database, key_id: int) -> None:
    async with db.transaction() as s:
        await s.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=datetime.now(UTC)))


async def list_keys(db: Database) -> list[ApiKey]:
    async with db.session() as s:
        return list(await s.scalars(select(ApiKey).order_by(ApiKey.id)))


async def revoke_key(db: Database, key_id: int) -> bool:
    async with db.transaction() as s:
        result = await s.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        # its UI sessions end with it (the session check also looks at the key; this records when)
        await s.execute(
            update(WebSession)
            .where(WebSession.key_id == key_id, WebSession.ended_at.is_(None))
            .values(ended_at=datetime.now(UTC))
        )
    return result.rowcount > 0
