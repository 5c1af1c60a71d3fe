"""The Jinja2 environment of the UI: templates folder, filters for times, numbers and code names."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from voicebot.dialogue.categories import categories_for
from voicebot.web.labels import (
    RECORD_CODES,
    RECORD_COLUMN_CODES,
    TABLES,
    any_label,
    count,
    label,
    plural,
    telephony_part,
)

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


def category_labels(settings: Any) -> dict[str, str]:
    """Ticket category code → its Russian name from the request category table (the one intake uses)."""
    try:
        return {code: category.label for code, category in categories_for(settings).items()}
    except (OSError, ValueError):
        return {}


@pass_context
def label_filter(context: Any, code: object, table: str) -> str:
    if table == "category" and code:
        request = context.get("request")
        names = category_labels(request.app.state.settings) if request is not None else {}
        return names.get(str(code), str(code))
    return label(code, table)


MONEY_COLUMNS = {"amount", "debt"}  # records carry money as JSON numbers (values.json_value)


@pass_context
def record_cell(context: Any, value: Any, column: str, kind: str, zone: str = "Europe/Moscow") -> str:
    """A value of a record a call wrote: codes as Russian names, yes/no, nested data as «ключ: значение»."""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, dict):
        shown = {k: v for k, v in value.items() if v not in (None, "", [], {})}
        return "; ".join(f"{label(k, 'column')}: {_detail(v, zone)}" for k, v in shown.items()) or "—"
    if column in MONEY_COLUMNS and isinstance(value, int | float):  # a JSON number: show the kopecks
        return f"{value:.2f}"
    table = RECORD_CODES.get((kind, column)) or RECORD_COLUMN_CODES.get(column)
    if table is not None and value not in (None, ""):
        if isinstance(table, dict):
            return table.get(str(value), str(value))
        return label_filter(context, value, table)
    return cell(value, zone)


def _detail(value: Any, zone: str) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return any_label(value) if isinstance(value, str) else cell(value, zone)


def duration(seconds: Any) -> str:
    """Seconds as «1 мин 05 с» / «42 с»; a dash when unknown."""
    if seconds is None or seconds == "":
        return "—"
    total = int(float(seconds))
    if total < 60:
        return f"{total} с"
    hours, rest = divmod(total, 3600)
    if hours:
        return f"{hours} ч {rest // 60:02d} мин"
    return f"{rest // 60} мин {rest % 60:02d} с"


def masked(phone: Any) -> str:
    """A phone with its middle hidden, for screens other people may see: +7916•••4501."""
    text = str(phone or "")
    if len(text) < 8:
        return text or "—"
    return text[:5] + "•••" + text[-4:]


templates.env.filters.update(
    label=label_filter,
    local_time=local_time,
    percent=percent,
    offset=offset,
    cell=cell,
    plural=lambda n, one, few, many: plural(n, one, few, many),
    count=lambda n, one, few, many: count(n, one, few, many),
    duration=duration,
    record_cell=record_cell,
    who=lambda actor: str(actor or "—").removeprefix("web:").removeprefix("key:"),
    masked=masked,
    telephony_part=telephony_part,
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
        "tables": TABLES,
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
