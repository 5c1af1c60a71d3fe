"""Every conversation test in scenarios/*/tests/*.yml runs through the text channel against the demo
company: the resident's lines in order, then the outcome and the records the call wrote."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from voicebot.demo import load_demo_data
from voicebot.dialogue.casefiles import Case, load_cases, open_case
from voicebot.dialogue.text_channel import converse
from voicebot.settings import PROJECT_ROOT

SCENARIOS = PROJECT_ROOT / "scenarios"


def _cases() -> list[Any]:
    return [pytest.param(case, id=f"{case.scenario}:{case.name}") for case in load_cases(SCENARIOS)]


async def _lines(lines: list[str]):
    for line in lines:
        yield line


def _matches(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    for key, value in expected.items():
        got = actual.get(key)
        if isinstance(value, float | int) and isinstance(got, float | int):
            if abs(float(value) - float(got)) > 1e-9:
                return False
        elif isinstance(value, str) and isinstance(got, str) and value.endswith("*"):
            if not got.startswith(value[:-1]):
                return False
        elif got != value:
            return False
    return True


@pytest.mark.parametrize("case_file", _cases())
async def test_conversation(db, settings, library, nlu, case_file: Case) -> None:
    await load_demo_data(db)
    for setup in case_file.data.get("setup", []):
        async with db.transaction() as session:
            await session.execute(text(setup))
    dialogue = await open_case(case_file, db=db, settings=settings, nlu=nlu, library=library)
    case = case_file.data
    events: list[dict[str, Any]] = []
    final = await converse(dialogue, _lines(case_file.caller), events.append)
    said = " ".join(e.get("bot", "") for e in events if "bot" in e)
    transcript = "\n".join(f"БОТ: {e.get('display')}" for e in events if "bot" in e)
    assert final["outcome"] == case["outcome"], transcript
    for kind, expected_records in (case.get("records") or {}).items():
        actual = final["records"][kind]
        assert len(actual) == len(expected_records), f"{kind}: {actual}\n{transcript}"
        for expected in expected_records:
            assert any(_matches(expected, a) for a in actual), (
                f"{kind}: {expected} not in {actual}\n{transcript}"
            )
    for phrase in case.get("bot_says", []):
        assert phrase.lower() in said.lower(), f"bot never said {phrase!r}\n{transcript}"
    for phrase in case.get("bot_never_says", []):
        assert phrase.lower() not in said.lower(), f"bot said {phrase!r}\n{transcript}"
