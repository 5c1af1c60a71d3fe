"""The embedded NLU: normalisation, rule-based entities and the intent classifier, in process."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

from voicebot.nlu.classifier import IntentClassifier, cache_key, load_or_train
from voicebot.nlu.context import DatePreference
from voicebot.nlu.extract import extract_entities
from voicebot.nlu.lexicon import takes_back_before
from voicebot.nlu.normalize import Token, content_tokens, tokenize
from voicebot.nlu.result import Entity, ParseResult
from voicebot.nlu.training_data import Example, load_examples, nlu_files

# Intents that work in every step: said clearly, they beat whatever the step expects.
GLOBAL_INTENTS = frozenset(
    {"operator", "repeat", "goodbye", "are_you_robot", "wrong_number", "callback_later", "wait"}
)
# Entities replaced by a placeholder before classification, so «двести пятнадцать» and «сорок два»
# look the same to the classifier.
_PLACEHOLDERS = frozenset({"number", "digits", "money", "date", "time", "score", "address", "person"})
_PAST_INTENTS = frozenset({"already_paid", "owner_changed"})
_EXPECTED_BOOST = 3.0
_OTHER_DAMPING = 0.3
_EXPECTED_THRESHOLD_FACTOR = 0.6
_TOP = 5
_TRAINING_NOW = datetime(2024, 11, 12, 12, 0, tzinfo=UTC)


def classifier_doc(tokens: list[Token], entities: list[Entity]) -> str:
    """ "lemmas with placeholders<TAB>surface words": what the classifier sees."""
    covered: dict[int, str] = {}
    for entity in entities:
        if entity.entity in _PLACEHOLDERS:
            for tok in tokens:
                if entity.start <= tok.start and tok.end <= entity.end:
                    covered.setdefault(tok.index, f"_{entity.entity}_")
    lemmas: list[str] = []
    surface: list[str] = []
    for tok in content_tokens(tokens):
        mark = covered.get(tok.index)
        if mark is None:
            lemmas.append(tok.lemma)
            surface.append(tok.text)
        elif not lemmas or lemmas[-1] != mark:
            lemmas.append(mark)
            surface.append("0")
    return " ".join(lemmas) + "\t" + " ".join(surface)


class EmbeddedNLU:
    def __init__(
        self, scenarios_dir: Path, *, cache_dir: Path | None = None, threshold: float = 0.45
    ) -> None:
        self.scenarios_dir = scenarios_dir
        self.cache_dir = cache_dir
        self.threshold = threshold
        self._model: IntentClassifier | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> IntentClassifier:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._train()
        return self._model

    def _train(self) -> IntentClassifier:
        sources = [*nlu_files(self.scenarios_dir), *Path(__file__).parent.glob("*.py")]
        return load_or_train(cache_key(sources), self.cache_dir, self._training_docs)

    def _training_docs(self) -> tuple[list[Example], list[str]]:
        examples = load_examples(self.scenarios_dir)
        docs = []
        for example in examples:
            tokens = tokenize(example.text)
            docs.append(classifier_doc(tokens, extract_entities(example.text, tokens, now=_TRAINING_NOW)))
        return examples, docs

    def warm_up(self) -> None:
        """Train (or load) the classifier and load the dictionaries now instead of at the first call."""
        _ = self.model
        tokenize("да")

    async def parse(
        self,
        text: str,
        *,
        now: datetime,
        expected_intents: Collection[str] | None = None,
        date_preference: DatePreference = "future",
        expected_entities: Collection[str] | None = None,
    ) -> ParseResult:
        if self._model is None:
            await asyncio.to_thread(self.warm_up)
        return self.parse_sync(
            text,
            now=now,
            expected_intents=expected_intents,
            date_preference=date_preference,
            expected_entities=expected_entities,
        )

    def parse_sync(
        self,
        text: str,
        *,
        now: datetime,
        expected_intents: Collection[str] | None = None,
        date_preference: DatePreference = "future",
        expected_entities: Collection[str] | None = None,
    ) -> ParseResult:
        if not isinstance(text, str):
            raise TypeError("text must be a string")
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware (the resident's local time)")
        tokens = tokenize(text)
        entities = extract_entities(
            text, tokens, now=now, date_preference=date_preference, expected_entities=expected_entities or ()
        )
        if not tokens:
            return ParseResult(text, None, 0.0, entities, [])
        short = short_answer(tokens)
        if short is not None:
            return ParseResult(text, short, 1.0, entities, [(short, 1.0)])
        ranking = self.model.predict(classifier_doc(tokens, entities))
        ranking = rerank(ranking, expected_intents)
        intent, confidence = ranking[0]
        limit = self.threshold
        if expected_intents and intent in expected_intents:
            limit *= _EXPECTED_THRESHOLD_FACTOR
        chosen = intent if confidence >= limit else None
        if (
            chosen in _PAST_INTENTS
            and date_preference == "future"
            and any(e.entity == "date" for e in entities)
        ):
            # «заплатила пятого», «продали в августе»: a payment or a sale already happened
            entities = extract_entities(
                text, tokens, now=now, date_preference="past", expected_entities=expected_entities or ()
            )
        chosen = _take_back(text, chosen, entities)
        if chosen == "report_problem" and not any(e.entity == "problem" for e in entities):
            entities = [*entities, Entity("problem", "other", 0, len(text), text)]
        return ParseResult(text, chosen, confidence, entities, ranking[:_TOP])


_NEGATION = re.compile(r"\b(нет|неа|не)\b")


def _take_back(text: str, chosen: str | None, entities: list[Entity]) -> str | None:
    """«ой, не то, четыреста пять» opens by taking back what was said: a denial bringing the value that
    replaces it. «четыреста, ой, нет, четыреста десять» corrects itself within the answer: a value."""
    numbers = [e for e in entities if e.entity == "number"]
    if not numbers or chosen not in ("inform", "deny", None):
        return chosen
    if takes_back_before(text, numbers[0].start):
        return "deny"
    if chosen == "deny" and len(numbers) > 1 and not _NEGATION.search(text[: numbers[0].start].lower()):
        return "inform"
    return chosen


# Replies too short for the classifier to weigh, whose meaning does not depend on the step: «я», «ну я»,
# «он самый» to «Вы — Иван Петрович?» confirm identity (never a wrong number).
_SELF_WORDS = frozenset({"я", "самый", "самая", "слушаю", "слушать"})
_SHORT_AFFIRM_WORDS = _SELF_WORDS | frozenset(
    {"да", "ну", "ага", "угу", "это", "он", "она", "вас", "так", "а", "и", "есть", "точно", "говорите"}
)


def short_answer(tokens: list[Token]) -> str | None:
    words = [t.text for t in tokens]
    if len(words) <= 5 and set(words) <= _SHORT_AFFIRM_WORDS and set(words) & _SELF_WORDS:
        return "affirm"
    return None


def rerank(ranking: list[tuple[str, float]], expected: Collection[str] | None) -> list[tuple[str, float]]:
    """Favour the step's expected intents; global intents keep their weight, the rest are damped."""
    if not expected:
        return ranking
    weighted = []
    for name, prob in ranking:
        if name in expected:
            weight = _EXPECTED_BOOST
        elif name in GLOBAL_INTENTS:
            weight = 1.0
        else:
            weight = _OTHER_DAMPING
        weighted.append((name, prob * weight))
    total = sum(p for _, p in weighted) or 1.0
    return sorted(((n, p / total) for n, p in weighted), key=lambda item: item[1], reverse=True)
