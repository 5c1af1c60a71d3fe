"""Announcements: play a message, offer to repeat it, count «понятно» as heard."""

from __future__ import annotations

from voicebot.dialogue.actions.registry import action
from voicebot.dialogue.context import DialogueContext


@action("announce_prepare", results=("ok", "no_message"), provides=("message",))
async def announce_prepare(ctx: DialogueContext) -> str:
    message = str(ctx.call.variables.get("message") or ctx.slots.get("outage_message") or "").strip()
    if not message:
        return "no_message"
    ctx.slots["message"] = message
    return "ok"


@action("announce_answer", results=("repeat", "heard"))
async def announce_answer(ctx: DialogueContext) -> str | None:
    if (
        ctx.intent == "repeat"
        or (ctx.intent == "affirm" and not ctx.said("понятно", "ясно"))
        or ctx.said("повтор")
    ):
        return "repeat"
    if ctx.text:
        ctx.slots["heard"] = True
        return "heard"
    return None


@action("announce_outcome")
async def announce_outcome(ctx: DialogueContext) -> str:
    return "announcement_heard" if ctx.slots.get("heard") else "announcement_partial"
