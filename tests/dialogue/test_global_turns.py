"""Every global turn at every listening step of every scenario, generated from the flows.

The resident's lines of the conversation tests (scenarios/*/tests/*.yml) are replayed to find, for each
step that asks something, the shortest way to reach it; then each global turn is said there and what
the caller must get is checked: an operator, the question again, the bot waiting, a callback at the time
named in the same sentence, the end of the call with what was already given kept, and — on outbound
calls — no promise or SMS after a dispute or a change of owner. A step nobody reaches fails the test,
so a new step needs a conversation test that gets to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import empty_tables
from voicebot.db.session import Database
from voicebot.demo import load_demo_data
from voicebot.dialogue.casefiles import Case, load_cases, open_case
from voicebot.dialogue.context import CallerInput
from voicebot.dialogue.library import FlowLibrary
from voicebot.dialogue.runtime import BotTurn, Dialogue
from voicebot.dialogue.session import default_direction
from voicebot.settings import PROJECT_ROOT

SCENARIOS = PROJECT_ROOT / "scenarios"
# Steps whose answer is taken as is, whatever it says (a voice message is recorded, not understood).
VERBATIM_STEPS = {("request_intake", "voice_message")}


@dataclass(frozen=True)
class Place:
    """How to reach a listening step: a conversation case and how many of its lines to say first."""

    case: Case
    lines: int


@dataclass
class Run:
    dialogue: Dialogue
    before: BotTurn  # the bot's turn that asked the step's question
    records_before: dict[str, int]
    turn: BotTurn | None = None

    @property
    def records(self) -> dict[str, list[dict[str, Any]]]:
        return self.dialogue.ctx.records

    def grew(self, kind: str) -> list[dict[str, Any]]:
        return self.records[kind][self.records_before[kind] :]


_dirty: set[Database] = set()


async def _prepare(case: Case, db: Database) -> None:
    """The demo company plus this case's own setup rows.

    Cases' setups may disagree (two company cards, the same office slot booked or free), so a case with
    setup, and any case after one, starts from the demo data again."""
    statements = case.data.get("setup", [])
    if not statements and db not in _dirty:
        return
    await empty_tables(db)
    await load_demo_data(db)
    for statement in statements:
        async with db.transaction() as session:
            await session.execute(text(statement))
    if statements:
        _dirty.add(db)
    else:
        _dirty.discard(db)


async def _start(case: Case, lines: int, *, db, settings, nlu, library) -> tuple[Dialogue, BotTurn]:
    await _prepare(case, db)
    dialogue = await open_case(case, db=db, settings=settings, nlu=nlu, library=library)
    turn = await dialogue.start()
    for line in case.caller[:lines]:
        turn = await dialogue.respond(CallerInput.parse_line(line))
    return dialogue, turn


_PLACES: dict[str, dict[str, Place]] = {}  # scenario → step → place; one walk for all the scenarios


async def _places(scenario: str, *, db, settings, nlu, library) -> dict[str, Place]:
    """The first way each listening step of `scenario` is reached in the conversation tests.

    One walk through every conversation test finds the places of every scenario at once (a case may
    reach another flow's steps: the router hands over); the walk is the same whichever scenario asks
    first, so it runs once per test session."""
    if _PLACES:
        return _PLACES.get(scenario, {})
    found: dict[str, dict[str, Place]] = {}
    # Cases that add rows (an outage, earlier calls) go last, so the others run on the demo data alone.
    for case in sorted(load_cases(SCENARIOS), key=lambda c: bool(c.data.get("setup"))):
        await _prepare(case, db)
        dialogue = await open_case(case, db=db, settings=settings, nlu=nlu, library=library)
        turn = await dialogue.start()
        for k in range(len(case.caller) + 1):
            if turn.end:
                break
            if turn.step:
                found.setdefault(dialogue.ctx.flow.name, {}).setdefault(turn.step, Place(case, k))
            if k < len(case.caller):
                turn = await dialogue.respond(CallerInput.parse_line(case.caller[k]))
    _PLACES.update(found)
    return found.get(scenario, {})


def _listening_steps(library: FlowLibrary, scenario: str) -> list[str]:
    flow = library.get(scenario)
    return [
        name
        for name, step in flow.steps.items()
        if step.listens and not name.startswith("common_") and (scenario, name) not in VERBATIM_STEPS
    ]


# --- what each global turn must do -----------------------------------------------------------------


def _still_asking(run: Run) -> list[str]:
    turn = run.turn
    assert turn is not None
    problems = []
    if turn.end:
        problems.append(f"call ended ({turn.outcome})")
    elif turn.step != run.before.step:
        problems.append(f"moved to step {turn.step}")
    return problems


def check_operator(run: Run) -> list[str]:
    turn = run.turn
    assert turn is not None
    return (
        [] if turn.end and turn.outcome == "transferred" and turn.transfer else [f"no transfer: {turn.text}"]
    )


def check_repeat(run: Run) -> list[str]:
    turn = run.turn
    assert turn is not None
    problems = _still_asking(run)
    if turn.text != run.before.text:
        problems.append(f"said {turn.text!r} instead of repeating {run.before.text!r}")
    return problems


def check_robot(run: Run) -> list[str]:
    turn = run.turn
    assert turn is not None
    problems = _still_asking(run)
    if "робот" not in turn.text.lower():
        problems.append(f"did not say it is a robot: {turn.text!r}")
    if "Здравствуйте" in turn.text:
        problems.append("repeated the greeting")
    return problems


def check_wait(run: Run) -> list[str]:
    turn = run.turn
    assert turn is not None
    problems = _still_asking(run)
    if "подожду" not in turn.text:
        problems.append(f"did not wait: {turn.text!r}")
    return problems


def _kept(run: Run) -> list[str]:
    lost = [k for k, n in run.records_before.items() if len(run.records[k]) < n and k != "promises"]
    return [f"lost {', '.join(lost)}"] if lost else []


def check_goodbye(run: Run) -> list[str]:
    turn = run.turn
    assert turn is not None
    # Said while a request is being registered («соседи открывают?»), the bot still finishes registering
    # it and tells its number: that counts as keeping what was given.
    registered = bool(run.grew("tickets"))
    ended = turn.end and turn.outcome != "transferred"
    problems = [] if ended or registered else [f"did not end: {turn.text!r}"]
    return problems + _kept(run)


def check_callback(run: Run) -> list[str]:
    turn = run.turn
    assert turn is not None
    problems = _kept(run)
    if not run.grew("callbacks"):
        problems.append(f"no callback scheduled: {turn.text!r}")
    if not turn.end:
        problems.append(f"asked again instead of using the time said: {turn.text!r}")
    if run.grew("promises"):
        problems.append("recorded a promise")
    return problems


def _no_promise_or_sms(run: Run) -> list[str]:
    problems = []
    if run.records["promises"]:
        problems.append(f"a promise stands: {run.records['promises']}")
    if [t for t in run.grew("tasks") if t.get("kind") == "sms"]:
        problems.append("sent an SMS")
    return problems


def check_owner_changed(run: Run) -> list[str]:
    turn = run.turn
    assert turn is not None
    problems = _no_promise_or_sms(run)
    if turn.end:
        tasks = [t.get("kind") for t in run.grew("tasks")]
        if "owner_update" not in tasks:
            problems.append(f"no owner_update task: {tasks}")
    elif turn.step not in ("owner_changed_when",):
        problems.append(f"went on with {turn.step}: {turn.text!r}")
    return problems


def check_dispute(run: Run) -> list[str]:
    turn = run.turn
    assert turn is not None
    problems = _no_promise_or_sms(run)
    if not turn.end or turn.outcome != "refused":
        problems.append(f"not handed to a human as a dispute: {turn.outcome} {turn.text!r}")
    elif "debt_dispute" not in [t.get("kind") for t in run.grew("tasks")]:
        problems.append("no dispute task")
    return problems


def check_wrong_person(run: Run) -> list[str]:
    turn = run.turn
    assert turn is not None
    problems = _no_promise_or_sms(run)
    if not turn.end and turn.step != "verify_wrong":
        problems.append(f"went on with {turn.step}: {turn.text!r}")
    if turn.end and turn.outcome == "transferred":
        problems.append("transferred instead of ending")
    return problems


@dataclass(frozen=True)
class GlobalTurn:
    name: str
    says: str
    check: Callable[[Run], list[str]]
    outbound_only: bool = False
    scenarios: tuple[str, ...] = ()  # only these scenarios (empty: all)


TURNS = [
    GlobalTurn("operator", "дайте, пожалуйста, живого оператора", check_operator),
    GlobalTurn("repeat", "что-что? повторите, пожалуйста", check_repeat),
    GlobalTurn("robot", "а это вообще кто, робот?", check_robot),
    GlobalTurn("wait", "секундочку, очки возьму", check_wait),
    GlobalTurn("goodbye", "ой, всё, спасибо, всего доброго", check_goodbye),
    GlobalTurn("callback", "мне сейчас неудобно, перезвоните завтра в десять утра", check_callback),
    GlobalTurn("owner_changed", "да я эту квартиру продал, я там не живу", check_owner_changed, True),
    GlobalTurn("wrong_person", "вы ошиблись номером, нет тут таких", check_wrong_person, True),
    GlobalTurn(
        "dispute", "я с этим долгом не согласна, ничего не должна", check_dispute, True, ("debt_reminder",)
    ),
]


def _applies(turn: GlobalTurn, scenario: str, case: Case, library: FlowLibrary) -> bool:
    if turn.scenarios and scenario not in turn.scenarios:
        return False
    direction = case.data.get("direction") or default_direction(library, case.scenario)
    return not turn.outbound_only or direction == "outbound"


def _claimed_softly(library: FlowLibrary, scenario: str, step: str, turn: GlobalTurn) -> bool:
    """A step that asks for "repeat", "wait" or "goodbye" itself answers them its own way (the announcement
    repeats the message, not the whole prompt); the safety turns are checked everywhere."""
    intent = {"repeat": "repeat", "wait": "wait", "goodbye": "goodbye", "robot": "are_you_robot"}.get(
        turn.name
    )
    return intent is not None and intent in library.get(scenario).step(step).expect_intents


SCENARIO_NAMES = sorted(
    p.name for p in SCENARIOS.iterdir() if (p / "flow.yml").is_file() and any((p / "tests").glob("*.yml"))
)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
async def test_global_turns_at_every_step(db, settings, library, nlu, scenario: str) -> None:
    await load_demo_data(db)
    env = {"db": db, "settings": settings, "nlu": nlu, "library": library}
    places = await _places(scenario, **env)
    unreached = [s for s in _listening_steps(library, scenario) if s not in places]
    assert unreached == [], f"{scenario}: no conversation test reaches {unreached}"
    failures: list[str] = []
    checked = 0
    for step, place in sorted(places.items()):
        if (scenario, step) in VERBATIM_STEPS or step.startswith("common_"):
            continue
        for turn in TURNS:
            if not _applies(turn, scenario, place.case, library) or _claimed_softly(
                library, scenario, step, turn
            ):
                continue
            dialogue, before = await _start(place.case, place.lines, **env)
            run = Run(dialogue, before, {k: len(v) for k, v in dialogue.ctx.records.items()})
            run.turn = await dialogue.respond(CallerInput("text", turn.says))
            checked += 1
            for problem in turn.check(run):
                failures.append(f"{scenario}.{step} / {turn.name}: {problem}")
    assert checked > 0
    assert failures == [], "\n".join(failures)
