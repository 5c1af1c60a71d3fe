"""Limit/offset pagination: every list answers {items, total, limit, offset}."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot.values import json_value

MAX_LIMIT = 1000


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


class Page(BaseModel):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


async def paginate(session: AsyncSession, query: Select, params: PageParams, order_by: Any) -> Page:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.scalars(query.order_by(*order_by).limit(params.limit).offset(params.offset))
    return Page(items=[to_dict(r) for r in rows], total=total or 0, limit=params.limit, offset=params.offset)


def to_dict(row: Any) -> dict[str, Any]:
    """A mapped row as a JSON-ready dict of its columns (`values.json_value`: money and other decimals as
    JSON numbers, times ISO, UUIDs as text)."""
    return {c.key: json_value(getattr(row, c.key)) for c in row.__table__.columns}


def rows_of(result: Any) -> list[dict[str, Any]]:
    """The rows of a raw SQL result as JSON-ready dicts."""
    return [{k: json_value(v) for k, v in row._mapping.items()} for row in result.all()]


def like_pattern(words: str) -> str:
    """ILIKE pattern for «contains these words»: the user's % and _ match themselves."""
    return "%" + words.strip().replace("%", r"\%").replace("_", r"\_") + "%"
