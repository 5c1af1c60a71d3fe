"""`voicebot bench dialogue`: the engine's turn time — text in, reply out, database writes included.

Replays the conversation tests of every scenario (scenarios/*/tests/*.yml) against the demo company and
times each `Dialogue.respond` call (NLU, actions, Postgres reads and committed writes, turn logging).
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from typing import Any

from voicebot.demo import load_demo_data
from voicebot.dialogue.casefiles import load_cases, open_case
from voicebot.dialogue.context import CallerInput
from voicebot.dialogue.library import FlowLibrary
from voicebot.nlu import create_nlu


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def bench_dialogue(db, settings, rounds: int) -> dict[str, Any]:
    await load_demo_data(db)
    library = FlowLibrary.load(settings.scenarios_dir)
    nlu = create_nlu(settings)
    await nlu.parse("прогрев", now=datetime.now().astimezone())  # train or load the classifier first
    turns: list[float] = []
    conversations = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for case in load_cases(settings.scenarios_dir):
            if case.data.get("setup"):  # cases that prepare rows by SQL are for tests only
                continue
            dialogue = await open_case(case, db=db, settings=settings, nlu=nlu, library=library)
            await dialogue.start()
            for line in case.caller:
                if dialogue.finished:
                    break
                t0 = time.perf_counter()
                await dialogue.respond(CallerInput.parse_line(line))
                turns.append((time.perf_counter() - t0) * 1000)
            if not dialogue.finished:
                await dialogue.respond(CallerInput("hangup"))
            conversations += 1
    wall = time.perf_counter() - started
    return {
        "conversations": conversations,
        "turns": len(turns),
        "turn_ms": {
            "p50": round(statistics.median(turns), 2),
            "p95": round(_percentile(turns, 0.95), 2),
            "p99": round(_percentile(turns, 0.99), 2),
            "max": round(max(turns), 2),
        },
        "turns_per_second": round(len(turns) / wall, 1),
    }
