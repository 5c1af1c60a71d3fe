"""Conversation test cases (scenarios/<name>/tests/*.yml): loading them and opening their dialogues.

The same cases drive the pytest conversation tests and `voicebot bench dialogue`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from voicebot.db.session import Database
from voicebot.dialogue.library import FlowLibrary
from voicebot.dialogue.runtime import Dialogue
from voicebot.dialogue.session import open_dialogue
from voicebot.nlu import NLU
from voicebot.settings import Settings


@dataclass(frozen=True)
class Case:
    scenario: str
    data: dict[str, Any]
    path: Path

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def caller(self) -> list[str]:
        return list(self.data["caller"])


def load_cases(scenarios_dir: Path) -> list[Case]:
    cases = []
    for path in sorted(scenarios_dir.glob("*/tests/*.yml")):
        for data in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            cases.append(Case(path.parent.parent.name, data, path))
    return cases


async def open_case(
    case: Case, *, db: Database, settings: Settings, nlu: NLU, library: FlowLibrary
) -> Dialogue:
    return await open_dialogue(
        db=db,
        settings=settings,
        nlu=nlu,
        library=library,
        scenario=case.scenario,
        phone=case.data.get("phone"),
        variables={k: str(v) for k, v in (case.data.get("vars") or {}).items()},
        now=datetime.fromisoformat(case.data["now"]),
        direction=case.data.get("direction"),
    )
