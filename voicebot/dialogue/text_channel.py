"""The text channel: a dialogue driven by lines of text (scenario tests, `voicebot simulate`, the API).

Input lines: words, `<silence>`, `<dtmf:DIGITS>`, `<hangup>`; the end of input is a hang-up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from voicebot.dialogue.context import CallerInput
from voicebot.dialogue.runtime import BotTurn, Dialogue


def turn_event(turn: BotTurn) -> dict[str, Any]:
    """One bot turn as the JSON object `simulate --json` prints."""
    event: dict[str, Any] = {
        "bot": turn.text,
        "step": turn.step,
        "display": turn.display,
        "listen": turn.listen,
        "end": turn.end,
    }
    if turn.end:
        event["outcome"] = turn.outcome
    if turn.transfer:
        event["transfer"] = turn.transfer
    if turn.understood is not None:
        event["understood"] = {
            "intent": turn.understood["intent"],
            "entities": turn.understood["entities"],
        }
    if turn.expect_entities or turn.expect_intents:
        event["expect"] = {"intents": list(turn.expect_intents), "entities": list(turn.expect_entities)}
    return event


def final_event(dialogue: Dialogue) -> dict[str, Any]:
    ctx = dialogue.ctx
    return {
        "outcome": ctx.outcome,
        "call_id": str(ctx.call.call_id),
        "scenario": ctx.flow.name,
        "records": ctx.records,
    }


async def converse(
    dialogue: Dialogue, lines: AsyncIterator[str], emit: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Run a whole conversation: emit each bot turn before the next line is read, then the final event."""
    turn = await dialogue.start()
    emit(turn_event(turn))
    while not turn.end:
        line = await anext(lines, None)
        caller = CallerInput("hangup") if line is None else CallerInput.parse_line(line)
        turn = await dialogue.respond(caller)
        if turn.utterances or turn.end:
            emit(turn_event(turn))
    final = final_event(dialogue)
    emit(final)
    return final
