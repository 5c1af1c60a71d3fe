"""The values the NLU hands to the dialogue runtime: entities and the parse result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from voicebot.values import json_value


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
