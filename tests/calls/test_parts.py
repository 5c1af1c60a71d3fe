"""The small parts of the voice channel: keypad collection, grammars, the call registry, admission."""

from __future__ import annotations

import uuid

import pytest

from voicebot.calls.admission import Admission
from voicebot.calls.dtmf import DtmfCollector
from voicebot.calls.grammar import grammar_for
from voicebot.calls.registry import CallRegistry


def test_dtmf_hash_ends_and_pause_ends() -> None:
    keys = DtmfCollector(inter_digit_timeout=2.0)
    assert keys.press("#", 0.0) is None  # nothing typed: '#' alone is no answer
    assert keys.press("1", 0.0) is None and keys.press("2", 1.0) is None
    assert keys.deadline == 3.0 and keys.expired(2.9) is None
    assert keys.press("#", 1.5) == "12" and not keys.pending
    keys.press("7", 10.0)
    assert keys.expired(12.0) == "7" and keys.deadline is None


def test_grammar_only_for_closed_questions() -> None:
    assert grammar_for(()) is None and grammar_for(("address",)) is None
    digits = grammar_for(("digits",))
    assert digits is not None and "семь" in digits and "оператор" in digits
    assert len(digits) == len(set(digits))
    assert "да" in grammar_for(("yes_no",)) and "запятая" in grammar_for(("numbers",))


def test_registry_claims_once_and_expires() -> None:
    now = [0.0]
    registry = CallRegistry(ttl=10, clock=lambda: now[0])
    first, second = uuid.uuid4(), uuid.uuid4()
    registry.announce(str(first), "meter_readings", "+79990000001", {"account": "1"}, "outbound", 3, 4)
    registry.announce(second, "nps_survey")
    assert registry.is_announced(first) and len(registry) == 2
    taken = registry.claim(first)
    assert (
        taken.scenario == "meter_readings" and taken.campaign_id == 3 and taken.variables == {"account": "1"}
    )
    assert registry.claim(first) is None
    now[0] = 11
    assert not registry.is_announced(second) and len(registry) == 0
    with pytest.raises(ValueError):
        registry.announce(uuid.uuid4(), "x", direction="sideways")  # type: ignore[arg-type]


def test_admission_counts_slots() -> None:
    admission = Admission(1)
    with admission.slot() as first:
        assert first and admission.full
        with admission.slot() as second:
            assert not second and admission.active == 1
    assert admission.active == 0
