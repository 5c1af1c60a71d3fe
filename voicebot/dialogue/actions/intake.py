"""Request intake (the 24/7 dispatcher): what happened, where, how to reach the caller; register the request
with a number, registration time, deadline and responsible person, and say them; request status by number;
a voice message for anything else."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from voicebot import rules
from voicebot.dialogue.actions.identify import use_account
from voicebot.dialogue.actions.registry import action
from voicebot.dialogue.categories import Category, categories_for
from voicebot.dialogue.context import DialogueContext
from voicebot.dialogue.templates import address_display

STATUS_WORDS = {
    "new": "зарегистрирована",
    "in_progress": "передана мастеру",
    "done": "выполнена",
    "cancelled": "отменена",
}
TICKET_SLOTS = ("ticket_number", "ticket_created", "ticket_due", "ticket_responsible", "due_minutes")


def _merge_address(ctx: DialogueContext, address: dict[str, Any] | None) -> None:
    if not address:
        return
    known = ctx.slots.setdefault("address", {})
    for key, value in address.items():
        if value not in (None, ""):
            known[key] = value


def _has_place(ctx: DialogueContext) -> bool:
    address = ctx.slots.get("address") or {}
    return bool(address.get("street") and address.get("house"))


@action(
    "intake_describe",
    results=("emergency", "routine", "quality", "status", "message", "switched"),
    provides=("category_label", "address", "status_digits"),
)
async def intake_describe(ctx: DialogueContext) -> str | None:
    intent = ctx.intent
    if intent == "ask_status" or (ctx.entity("digits") and ctx.said("заявк", "номер")):
        ctx.slots["status_digits"] = ctx.entity("digits")
        return "status"
    if intent == "leave_message":
        return "message"
    if intent == "submit_readings":
        ctx.switch("meter_readings", "identify")
        return "switched"
    code = ctx.entity("problem")
    if code is None and intent != "report_problem":
        return None
    table = categories_for(ctx.settings)
    category = table.get(code or "other", table["other"])
    ctx.slots.update(category=category, category_label=category.label, description=ctx.text)
    _merge_address(ctx, ctx.entity("address"))
    if category.emergency:
        return "emergency"
    return "quality" if category.quality else "routine"


@action("intake_address", results=("known", "leak_question"), provides=("address",))
async def intake_address(ctx: DialogueContext) -> str | None:
    _merge_address(ctx, ctx.entity("address"))
    person = ctx.entity("person")
    if person:
        ctx.slots["contact_name"] = (
            " ".join(p for p in (person.get("name"), person.get("surname")) if p) or None
        )
    if not _has_place(ctx):
        return None
    return "leak_question" if ctx.slots["category"].code == "leak" else "known"


@action("intake_route_after_address", results=("known", "leak_question", "ask"), provides=("address",))
async def intake_route_after_address(ctx: DialogueContext) -> str:
    if not _has_place(ctx):
        return "ask"
    return "leak_question" if ctx.slots["category"].code == "leak" else "known"


@action("intake_note", results=("noted",))
async def intake_note(ctx: DialogueContext) -> str:
    if ctx.text:
        ctx.slots["description"] = f"{ctx.slots.get('description', '')} / {ctx.text}".strip(" /")
    return "noted"


async def _match_account(ctx: DialogueContext) -> None:
    """Tie the request to a flat's account only when the caller named the flat (a stairwell is nobody's)."""
    address = ctx.slots.get("address") or {}
    if not address.get("flat"):
        return
    found = await ctx.store.accounts_by_address(
        address.get("street"), address.get("house"), address.get("flat"), address.get("building")
    )
    if len(found) == 1:
        use_account(ctx, found[0])


@action(
    "register_ticket", results=("emergency", "routine", "quality"), provides=TICKET_SLOTS + ("crew", "advice")
)
async def register_ticket(ctx: DialogueContext) -> str:
    category: Category = ctx.slots["category"]
    await _match_account(ctx)
    registered = ctx.now
    due = category.due(registered)
    ticket = await ctx.store.create_ticket(
        ctx,
        {
            "category": category.code,
            "priority": category.priority,
            "address": address_display(ctx.slots.get("address") or {}),
            "description": ctx.slots.get("description", ""),
            "due_at": due,
            "responsible": category.responsible,
            "contact_name": ctx.slots.get("contact_name"),
        },
    )
    ctx.slots.update(
        crew=category.crew,
        advice=category.advice,
        ticket_number=ticket.number,
        ticket_created=registered,
        ticket_due=due,
        ticket_responsible=category.responsible,
        due_minutes=int((due - registered).total_seconds() // 60),
    )
    if ctx.call.phone:
        await ctx.store.create_task(
            ctx,
            "sms",
            {
                "phone": ctx.call.phone,
                "template": "ticket_number",
                "number": ticket.number,
                "due": f"{due:%d.%m.%Y %H:%M}",
            },
        )
    if category.emergency:
        return "emergency"
    return "quality" if category.quality else "routine"


@action("contact_name", results=("saved",), provides=("contact_first",))
async def contact_name(ctx: DialogueContext) -> str:
    person = ctx.entity("person") or {}
    name = person.get("name") or person.get("surname")
    if not name:
        words = [w.strip(".,!") for w in ctx.text.split()]
        name = next((w for w in words if w[:1].isupper() and w.lower() not in ("да", "нет", "этот")), None)
    ctx.slots["contact_first"] = name or ""
    if name:
        await ctx.store.update_ticket(ctx, ctx.slots["ticket_number"], contact_name=name)
    return "saved"


@action("emergency_handover", results=("transfer", "no_dispatcher"))
async def emergency_handover(ctx: DialogueContext) -> str:
    if ctx.settings.duty_dispatcher:
        ctx.transfer_to = ctx.settings.duty_dispatcher
        ctx.end("ticket_created")
        return "transfer"
    return "no_dispatcher"


@action("quality_time", results=("keep", "agreed"), provides=("ticket_due",))
async def quality_time(ctx: DialogueContext) -> str | None:
    day, moment = ctx.entity("date"), ctx.entity("time")
    if day is None and moment is None:
        if ctx.intent in ("affirm", "thanks") or ctx.said("удобно", "давайте", "хорошо"):
            return "keep"
        return None
    chosen_day = date.fromisoformat(str(day)) if day else ctx.now.date()
    chosen_time = time.fromisoformat(str(moment)) if moment else time(10, 0)
    agreed = datetime.combine(chosen_day, chosen_time, tzinfo=ZoneInfo(ctx.timezone))
    if agreed <= ctx.now:
        return "keep"
    ctx.slots["ticket_due"] = agreed
    await ctx.store.update_ticket(
        ctx, ctx.slots["ticket_number"], due_at=agreed, comment="Время проверки согласовано"
    )
    return "agreed"


@action("ticket_status", results=("found", "not_found"), provides=("status_ticket", "status_digits"))
async def ticket_status(ctx: DialogueContext) -> str | None:
    # Only the number said now: an answer without one («ой, всё, до свидания») is not the old number again.
    return await _status_of(ctx, ctx.entity("digits"))


async def _status_of(ctx: DialogueContext, digits: object) -> str | None:
    if not digits:
        return None
    ctx.slots["status_digits"] = str(digits)
    ticket = await ctx.store.ticket_by_number(str(digits))
    if ticket is None:
        return "not_found"
    zone = ZoneInfo(ctx.timezone)
    ctx.slots["status_ticket"] = {
        "number": ticket.number,
        "description": ticket.description,
        "address": ticket.address,
        "status": STATUS_WORDS.get(ticket.status, ticket.status),
        "due": ticket.due_at.astimezone(zone) if ticket.due_at else None,
        "open": ticket.status in ("new", "in_progress"),
    }
    ctx.outcome = "ticket_status_given"
    return "found"


@action("status_followup", results=("escalation", "done", "problem", "status", "switched"))
async def status_followup(ctx: DialogueContext) -> str | None:
    if ctx.said("если не", "не придут", "не сделают", "не выполн", "не пришли"):
        return "escalation"
    if ctx.intent in ("deny", "goodbye", "thanks") or ctx.said("нет, всё", "все, спасибо", "всё, спасибо"):
        return "done"
    if ctx.intent == "report_problem" or ctx.entity("problem"):
        return "problem"
    if ctx.intent == "ask_status" or ctx.entity("digits"):
        return "status"
    if ctx.intent == "submit_readings":
        ctx.switch("meter_readings", "identify")
        return "switched"
    return None


@action("lookup_status", results=("found", "not_found", "ask"), provides=("status_ticket", "status_digits"))
async def lookup_status(ctx: DialogueContext) -> str:
    digits = ctx.entity("digits") or ctx.slots.pop("status_digits", None)
    return await _status_of(ctx, digits) or "ask"


@action("has_dispatcher", results=("yes", "no"))
async def has_dispatcher(ctx: DialogueContext) -> str:
    return "yes" if ctx.settings.duty_dispatcher else "no"


@action("transfer_operator", results=())
async def transfer_operator(ctx: DialogueContext) -> str | None:
    ctx.transfer(ctx.settings.operator_queue or "operators")
    return None


@action(
    "intake_anything_else", results=("done", "emergency", "routine", "quality", "status", "message", "more")
)
async def intake_anything_else(ctx: DialogueContext) -> str | None:
    if ctx.intent in ("deny", "goodbye", "thanks") or ctx.said("нет, всё", "все, спасибо", "это всё"):
        return "done"
    if ctx.intent == "affirm" and not ctx.entity("problem"):
        ctx.slots.pop("address", None)
        return "more"  # «да» to «Что-то ещё?»: ask what, do not guess
    if ctx.intent == "ask_status":
        return "status"
    if ctx.intent == "leave_message":
        return "message"
    if ctx.intent == "report_problem" or ctx.entity("problem"):
        ctx.slots.pop("address", None)
        return await intake_describe(ctx)
    return None


@action(
    "intake_more",
    results=("emergency", "routine", "quality", "status", "message", "switched", "done"),
    provides=("category_label", "address", "status_digits"),
)
async def intake_more(ctx: DialogueContext) -> str | None:
    """After «да» to «Что-то ещё?» the bot asked what: «нет, всё» ends, anything else is a new request."""
    if ctx.intent in ("deny", "goodbye", "thanks") and not ctx.entity("problem"):
        return "done"
    return await intake_describe(ctx)


@action("save_voice_message", results=("saved",))
async def save_voice_message(ctx: DialogueContext) -> str | None:
    if not ctx.text:
        return None
    await ctx.store.create_voice_message(ctx, ctx.text, rules.VOICE_MESSAGE_REVIEW_WITHIN)
    return "saved"


@action("intake_outcome")
async def intake_outcome(ctx: DialogueContext) -> str:
    if ctx.records["tickets"] and any(r.get("status") == "new" for r in ctx.records["tickets"]):
        return "ticket_created"
    if ctx.records["voice_messages"]:
        return "voice_message"
    return ctx.outcome or "hangup"
