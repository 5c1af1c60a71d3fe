"""What a journal entry does in PostgreSQL: named operations, each applied inside one transaction.

Modules that own a kind of record export a mapping of op name → function; the composition root merges
them (`merge`) and hands the result to the writer and the replayer, so no import side effect decides
which operations exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

ApplyFn = Callable[[AsyncSession, dict[str, Any]], Awaitable[Any]]
Ops = Mapping[str, ApplyFn]


def merge(*tables: Ops) -> dict[str, ApplyFn]:
    merged: dict[str, ApplyFn] = {}
    for table in tables:
        clash = set(merged) & set(table)
        if clash:
            raise ValueError(f"journal operations defined twice: {', '.join(sorted(clash))}")
        merged.update(table)
    return merged
