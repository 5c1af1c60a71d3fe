"""The Jinja2 environment of the UI: templates folder, filters for times, numbers and code names."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from voicebot.web.labels import label, reason

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def local_time(value: Any, zone: str = "Europe/Moscow", pattern: str = "%d.%m.%Y %H:%M") -> str:
    moment = _as_datetime(value)
    if moment is None:
        return "—"
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(zone))
    return moment.strftime(pattern)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def offset(ms: int | None) -> str:
    if ms is None:
        return "—"
    seconds = ms // 1000
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def cell(value: Any, zone: str = "Europe/Moscow") -> str:
    """A record's value for a table cell: times in the company's zone, empty values as a dash."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return local_time(value, zone, "%d.%m.%Y %H:%M")
    return str(value)


templates.env.filters.update(
    label=label, local_time=local_time, percent=percent, offset=offset, cell=cell, reason=reason
)


def _telephony_problems(request: Request) -> list[str]:
    health = getattr(request.app.state, "telephony_health", None)
    return health.problems if health is not None else []


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    settings = request.app.state.settings
    base = {
        "user": getattr(request.state, "web_user", None),
        "tz": settings.default_timezone,
        "company": settings.company_name,
        "telephony_problems": _telephony_problems(request),
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
