"""The API's paging parameters; the pages themselves are built by `voicebot.services.paging`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from voicebot.services.paging import MAX_LIMIT, PageParams


def page_params(
    limit: int = Query(50, ge=1, le=MAX_LIMIT, description="Items per page"),
    offset: int = Query(0, ge=0, le=10_000_000, description="Items to skip"),
) -> PageParams:
    return PageParams(limit, offset)


RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Row id")]
