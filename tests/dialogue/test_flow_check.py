"""`voicebot scenarios check` catches broken flows before a resident hears them."""

from pathlib import Path

import pytest

from voicebot.dialogue.flow import FlowError, load_flow
from voicebot.dialogue.library import FlowLibrary
from voicebot.settings import PROJECT_ROOT

GOOD_HEAD = """
name: demo
direction: [inbound]
outcomes: [hangup]
start: ask
steps:
"""


def _flow(tmp_path: Path, steps: str, head: str = GOOD_HEAD) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "flow.yml").write_text(head + steps, encoding="utf-8")
    return tmp_path


def _problems(tmp_path: Path, steps: str) -> list[str]:
    folder = _flow(tmp_path, steps)
    return FlowLibrary({"demo": load_flow(folder / "demo")}).check()


def test_shipped_scenarios_are_valid():
    library = FlowLibrary.load(PROJECT_ROOT / "scenarios")
    assert {
        "meter_readings",
        "debt_reminder",
        "nps_survey",
        "visit_warning",
        "request_intake",
        "announcement",
    } <= set(library.flows)


def test_unknown_step_is_reported(tmp_path):
    problems = _problems(
        tmp_path,
        """
  ask:
    prompt: Да или нет?
    handler: yes_no
    results: {yes: done, no: nowhere}
  done:
    end: hangup
""",
    )
    assert any("unknown step 'nowhere'" in p for p in problems)


def test_unknown_action_is_reported(tmp_path):
    problems = _problems(tmp_path, "  ask:\n    action: launch_rockets\n    next: ask\n")
    assert any("unknown action 'launch_rockets'" in p for p in problems)


def test_template_variable_nobody_provides(tmp_path):
    problems = _problems(tmp_path, "  ask:\n    say: Ваш долг {{ secret_amount|money }}\n    end: hangup\n")
    assert any("no one provides secret_amount" in p for p in problems)


def test_unknown_formatter_and_outcome(tmp_path):
    problems = _problems(tmp_path, "  ask:\n    say: '{{ company|shout }}'\n    end: exploded\n")
    assert any("shout" in p and "demo.ask" in p for p in problems)
    assert any("outcome 'exploded'" in p for p in problems)


def test_unmapped_action_result(tmp_path):
    problems = _problems(
        tmp_path,
        "  ask:\n    prompt: Да?\n    handler: yes_no\n    results: {yes: done}\n  done:\n    end: hangup\n",
    )
    assert any("result(s) no of 'yes_no' lead nowhere" in p for p in problems)


def test_structural_errors_raise(tmp_path):
    with pytest.raises(FlowError, match="unknown key"):
        load_flow(_flow(tmp_path, "  ask:\n    sya: привет\n    end: hangup\n") / "demo")


def test_yaml_error_names_the_file(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "flow.yml").write_text("steps: [unclosed", encoding="utf-8")
    with pytest.raises(FlowError, match="not valid YAML"):
        load_flow(folder)
