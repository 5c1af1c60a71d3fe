from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from voicebot.nlu.extract import extract_entities
from voicebot.nlu.normalize import tokenize
from voicebot.nlu.result import ParseResult
from voicebot.settings import PROJECT_ROOT

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2024, 11, 12, 14, 0, tzinfo=MSK)  # a Tuesday
SCENARIOS = PROJECT_ROOT / "scenarios"


def entities(text: str, now: datetime = NOW, preference: str = "future") -> ParseResult:
    """Entities only (no classifier), wrapped in a ParseResult for `last`."""
    found = extract_entities(text, tokenize(text), now=now, date_preference=preference)  # type: ignore[arg-type]
    return ParseResult(text, None, 0.0, found, [])


def last(text: str, kind: str, **kwargs: object) -> object:
    item = entities(text, **kwargs).last(kind)  # type: ignore[arg-type]
    return None if item is None else item.value
