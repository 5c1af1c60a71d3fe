"""The dashboard: today at a glance, then charts of a chosen period (from the analytics service)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from voicebot.services import analytics, campaign_view
from voicebot.services.calls import TimeRange
from voicebot.web import charts, periods
from voicebot.web.auth import WebUser, area
from voicebot.web.errors import UiRoute
from voicebot.web.templating import render

router = APIRouter(route_class=UiRoute)


def _days(period: periods.Period) -> dict[str, str]:
    return {"from": period.first.isoformat(), "to": period.last.isoformat()}


async def _summary(request: Request, period: periods.Period, tz: str) -> dict[str, Any]:
    span = TimeRange(since=period.since, until=period.until)
    return await analytics.summary(request.app.state.db, span, tz)


async def _figures(
    request: Request, period: periods.Period, summary: dict[str, Any], tz: str
) -> dict[str, Any]:
    span = TimeRange(since=period.since, until=period.until)
    series = await analytics.timeseries(request.app.state.db, span, "hour", "direction", None, tz)
    days = _days(period)
    return {
        "hours": charts.hours_by_direction(series["points"], days),
        "outcomes": charts.outcomes_by_scenario(summary["calls"]["by_scenario"], days),
        "success": charts.success_rates(summary["success"], days),
        "nps": charts.nps_distribution(summary["nps"]),
        "answer": charts.answer_times(summary["calls"]["answer_time"]),
    }


@router.get("/dashboard", name="ui_dashboard", response_class=HTMLResponse, include_in_schema=False)
async def dashboard(
    request: Request,
    period: str = Query("today", max_length=16),
    date_from: str | None = Query(None, alias="from", max_length=20),
    date_to: str | None = Query(None, alias="to", max_length=20),
    user: WebUser = Depends(area("dashboard")),
) -> HTMLResponse:
    tz = request.app.state.settings.default_timezone
    today = periods.choose("today", None, None, tz)
    error = None
    try:
        chosen = periods.choose(period, date_from, date_to, tz)
    except periods.PeriodError as exc:
        error, chosen = str(exc), today
    today_summary = await _summary(request, today, tz)
    summary = today_summary if chosen == today else await _summary(request, chosen, tz)
    figures = await _figures(request, chosen, summary, tz) if summary["calls"]["total"] else None
    unanswered = await campaign_view.unanswered_attempts(request.app.state.db, chosen.since, chosen.until)
    unanswered_today = (
        unanswered
        if chosen == today
        else await campaign_view.unanswered_attempts(request.app.state.db, today.since, today.until)
    )
    return render(
        request,
        "dashboard.html",
        {
            "today": today_summary,
            "summary": summary,
            "period": chosen,
            "presets": periods.PRESETS,
            "figures": figures,
            "unanswered": unanswered,
            "unanswered_today": unanswered_today,
            "calls_query": urlencode(_days(chosen)),
            "auto_refresh": chosen.preset == "today" or chosen.last >= today.first,
            "flash": error,
            "flash_kind": "error",
        },
    )
