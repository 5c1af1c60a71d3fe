"""Golden files, one per formatter of the bot's speech (tests/tts/golden/*.yml: `in` → `out`).

Set VOICEBOT_UPDATE_GOLDEN=1 to rewrite the expected values from the current code (then review the diff).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from voicebot.dialogue.templates import render
from voicebot.tts.verbalize import say_date, say_money, say_number, say_ordinal, say_time, verbalize

GOLDEN = Path(__file__).with_name("golden")


def _template(spec: dict[str, Any]) -> str:
    return render(spec["template"], spec.get("vars") or {}, today=date(2025, 11, 10))[0]


FORMATTERS: dict[str, Callable[[Any], str]] = {
    "number": lambda args: say_number(*args),
    "ordinal": lambda args: say_ordinal(*args),
    "money": lambda args: say_money(*args),
    "date": lambda args: say_date(args[0], case=args[1]),
    "time": lambda args: say_time(*args),
    "verbalize": verbalize,
    "templates": _template,
}


def test_every_golden_file_has_a_formatter() -> None:
    assert {p.stem for p in GOLDEN.glob("*.yml")} == set(FORMATTERS)


@pytest.mark.parametrize("name", sorted(FORMATTERS))
def test_golden(name: str) -> None:
    path = GOLDEN / f"{name}.yml"
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    got = [FORMATTERS[name](case["in"]) for case in cases]
    if os.environ.get("VOICEBOT_UPDATE_GOLDEN") == "1":
        header = "".join(
            line + "\n" for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")
        )
        body = yaml.safe_dump(
            [{"in": c["in"], "out": g} for c, g in zip(cases, got, strict=True)],
            allow_unicode=True,
            sort_keys=False,
        )
        path.write_text(header + body, encoding="utf-8")
        return
    mismatches = [(c["in"], c["out"], g) for c, g in zip(cases, got, strict=True) if c["out"] != g]
    assert mismatches == [], "\n".join(f"{i!r}: expected {e!r}, got {g!r}" for i, e, g in mismatches)
