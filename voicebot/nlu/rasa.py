"""Rasa as the external NLU: an adapter for a Rasa server's `/model/parse` and a project exporter.

Entities Rasa does not return (for example spoken numbers, when its pipeline has no extractor for them)
are filled in by the embedded extractors, so the dialogue sees the same entity types either way.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx
import yaml

from voicebot.nlu import NLUUnavailable
from voicebot.nlu.context import DatePreference
from voicebot.nlu.embedded import rerank
from voicebot.nlu.extract import extract_entities, order_entities
from voicebot.nlu.normalize import tokenize
from voicebot.nlu.result import Entity, ParseResult
from voicebot.nlu.training_data import load_examples

log = logging.getLogger(__name__)

ENTITY_TYPES = (
    "number", "digits", "money", "date", "time", "score", "school_grade", "resource", "location",
    "address", "person", "problem",
)  # fmt: skip
_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


class RasaNLU:
    def __init__(
        self, url: str, http_client: httpx.AsyncClient | None = None, threshold: float = 0.45
    ) -> None:
        self.url = url.rstrip("/")
        self._client = http_client
        self.threshold = threshold

    async def parse(
        self,
        text: str,
        *,
        now: datetime,
        expected_intents: Collection[str] | None = None,
        date_preference: DatePreference = "future",
        expected_entities: Collection[str] | None = None,
    ) -> ParseResult:
        payload = await self._post(text)
        return self.to_result(
            text,
            payload,
            now=now,
            expected_intents=expected_intents,
            date_preference=date_preference,
            expected_entities=expected_entities,
        )

    async def _post(self, text: str) -> dict[str, Any]:
        endpoint = f"{self.url}/model/parse"
        try:
            if self._client is not None:
                response = await self._client.post(endpoint, json={"text": text}, timeout=_TIMEOUT)
            else:
                async with httpx.AsyncClient(timeout=_TIMEOUT) as client:
                    response = await client.post(endpoint, json={"text": text})
        except httpx.HTTPError as exc:
            raise NLUUnavailable(f"Rasa server at {self.url} unreachable: {exc!r}") from exc
        if response.status_code != 200:
            raise NLUUnavailable(f"Rasa server answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise NLUUnavailable("Rasa server answered something that is not JSON") from exc
        if not isinstance(payload, dict):
            raise NLUUnavailable("Rasa server answered JSON that is not an object")
        return payload

    def to_result(
        self,
        text: str,
        payload: dict[str, Any],
        *,
        now: datetime,
        expected_intents: Collection[str] | None = None,
        date_preference: DatePreference = "future",
        expected_entities: Collection[str] | None = None,
    ) -> ParseResult:
        """Map Rasa's documented response onto ParseResult, topping entities up with ours."""
        ranking = _ranking(payload)
        ranking = rerank(ranking, expected_intents) if ranking else ranking
        intent, confidence = ranking[0] if ranking else (None, 0.0)
        limit = self.threshold * (0.6 if expected_intents and intent in expected_intents else 1.0)
        theirs = [e for e in (_entity(text, raw) for raw in payload.get("entities") or []) if e is not None]
        returned = {e.entity for e in theirs}
        ours = extract_entities(
            text,
            tokenize(text),
            now=now,
            date_preference=date_preference,
            expected_entities=expected_entities or (),
        )
        merged = order_entities(theirs + [e for e in ours if e.entity not in returned])
        return ParseResult(text, intent if confidence >= limit else None, confidence, merged, ranking[:5])


def _ranking(payload: dict[str, Any]) -> list[tuple[str, float]]:
    ranking = [
        (str(item["name"]), float(item.get("confidence") or 0.0))
        for item in payload.get("intent_ranking") or []
        if isinstance(item, dict) and item.get("name")
    ]
    top = payload.get("intent") or {}
    if not ranking and isinstance(top, dict) and top.get("name"):
        ranking = [(str(top["name"]), float(top.get("confidence") or 0.0))]
    return sorted(ranking, key=lambda item: item[1], reverse=True)


def _entity(text: str, raw: Any) -> Entity | None:
    if not isinstance(raw, dict) or "entity" not in raw:
        return None
    start, end = int(raw.get("start", 0)), int(raw.get("end", 0))
    value = raw.get("value")
    if raw["entity"] in ("number", "money") and isinstance(value, str | int | float):
        value = _to_number(value)
    return Entity(str(raw["entity"]), value, start, end, text[start:end], raw.get("role"))


def _to_number(value: str | int | float) -> int | Decimal | str:
    try:
        number = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        return str(value)
    return int(number) if number == number.to_integral_value() else number


def export_rasa(directory: Path, scenarios_dir: Path | None = None) -> list[Path]:
    """Write a Rasa 3 project (data/nlu.yml, domain.yml, config.yml) from the scenarios' examples."""
    if scenarios_dir is None:
        from voicebot.settings import get_settings

        scenarios_dir = get_settings().scenarios_dir
    examples = load_examples(scenarios_dir)
    by_intent: dict[str, list[str]] = {}
    for example in examples:
        bucket = by_intent.setdefault(example.intent, [])
        if example.annotated not in bucket:
            bucket.append(example.annotated)
    nlu_text = 'version: "3.1"\nnlu:\n' + "".join(
        f"- intent: {intent}\n  examples: |\n" + "".join(f"    - {line}\n" for line in lines)
        for intent, lines in sorted(by_intent.items())
    )
    domain = {"version": "3.1", "intents": sorted(by_intent), "entities": list(ENTITY_TYPES)}
    config = {
        "recipe": "default.v1",
        "language": "ru",
        "assistant_id": "voicebot",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "RegexFeaturizer"},
            {"name": "LexicalSyntacticFeaturizer"},
            {"name": "CountVectorsFeaturizer"},
            {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5},
            {"name": "DIETClassifier", "epochs": 100, "constrain_similarities": True},
            {"name": "EntitySynonymMapper"},
            {"name": "FallbackClassifier", "threshold": 0.45},
        ],
        "policies": [],
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "data").mkdir(exist_ok=True)
    written = [directory / "data" / "nlu.yml", directory / "domain.yml", directory / "config.yml"]
    written[0].write_text(nlu_text, encoding="utf-8")
    written[1].write_text(yaml.safe_dump(domain, allow_unicode=True, sort_keys=False), encoding="utf-8")
    written[2].write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    log.info("rasa project exported", extra={"dir": str(directory), "intents": len(by_intent)})
    return written
