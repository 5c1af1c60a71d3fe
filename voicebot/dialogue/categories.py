"""The request category table: priority, deadline rule, responsible, what to tell the caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from voicebot.rules import add_working_days
from voicebot.settings import Settings

WORKDAY_END = time(18, 0)


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    priority: str
    deadline: dict[str, Any]
    responsible: str
    advice: str = ""
    crew: str = ""
    quality: bool = False

    @property
    def emergency(self) -> bool:
        return self.priority == "emergency"

    def due(self, registered: datetime) -> datetime:
        rule = self.deadline
        if "from" in rule:
            return _within_hours(registered, timedelta(hours=rule.get("hours", 0)), rule["from"], rule["to"])
        if "working_days" in rule:
            day = add_working_days(registered.date(), int(rule["working_days"]))
            return datetime.combine(day, WORKDAY_END, tzinfo=registered.tzinfo)
        return registered + timedelta(
            minutes=rule.get("minutes", 0), hours=rule.get("hours", 0), days=rule.get("days", 0)
        )


def _within_hours(registered: datetime, span: timedelta, start: str, end: str) -> datetime:
    """Count `span` only inside daily hours [start, end) — e.g. rubbish chutes are cleared 08:00–23:00."""
    opens, closes = time.fromisoformat(start), time.fromisoformat(end)
    moment = registered
    remaining = span
    for _ in range(30):
        day_open = datetime.combine(moment.date(), opens, tzinfo=moment.tzinfo)
        day_close = datetime.combine(moment.date(), closes, tzinfo=moment.tzinfo)
        if moment < day_open:
            moment = day_open
        if moment >= day_close:
            moment = day_open + timedelta(days=1)
            continue
        if moment + remaining <= day_close:
            return moment + remaining
        remaining -= day_close - moment
        moment = day_open + timedelta(days=1)
    raise ValueError("deadline beyond 30 days")


def _parse(raw: dict[str, Any], source: Path) -> dict[str, Category]:
    categories = {}
    for code, spec in (raw.get("categories") or {}).items():
        try:
            categories[code] = Category(
                code=code,
                label=spec["label"],
                priority=spec.get("priority", "routine"),
                deadline=dict(spec["deadline"]),
                responsible=spec.get("responsible", ""),
                advice=spec.get("advice", ""),
                crew=spec.get("crew", ""),
                quality=bool(spec.get("quality", False)),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{source}: category {code!r}: missing or bad field {exc}") from None
        if categories[code].priority not in ("emergency", "routine"):
            raise ValueError(f"{source}: category {code!r}: priority is emergency or routine")
    return categories


@lru_cache(maxsize=8)
def load_categories(default_file: Path, override: Path | None = None) -> dict[str, Category]:
    table = _parse(yaml.safe_load(default_file.read_text(encoding="utf-8")), default_file)
    if override is not None:
        table.update(_parse(yaml.safe_load(override.read_text(encoding="utf-8")), override))
    if "other" not in table:
        raise ValueError("the category table needs an 'other' category")
    return table


def categories_for(settings: Settings) -> dict[str, Category]:
    """The table shipped with request_intake, overridden by VOICEBOT_TICKET_CATEGORIES_FILE."""
    return load_categories(
        settings.scenarios_dir / "request_intake" / "categories.yml", settings.ticket_categories_file
    )
