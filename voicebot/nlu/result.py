"""The values the NLU hands to the dialogue runtime: entities and the parse result."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Entity:
    entity: str  # type name: number, digits, money, date, time, score, school_grade, resource, ...
    value: Any
    start: int  # char offsets into the ORIGINAL text
    end: int
    text: str  # the surface text
    role: str | None = None


@dataclass(frozen=True)
class ParseResult:
    text: str
    intent: str | None  # None = not understood (below threshold)
    confidence: float
    entities: list[Entity] = field(default_factory=list)
    ranking: list[tuple[str, float]] = field(default_factory=list)  # top intents, best first

    def last(self, entity: str) -> Entity | None:
        """The value the bot must use: entities are ordered so that corrections come last."""
        for item in reversed(self.entities):
            if item.entity == entity:
                return item
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": {"name": self.intent, "confidence": round(self.confidence, 4)},
            "entities": [entity_to_json(e) for e in self.entities],
            "intent_ranking": [{"name": name, "confidence": round(conf, 4)} for name, conf in self.ranking],
        }


def json_value(value: Any) -> Any:
    """Entity values as JSON: whole numbers as int, decimals as float, dates ISO, times HH:MM."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def entity_to_json(entity: Entity) -> dict[str, Any]:
    out: dict[str, Any] = {
        "entity": entity.entity,
        "value": json_value(entity.value),
        "start": entity.start,
        "end": entity.end,
    }
    if entity.role is not None:
        out["role"] = entity.role
    return out
