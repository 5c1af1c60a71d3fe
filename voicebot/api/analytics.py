"""/api/v1/analytics: summary and time series (computed by `voicebot.services.analytics`)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from voicebot.api.access import authorize
from voicebot.api.results import time_range
from voicebot.services import analytics
from voicebot.services.calls import TimeRange

router = APIRouter(prefix="/analytics", tags=["analytics"], dependencies=[Depends(authorize)])


@router.get("/summary", name="analytics_summary", summary="Calls, success per scenario, NPS, SLA compliance")
async def analytics_summary(
    request: Request,
    span: TimeRange = Depends(time_range),
    tz: str = Query("Europe/Moscow", max_length=64, description="Zone of the by-hour histogram"),
) -> dict[str, Any]:
    return await analytics.summary(request.app.state.db, span, tz)


@router.get("/timeseries", name="analytics_timeseries", summary="Calls per hour or day, split by a dimension")
async def analytics_timeseries(
    request: Request,
    span: TimeRange = Depends(time_range),
    interval: Literal["hour", "day"] = "day",
    by: Literal["scenario", "outcome", "direction"] = "scenario",
    scenario: str | None = Query(None, max_length=64),
    tz: str = Query("Europe/Moscow", max_length=64),
) -> dict[str, Any]:
    return await analytics.timeseries(request.app.state.db, span, interval, by, scenario, tz)
