"""The inbound router: greet, say it is a robot and the call is recorded, announce a building's outage,
find out what the caller wants and hand over to the scenario that does it."""

from __future__ import annotations

from voicebot.dialogue.actions.frontdesk import to_front_desk
from voicebot.dialogue.actions.registry import action
from voicebot.dialogue.context import DialogueContext


@action("router_outage", results=("outage", "normal"), provides=("outage_message",))
async def router_outage(ctx: DialogueContext) -> str:
    for account in await ctx.store.accounts_by_phone(ctx.call.phone):
        message = await ctx.store.active_outage(account.street, account.house, ctx.now)
        if message:
            ctx.slots["outage_message"] = message
            ctx.slots["heard"] = True
            return "outage"
    return "normal"


@action("route", results=("switched",))
async def route(ctx: DialogueContext) -> str | None:
    intent = ctx.intent
    if to_front_desk(ctx):  # the company card or the office schedule
        return "switched"
    if intent == "submit_readings" or ctx.said("показан", "счетчик", "счётчик"):
        ctx.switch("meter_readings", "identify", replay=False)
        return "switched"
    if intent in ("report_problem", "ask_status", "leave_message") or ctx.entity("problem"):
        ctx.switch("request_intake", "describe", replay=True)
        return "switched"
    if ctx.entity("digits") and ctx.said("заявк"):
        ctx.switch("request_intake", "describe", replay=True)
        return "switched"
    return None
