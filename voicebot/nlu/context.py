"""State shared by the extractors while one utterance is parsed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from voicebot.nlu.normalize import Token
from voicebot.nlu.numerals import Group
from voicebot.nlu.result import Entity

DatePreference = Literal["future", "past"]


@dataclass
class Context:
    text: str
    tokens: list[Token]
    now: datetime
    date_preference: DatePreference = "future"
    # Entity types the dialogue step asks for: they make the parsers read ambiguous words their way.
    expected_entities: frozenset[str] = frozenset()
    used: set[int] = field(default_factory=set)  # token indices already inside an entity
    entities: list[Entity] = field(default_factory=list)
    runs: list[list[Group]] = field(default_factory=list)  # spoken numbers, filled by numbers.build_runs

    def free(self, i: int) -> bool:
        return 0 <= i < len(self.tokens) and i not in self.used

    def emit(self, entity: str, value: Any, first: int, last: int, role: str | None = None) -> Entity:
        """Record an entity spanning tokens[first..last] and mark those tokens used."""
        start, end = self.tokens[first].start, self.tokens[last].end
        item = Entity(entity, value, start, end, self.text[start:end], role)
        self.entities.append(item)
        self.used.update(range(first, last + 1))
        return item

    def lemma_at(self, i: int) -> str:
        return self.tokens[i].lemma if 0 <= i < len(self.tokens) else ""

    def text_at(self, i: int) -> str:
        return self.tokens[i].text if 0 <= i < len(self.tokens) else ""

    def lemmas_before(self, i: int, window: int) -> list[str]:
        return [t.lemma for t in self.tokens[max(0, i - window) : i]]

    def lemmas_after(self, i: int, window: int) -> list[str]:
        return [t.lemma for t in self.tokens[i + 1 : i + 1 + window]]
