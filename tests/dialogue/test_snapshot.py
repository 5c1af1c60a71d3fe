"""A dialogue kept between turns (MAX conversations across restarts) continues exactly as one that never
left memory: every conversation test case runs with a snapshot → JSON → restore after every turn."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from voicebot.demo import load_demo_data
from voicebot.dialogue.casefiles import Case, load_cases, open_case
from voicebot.dialogue.context import CallerInput
from voicebot.dialogue.snapshot import restore, snapshot
from voicebot.dialogue.store import DialogueStore
from voicebot.settings import PROJECT_ROOT


def _cases() -> list[Any]:
    return [pytest.param(c, id=f"{c.scenario}:{c.name}") for c in load_cases(PROJECT_ROOT / "scenarios")]


@pytest.mark.parametrize("case_file", _cases())
async def test_conversation_survives_a_snapshot_after_every_turn(db, settings, library, nlu, case_file: Case):
    await load_demo_data(db)
    for setup in case_file.data.get("setup", []):
        async with db.transaction() as session:
            await session.execute(text(setup))
    dialogue = await open_case(case_file, db=db, settings=settings, nlu=nlu, library=library)
    turn = await dialogue.start()
    lines = iter(case_file.caller)
    while not turn.end:
        kept = json.loads(json.dumps(snapshot(dialogue)))  # what the database holds: plain JSON
        dialogue = restore(kept, library=library, store=DialogueStore(db), nlu=nlu, settings=settings)
        line = next(lines, None)
        turn = await dialogue.respond(CallerInput("hangup") if line is None else CallerInput.parse_line(line))
    assert dialogue.ctx.outcome == case_file.data["outcome"]
    for kind, expected in (case_file.data.get("records") or {}).items():
        assert len(dialogue.ctx.records[kind]) == len(expected), kind
