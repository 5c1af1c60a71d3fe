from pathlib import Path

import yaml

from tests.nlu.conftest import SCENARIOS
from voicebot.nlu.embedded import EmbeddedNLU
from voicebot.nlu.evaluation import evaluate
from voicebot.nlu.normalize import normalized_text, tokenize
from voicebot.nlu.training_data import load_examples

TESTSET = Path(__file__).with_name("testset.yml")
COLLOQUIAL = Path(__file__).with_name("testset_colloquial.yml")
# The company card and office appointments (MAX issue 17) keep their cases in their own file.
SERVICE_DESK = Path(__file__).with_name("testset_service_desk.yml")
DOMAIN_INTENTS = {
    "affirm", "deny", "repeat", "operator", "goodbye", "dont_know", "wait", "are_you_robot", "callback_later",
    "wrong_number", "already_paid", "owner_changed", "promise_to_pay", "refuse", "submit_readings",
    "report_problem", "ask_status", "leave_message", "reschedule", "someone_else_home", "inform", "greet", "thanks",
    "ask_office_hours", "ask_contacts", "ask_emergency_phone", "book_appointment", "cancel_appointment",
}  # fmt: skip
ENTITY_TYPES = {"number", "digits", "money", "date", "time", "score", "school_grade", "resource", "location",
                "address", "person", "problem"}  # fmt: skip


def _cases(*paths: Path) -> list[dict]:
    return [
        c
        for p in paths or (TESTSET, COLLOQUIAL, SERVICE_DESK)
        for c in yaml.safe_load(p.read_text(encoding="utf-8"))["cases"]
    ]


def test_training_data_covers_exactly_the_inventory() -> None:
    assert {e.intent for e in load_examples(SCENARIOS)} == DOMAIN_INTENTS


def test_testset_is_big_and_covers_everything() -> None:
    cases = _cases()
    assert len(cases) >= 800
    assert len(_cases(COLLOQUIAL)) >= 200
    assert {c["intent"] for c in cases} == DOMAIN_INTENTS
    assert {kind for c in cases for kind in (c.get("entities") or {})} == ENTITY_TYPES


def test_testset_does_not_overlap_training() -> None:
    def key(text: str) -> str:
        return normalized_text(tokenize(text))

    training = {key(e.text) for e in load_examples(SCENARIOS)}
    overlap = [c["text"] for c in _cases() if key(c["text"]) in training]
    assert overlap == []


def test_accuracy_bars(nlu: EmbeddedNLU) -> None:
    report = evaluate(nlu, TESTSET, COLLOQUIAL, SERVICE_DESK)
    assert report.intent_accuracy >= 0.97, report.to_json()["intent_errors"]
    assert report.entity_accuracy >= 0.97, report.to_json()["entity_errors"]
