"""The dialogue runtime: runs a scenario flow over any channel, one caller turn at a time.

A channel calls `start()` once and then `respond(CallerInput)` for each thing the caller does; each call
returns a `BotTurn` — everything the bot says before it listens again — until `turn.end`. The runtime
handles what every scenario shares: asking again on silence and on not understanding, then escalating;
the global intents (operator, repeat, "are you a robot", wait, goodbye, and for outbound calls wrong
number and "call me later"); and keeping the call row and its turns in Postgres.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voicebot.dialogue.actions.registry import get_action
from voicebot.dialogue.context import CallerInput, DialogueContext, Utterance
from voicebot.dialogue.flow import GLOBAL_INTENTS, Flow, Prompt, Step
from voicebot.dialogue.library import FlowLibrary
from voicebot.logs import call_id_var
from voicebot.nlu import Entity, ParseResult

log = logging.getLogger(__name__)

MAX_TRANSITIONS = 64
_STRONG_GLOBALS = frozenset({"operator", "wrong_number", "owner_changed"})
# «перезвоните завтра» is a callback wherever it is said; «давайте завтра в девять» may answer the step.
_SOFT_GLOBALS = frozenset({"repeat", "are_you_robot", "wait", "callback_later"})
_CALL_VERB = re.compile(r"звон|набер|набир|звяк")

COMMON_TEXTS = {
    "robot": "Это виртуальный помощник управляющей компании «{{ company }}», я робот. Разговор записывается.",
    "wait": "Хорошо, я подожду.",
    "silence_again": "Вас не слышно.",
    "not_understood": "Извините, не поняла.",
    "silence_end": "Вас не слышно. Перезвоните, пожалуйста, когда будет удобно. До свидания!",
    "fail_transfer": "Не получается понять вас. Соединяю со специалистом.",
    "operator": "Соединяю со специалистом, оставайтесь на линии.",
    "goodbye": "Всего доброго, до свидания!",
    "wrong_number": "Извините за беспокойство. Больше не будем звонить на этот номер. До свидания!",
}


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_INTRODUCTION = re.compile(
    r"^(здравствуйте|добрый|доброе|алло|это (управляющая|автоматический|расчётный|аварийно)|"
    r"разговор записывается|я виртуальный)",
    re.I,
)


def without_greeting(text: str) -> str:
    """A prompt without its opening greeting and introduction sentences (kept when nothing else is left)."""
    sentences = _SENTENCE_END.split(text)
    k = 0
    while k < len(sentences) - 1 and _INTRODUCTION.match(sentences[k]):
        k += 1
    return " ".join(sentences[k:])


@dataclass
class BotTurn:
    utterances: list[Utterance]
    step: str | None
    listen: bool
    end: bool = False
    outcome: str | None = None
    transfer: str | None = None
    expect_intents: tuple[str, ...] = ()
    expect_entities: tuple[str, ...] = ()
    asr_hints: tuple[str, ...] = ()
    dtmf: bool = False
    understood: dict[str, Any] | None = None
    elapsed_ms: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(u.text for u in self.utterances)

    @property
    def display(self) -> str:
        return " ".join(u.display for u in self.utterances)


@dataclass
class _StepState:
    no_input: int = 0
    no_match: int = 0


@dataclass
class Dialogue:
    library: FlowLibrary
    ctx: DialogueContext
    awaiting: Step | None = None
    states: dict[str, _StepState] = field(default_factory=dict)
    last_turn: list[Utterance] = field(default_factory=list)
    turn_seq: int = 0
    # Voice channels set this to the recording's current position, so bot turns get offsets too.
    offset_clock: Callable[[], int | None] | None = None
    _pending_turns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def flow(self) -> Flow:
        return self.ctx.flow

    @property
    def finished(self) -> bool:
        return self.ctx.finished

    # --- channel interface ----------------------------------------------------------------------------

    async def start(self, step: str | None = None) -> BotTurn:
        started = time.perf_counter()
        token = call_id_var.set(str(self.ctx.call.call_id))
        try:
            await self.ctx.store.create_call(self.ctx.call, self.flow.name)
            entry = step or self.flow.start.get(self.ctx.call.start_direction)
            if not entry:
                raise ValueError(f"scenario {self.flow.name} has no {self.ctx.call.direction} start step")
            await self._run(entry)
            return await self._turn(started)
        finally:
            call_id_var.reset(token)

    async def respond(self, caller: CallerInput) -> BotTurn:
        started = time.perf_counter()
        token = call_id_var.set(str(self.ctx.call.call_id))
        try:
            if self.finished:
                return await self._turn(started)
            self.ctx.input = caller
            if caller.kind == "hangup":
                await self._finish_hangup()
                return await self._turn(started)
            if caller.kind == "silence":
                self.ctx.parse = None
                self._note_caller(caller, None)
                await self._on_silence()
                return await self._turn(started)
            parse = await self._understand(caller)
            self.ctx.parse = parse
            self._note_caller(caller, parse)
            await self._on_answer(parse)
            return await self._turn(started)
        finally:
            call_id_var.reset(token)

    # --- understanding ----------------------------------------------------------------------------------

    async def _understand(self, caller: CallerInput) -> ParseResult:
        step = self.awaiting
        if caller.kind == "dtmf":
            digits = "".join(ch for ch in caller.text if ch.isdigit())
            entities = [Entity("digits", digits, 0, len(caller.text), caller.text)] if digits else []
            return ParseResult(caller.text, "inform", 1.0, entities, [("inform", 1.0)])
        return await self.ctx.nlu.parse(
            caller.text,
            now=self.ctx.now,
            expected_intents=step.expect_intents if step else None,
            date_preference=step.date_preference if step else "future",  # type: ignore[arg-type]
            expected_entities=step.expect_entities if step else None,
        )

    def _claims(self, step: Step, intent: str | None) -> bool:
        return intent is not None and intent in step.expect_intents

    # --- turn handling ----------------------------------------------------------------------------------

    async def _on_answer(self, parse: ParseResult) -> None:
        step = self.awaiting
        if step is None:
            return
        intent = parse.intent
        target = self._scenario_global(step, intent)
        if target is not None:
            # «квартиру продали», «не согласна с долгом» at any step: the scenario's branch for it wins
            # over whatever the step was asking, so no promise or SMS follows a dispute.
            await self._enter(target)
            return
        is_global = intent in GLOBAL_INTENTS and not self._claims(step, intent)
        # A human, a callback, a wrong number or a new owner win at once; "repeat", "robot?" and "wait"
        # unless the answer carries what the step asks for ("щас… ноль семь, двадцать три" answers, it does
        # not ask to wait); "goodbye" only when the step cannot use the answer (it may mean "no, that's all").
        strong = (
            intent in _STRONG_GLOBALS or intent == "callback_later" and _CALL_VERB.search(parse.text.lower())
        )
        first = strong or (intent in _SOFT_GLOBALS and not self._has_expected(step, parse))
        if is_global and first and await self._global(intent, step):  # type: ignore[arg-type]
            return
        result = await self._handle(step)
        if result is None and is_global and await self._global(intent, step):  # type: ignore[arg-type]
            return
        if result is None:
            await self._on_no_match(step)
            return
        self._state(step).no_match = 0
        await self._after_action(step, result)

    async def _handle(self, step: Step) -> str | None:
        if step.handler:
            return await self._call_action(step.handler)
        intent = self.ctx.intent
        if intent and intent in step.results:
            return intent
        for name in step.expect_entities:
            if self.ctx.entity(name) is not None and name in step.results:
                return name
        return None

    def _scenario_global(self, step: Step, intent: str | None) -> str | None:
        """The step a scenario's `global:` map sends this intent to, unless the step asks for it."""
        targets = self.flow.global_turns
        if intent is None or intent not in targets or self._claims(step, intent):
            return None
        target = targets[intent]
        return None if target == step.name else target

    async def _enter(self, name: str) -> None:
        """Go to a step (a `replay` step first tries the answer just given, see `_replayed`)."""
        await self._run(name)

    async def _replayed(self, step: Step) -> bool:
        """A `replay` step entered right after an answer first tries that answer («перезвоните завтра в
        три» → the callback is set, not asked for); True when the answer was enough."""
        if not (step.replay and step.handler and self.ctx.parse is not None and self.ctx.input is not None):
            return False
        self.awaiting = step
        # Read the answer again as this step would (its date preference and expected entities).
        parse = await self._understand(self.ctx.input)
        if not self._has_expected(step, parse):
            self.awaiting = None
            return False
        self.ctx.parse = parse
        self.states[step.name] = _StepState()
        result = await self._handle(step)
        if result is None:
            self.awaiting = None
            return False
        await self._after_action(step, result)
        return True

    @staticmethod
    def _has_expected(step: Step, parse: ParseResult) -> bool:
        return any(e.entity in step.expect_entities and e.role != "rejected" for e in parse.entities)

    async def _global(self, intent: str, step: Step) -> bool:
        """Handle an intent every scenario shares; False when it does not apply here."""
        if intent == "repeat":
            self.ctx.output.extend(self.last_turn or [])
            self._listen_again(step, say_prompt=not self.last_turn)
            return True
        if intent == "are_you_robot":
            # «А кто это?»: who is calling, then the question again in its short form — not the greeting
            self._say_common("robot")
            self._reask(step)
            return True
        if intent == "wait":
            self._say_common("wait")
            self._listen_again(step, say_prompt=False)
            return True
        if intent == "operator":
            self._say_common("operator")
            self.ctx.transfer(self.ctx.settings.operator_queue or "operators")
            return True
        if intent == "goodbye":
            self._say_common("goodbye")
            await self._finish(None)
            return True
        if intent == "callback_later":
            await self._enter("callback_later" if "callback_later" in self.flow.steps else "common_callback")
            return True
        if self.ctx.call.direction != "outbound":
            return False
        if intent == "wrong_number":
            await self.ctx.store.withdraw_promises(self.ctx)
            await self.ctx.store.add_do_not_call(self.ctx, "wrong_number")
            self._say_common("wrong_number")
            await self._finish(self._outcome_or("wrong_number", "refused", "visit_declined"))
            return True
        if intent == "owner_changed" and "common_owner_changed" in self.flow.steps:
            await self._enter("common_owner_changed")
            return True
        return False

    def _outcome_or(self, *codes: str) -> str | None:
        """The first of these outcome codes the scenario declares (None: its outcome action decides)."""
        return next((code for code in codes if code in self.flow.outcomes), None)

    async def _on_silence(self) -> None:
        step = self.awaiting
        if step is None:
            return
        state = self._state(step)
        state.no_input += 1
        if state.no_input > step.retries:
            if step.on_silence:
                await self._run(step.on_silence)
            else:
                self._say_common("silence_end")
                await self._finish(None)
            return
        if step.reprompt:
            self.ctx.say_prompt(step.reprompt)
            self._listen_again(step, say_prompt=False)
        else:
            self._say_common("silence_again")
            self._listen_again(step)

    async def _on_no_match(self, step: Step) -> None:
        if self.finished or self.awaiting is not step:
            return
        state = self._state(step)
        state.no_match += 1
        if state.no_match > step.retries:
            if step.on_fail:
                await self._run(step.on_fail)
            else:
                self._say_common("fail_transfer")
                self.ctx.transfer(self.ctx.settings.operator_queue or "operators")
            return
        if step.no_match:
            self.ctx.say_prompt(step.no_match)
            self._listen_again(step, say_prompt=False)
        else:
            self._say_common("not_understood")
            self._listen_again(step)

    def _reask(self, step: Step) -> None:
        """The step's question again in its short form: its no-match text, or the prompt without the
        greeting and introduction it opened with."""
        if step.no_match is not None:
            self.ctx.say_prompt(step.no_match)
        elif step.prompt is not None:
            self.ctx.say_prompt(step.prompt)
            if self.ctx.output:
                last = self.ctx.output[-1]
                last.text, last.display = without_greeting(last.text), without_greeting(last.display)
        self._listen_again(step, say_prompt=False)

    def _listen_again(self, step: Step, *, say_prompt: bool = True) -> None:
        if say_prompt and step.prompt:
            self.ctx.say_prompt(step.prompt)
        self.awaiting = step

    # --- running steps ----------------------------------------------------------------------------------

    async def _run(self, name: str) -> None:
        """Run steps from `name` until one listens or the call ends."""
        self.awaiting = None
        for _ in range(MAX_TRANSITIONS):
            if self.ctx.finished:
                return
            name = self._for_channel(name)
            step = self.flow.step(name)
            for prompt in step.say:
                self.ctx.say_prompt(prompt)
            if step.end is not None:
                await self._finish(None if step.end == "auto" else step.end)
                return
            if step.prompt is not None:
                if await self._replayed(step):
                    return
                self.ctx.say_prompt(step.prompt)
                self.awaiting = step
                self.states[step.name] = _StepState()
                return
            if step.action:
                result = await self._call_action(step.action)
                if self.ctx.finished or await self._switched():
                    return
                following = self._next_for(step, result)
            else:
                following = step.next
            if following is None:
                await self._finish(None)
                return
            name = following
        raise RuntimeError(f"{self.flow.name}: more than {MAX_TRANSITIONS} steps without listening at {name}")

    def _for_channel(self, name: str) -> str:
        """A flow may send a step elsewhere on one channel (`channel_steps`): a messenger never identifies
        a resident by typed account data, so it skips the steps that ask for it."""
        routes = self.flow.data.get("channel_steps", {}).get(self.ctx.call.channel, {})
        return str(routes.get(name, name))

    async def _after_action(self, step: Step, result: str) -> None:
        if self.ctx.finished or await self._switched():
            return
        following = self._next_for(step, result)
        if following is None:
            await self._finish(None)
        elif following == step.name:
            self._listen_again(step)
        else:
            await self._enter(following)

    def _next_for(self, step: Step, result: str | None) -> str | None:
        if result is None:
            return step.next
        if result in step.results:
            return step.results[result]
        if result in self.flow.steps:  # an action may name the next step directly
            return result
        if "default" in step.results:
            return step.results["default"]
        raise RuntimeError(f"{self.flow.name}.{step.name}: result {result!r} has no transition")

    async def _call_action(self, name: str) -> str | None:
        return await get_action(name).fn(self.ctx)

    async def _switched(self) -> bool:
        if not self.ctx.switch_to:
            return False
        scenario, step, replay = self.ctx.switch_to
        self.ctx.switch_to = None
        self.ctx.flow = self.library.get(scenario)
        await self.ctx.store.set_scenario(self.ctx.call.call_id, scenario)
        entry = step or self.flow.start.get(self.ctx.call.direction) or next(iter(self.flow.steps))
        log.info("scenario switched", extra={"scenario": scenario, "step": entry})
        if replay and self.ctx.parse is not None:
            target = self.flow.step(entry)
            self.awaiting = target
            self.states[target.name] = _StepState()
            await self._on_answer(self.ctx.parse)
        else:
            await self._run(entry)
        return True

    # --- ending -----------------------------------------------------------------------------------------

    async def _finish(self, outcome: str | None) -> None:
        if outcome is None and self.flow.outcome_action:
            outcome = await get_action(self.flow.outcome_action).fn(self.ctx)
        self.ctx.end(outcome or self.ctx.outcome or "hangup")

    async def _finish_hangup(self) -> None:
        outcome = self.ctx.outcome
        if outcome is None and self.flow.outcome_action:
            outcome = await get_action(self.flow.outcome_action).fn(self.ctx)
        self.ctx.end(outcome or "hangup")

    def _say_common(self, key: str) -> None:
        self.ctx.say_prompt(
            Prompt(self.flow.data.get("common", {}).get(key, COMMON_TEXTS[key]), f"common.{key}")
        )

    def _state(self, step: Step) -> _StepState:
        return self.states.setdefault(step.name, _StepState())

    # --- turn output and persistence --------------------------------------------------------------------

    def _note_caller(self, caller: CallerInput, parse: ParseResult | None) -> None:
        self.turn_seq += 1
        self._pending_turns.append(
            {
                "seq": self.turn_seq,
                "speaker": "caller",
                "text": caller.text if caller.kind != "silence" else "",
                "step": self.awaiting.name if self.awaiting else None,
                "start_ms": caller.start_ms,
                "end_ms": caller.end_ms,
                "intent": parse.intent if parse else ("<silence>" if caller.kind == "silence" else None),
                "confidence": round(parse.confidence, 4) if parse else None,
                "entities": parse.to_json()["entities"] if parse else [],
            }
        )

    async def _turn(self, started: float) -> BotTurn:
        utterances, self.ctx.output = self.ctx.output, []
        if utterances:
            self.last_turn = utterances
        step = self.awaiting if not self.finished else None
        if utterances:
            self.turn_seq += 1
            self._pending_turns.append(
                {
                    "seq": self.turn_seq,
                    "speaker": "bot",
                    "text": " ".join(u.text for u in utterances),
                    "step": step.name if step else None,
                    "start_ms": self.offset_clock() if self.offset_clock else None,
                }
            )
        await self.ctx.store.add_turns(self.ctx.call.call_id, self._pending_turns)
        self._pending_turns = []
        if self.finished:
            await self.ctx.store.finish_call(self.ctx, self.flow.name)
        parse = self.ctx.parse
        return BotTurn(
            utterances=utterances,
            step=step.name if step else None,
            listen=step is not None,
            end=self.finished,
            outcome=self.ctx.outcome if self.finished else None,
            transfer=self.ctx.transfer_to,
            expect_intents=step.expect_intents if step else (),
            expect_entities=step.expect_entities if step else (),
            asr_hints=step.prompt.asr_hints if step and step.prompt else (),
            dtmf=step.dtmf if step else False,
            understood=parse.to_json() if parse is not None else None,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        )
