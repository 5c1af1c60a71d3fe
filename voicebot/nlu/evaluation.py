"""Scores the embedded NLU against a labelled test set (tests/nlu/testset.yml).

A case is intent-correct when the chosen intent equals the expected one, and entity-correct when the
value of the last entity of every type equals the expected value and no other type was returned.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from voicebot.nlu.embedded import EmbeddedNLU
from voicebot.nlu.result import ParseResult
from voicebot.values import json_value


@dataclass
class CaseOutcome:
    text: str
    expected_intent: str
    intent: str | None
    expected_entities: dict[str, Any]
    entities: dict[str, Any]

    @property
    def intent_ok(self) -> bool:
        return self.intent == self.expected_intent

    @property
    def entities_ok(self) -> bool:
        return _same(self.entities, self.expected_entities)


@dataclass
class Report:
    outcomes: list[CaseOutcome] = field(default_factory=list)

    @property
    def intent_accuracy(self) -> float:
        return sum(o.intent_ok for o in self.outcomes) / max(1, len(self.outcomes))

    @property
    def entity_accuracy(self) -> float:
        return sum(o.entities_ok for o in self.outcomes) / max(1, len(self.outcomes))

    def per_intent(self) -> dict[str, dict[str, float]]:
        total: Counter[str] = Counter(o.expected_intent for o in self.outcomes)
        correct: Counter[str] = Counter(o.expected_intent for o in self.outcomes if o.intent_ok)
        predicted: Counter[str] = Counter(o.intent or "None" for o in self.outcomes)
        table = {}
        for name in sorted(total):
            precision = correct[name] / predicted[name] if predicted[name] else 0.0
            table[name] = {
                "support": total[name],
                "recall": correct[name] / total[name],
                "precision": precision,
            }
        return table

    def per_entity(self) -> dict[str, dict[str, int | float]]:
        """Per entity type: cases expecting it, exact values, wrong values, missed and spurious ones."""
        table: dict[str, dict[str, int | float]] = {}
        for o in self.outcomes:
            for kind in set(o.expected_entities) | set(o.entities):
                row = table.setdefault(
                    kind, {"support": 0, "exact": 0, "wrong": 0, "missed": 0, "spurious": 0}
                )
                if kind not in o.expected_entities:
                    row["spurious"] += 1
                    continue
                row["support"] += 1
                if kind not in o.entities:
                    row["missed"] += 1
                elif _same(o.entities[kind], o.expected_entities[kind]):
                    row["exact"] += 1
                else:
                    row["wrong"] += 1
        for row in table.values():
            row["exact_rate"] = round(row["exact"] / row["support"], 4) if row["support"] else 0.0
        return dict(sorted(table.items()))

    def confusions(self) -> list[dict[str, Any]]:
        """Expected → chosen intent pairs that differ, most frequent first."""
        pairs = Counter((o.expected_intent, o.intent or "None") for o in self.outcomes if not o.intent_ok)
        return [{"expected": e, "got": g, "count": n} for (e, g), n in pairs.most_common()]

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": len(self.outcomes),
            "intent_accuracy": round(self.intent_accuracy, 4),
            "entity_exact_match": round(self.entity_accuracy, 4),
            "per_intent": self.per_intent(),
            "per_entity": self.per_entity(),
            "confusions": self.confusions(),
            "intent_errors": [
                {"text": o.text, "expected": o.expected_intent, "got": o.intent}
                for o in self.outcomes
                if not o.intent_ok
            ],
            "entity_errors": [
                {"text": o.text, "expected": o.expected_entities, "got": o.entities}
                for o in self.outcomes
                if not o.entities_ok
            ],
        }


def _same(got: Any, expected: Any) -> bool:
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(_same(got[k], expected[k]) for k in expected)
    if isinstance(expected, int | float) and isinstance(got, int | float) and not isinstance(got, bool):
        return abs(float(got) - float(expected)) < 1e-9
    return got == expected


def last_values(result: ParseResult) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for entity in result.entities:
        values[entity.entity] = json_value(entity.value)
    return values


def load_cases(path: Path) -> tuple[datetime | None, list[dict[str, Any]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise ValueError(f"{path}: expected a mapping with a 'cases' list")
    default_now = _parse_now(data["now"]) if data.get("now") else None
    return default_now, data["cases"]


def _parse_now(value: Any) -> datetime:
    now = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if now.tzinfo is None:
        raise ValueError(f"'now' must carry a UTC offset: {value}")
    return now


def evaluate(nlu: EmbeddedNLU, *paths: Path) -> Report:
    report = Report()
    for path in paths:
        _evaluate_file(nlu, path, report)
    return report


def _evaluate_file(nlu: EmbeddedNLU, path: Path, report: Report) -> None:
    default_now, cases = load_cases(path)
    for case in cases:
        now = _parse_now(case["now"]) if case.get("now") else default_now
        if now is None:
            raise ValueError(f"case {case.get('text')!r} has no 'now' and the file no default")
        result = nlu.parse_sync(
            str(case["text"]),
            now=now,
            expected_intents=case.get("expected_intents"),
            date_preference=case.get("date_preference", "future"),
            expected_entities=case.get("expected_entities"),
        )
        report.outcomes.append(
            CaseOutcome(
                text=str(case["text"]),
                expected_intent=str(case["intent"]),
                intent=result.intent,
                expected_entities=case.get("entities") or {},
                entities=last_values(result),
            )
        )
