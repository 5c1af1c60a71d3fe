"""The messenger menu: what the resident wants, then the scenario that does it.

In a messenger the resident is identified only by the phone they shared; account data is only ever
given for accounts of that phone, so readings are offered only when the phone has an account.
"""

from __future__ import annotations

from voicebot.dialogue.actions.frontdesk import to_front_desk
from voicebot.dialogue.actions.registry import action
from voicebot.dialogue.context import DialogueContext


@action("messenger_route", results=("switched", "no_account", "bye"))
async def messenger_route(ctx: DialogueContext) -> str | None:
    intent = ctx.intent
    if to_front_desk(ctx):  # the company card or the office schedule
        return "switched"
    if intent == "submit_readings" or ctx.said("показан", "счетчик", "счётчик"):
        if not await ctx.store.accounts_by_phone(ctx.call.phone):
            return "no_account"
        ctx.switch("meter_readings", "identify", replay=False)
        return "switched"
    if intent in ("ask_status", "leave_message") or ctx.entity("problem") or ctx.said("заявк"):
        replay = intent in ("ask_status", "leave_message") or bool(
            ctx.entity("problem") or ctx.entity("digits")
        )
        ctx.switch("request_intake", "describe", replay=replay)
        return "switched"
    if intent == "report_problem":
        ctx.switch("request_intake", "describe", replay=False)
        return "switched"
    if intent in ("deny", "thanks"):
        return "bye"
    return None
