"""Office appointments in a conversation (phone or MAX): book a free slot of the one schedule, reschedule
or cancel an existing booking, and answer the day-before reminder."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from voicebot.db.appointments import SlotTaken
from voicebot.db.models import OfficeAppointment, OfficeSlot
from voicebot.dialogue.actions.registry import action
from voicebot.dialogue.context import DialogueContext

HORIZON = timedelta(days=14)
OFFERED = 3


def _slot_vars(slot: OfficeSlot, tz: str) -> dict[str, Any]:
    local = slot.starts_at.astimezone(ZoneInfo(tz))
    return {"id": slot.id, "day": local.date(), "start": local.time(), "end": slot.ends_at.astimezone(ZoneInfo(tz)).time(),
            "window": slot.window}  # fmt: skip


def _appointment_vars(appointment: OfficeAppointment, tz: str) -> dict[str, Any]:
    slot = _slot_vars(appointment.slot, tz)
    return {**slot, "slot_id": slot["id"], "id": appointment.id}


def wants_appointment(ctx: DialogueContext) -> bool:
    return ctx.intent in ("book_appointment", "cancel_appointment") or ctx.said(
        "записат", "запись на при", "на прием"
    )


@action("appointment_existing", results=("found", "none", "no_phone"), provides=("appointment",))
async def appointment_existing(ctx: DialogueContext) -> str:
    if not ctx.call.phone:
        return "no_phone"
    existing = await ctx.store.upcoming_appointment(ctx.call.phone, ctx.now)
    if existing is None:
        return "none"
    ctx.slots["appointment"] = _appointment_vars(existing, ctx.timezone)
    return "found"


@action("appointment_change_choice", results=("reschedule", "cancel", "keep"))
async def appointment_change_choice(ctx: DialogueContext) -> str | None:
    if ctx.intent == "cancel_appointment" or ctx.said("отмен", "не приду", "не нужн"):
        return "cancel"
    if ctx.intent == "reschedule" or ctx.said("перенес", "другое время", "другой день"):
        return "reschedule"
    if ctx.intent in ("affirm", "deny", "refuse") or ctx.said("оставить", "оставьте", "как есть"):
        return "keep"
    return None


@action("appointment_topic", results=("ok",), provides=("topic",))
async def appointment_topic(ctx: DialogueContext) -> str | None:
    # A farewell is not a topic: leaving it unused lets the global goodbye end the call.
    if not ctx.text.strip() or ctx.intent == "goodbye":
        return None
    ctx.slots["topic"] = ctx.text.strip()[:500]
    return "ok"


@action("appointment_offer", results=("yes", "no"), provides=("offer", "free"))
async def appointment_offer(ctx: DialogueContext) -> str:
    free = await ctx.store.free_office_slots(ctx.now, ctx.now + HORIZON)
    ctx.slots["free"] = [_slot_vars(s, ctx.timezone) for s in free]
    ctx.slots["offer"] = _offer(ctx.slots["free"])
    return "yes" if ctx.slots["offer"] else "no"


def _offer(free: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first free time of each of the nearest days: residents pick a day before an hour."""
    chosen: list[dict[str, Any]] = []
    for slot in free:
        if all(slot["day"] != c["day"] for c in chosen):
            chosen.append(slot)
        if len(chosen) == OFFERED:
            break
    return chosen


@action("appointment_choose", results=("chosen", "day_full", "none_fit"), provides=("chosen", "asked_day"))
async def appointment_choose(ctx: DialogueContext) -> str | None:
    free: list[dict[str, Any]] = ctx.slots.get("free", [])
    if ctx.said("ни один", "никак", "не подходит ни", "не могу ни"):
        return "none_fit"
    day = _entity_date(ctx)
    moment = _entity_time(ctx)
    if day is None and moment is None:
        if ctx.intent == "deny":
            return "none_fit"
        return None
    if day is not None:
        same_day = [s for s in free if s["day"] == day]
        if not same_day:
            ctx.slots["asked_day"] = day
            ctx.slots["offer"] = _offer([s for s in free if s["day"] > day]) or ctx.slots["offer"]
            return "day_full"
        candidates = same_day
    else:
        candidates = [s for s in free if s["day"] in {o["day"] for o in ctx.slots.get("offer", [])}] or free
    if moment is not None:
        later = [s for s in candidates if s["start"] >= moment]
        candidates = later or candidates[-1:]
    elif ctx.said("попозже", "позже", "после обеда", "вечером") and len(candidates) > 1:
        candidates = candidates[1:]
    ctx.slots["chosen"] = candidates[0]
    return "chosen"


def _entity_date(ctx: DialogueContext) -> date | None:
    values = ctx.entities("date")
    return date.fromisoformat(str(values[-1].value)) if values else None


def _entity_time(ctx: DialogueContext) -> time | None:
    values = ctx.entities("time")
    if not values:
        return None
    moment = time.fromisoformat(str(values[-1].value))
    # The office opens in the day: «в два», «в пять» are afternoon hours.
    return moment.replace(hour=moment.hour + 12) if 1 <= moment.hour < 8 else moment


@action("appointment_confirm", results=("yes", "no", "other", "day_full"), provides=("chosen", "asked_day"))
async def appointment_confirm(ctx: DialogueContext) -> str | None:
    if ctx.entities("date") or ctx.entities("time"):  # «нет, лучше в пятницу»: a new choice
        choice = await appointment_choose(ctx)
        return {"chosen": "other", "day_full": "day_full"}.get(choice or "")
    if ctx.intent in ("affirm", "thanks") or ctx.said("верно", "да", "подходит"):
        return "yes"
    if ctx.intent in ("deny", "refuse", "reschedule"):
        return "no"
    return None


@action("appointment_book", results=("booked", "rescheduled", "taken"), provides=("appointment",))
async def appointment_book(ctx: DialogueContext) -> str:
    chosen = ctx.slots["chosen"]
    existing = ctx.slots.get("appointment")
    try:
        if existing:
            booked = await ctx.store.reschedule_appointment(ctx, existing["id"], chosen["id"])
            result = "rescheduled"
        else:
            topic = ctx.slots.get("topic") or str(ctx.call.variables.get("topic") or "")
            booked = await ctx.store.book_appointment(ctx, chosen["id"], topic)
            result = "booked"
    except SlotTaken:
        return "taken"
    ctx.slots["appointment"] = _appointment_vars(booked, ctx.timezone)
    ctx.record("appointments", {"appointment_id": booked.id, "status": result,
                                "starts_at": booked.slot.starts_at.isoformat()})  # fmt: skip
    return result


@action("appointment_cancel", results=("done",))
async def appointment_cancel(ctx: DialogueContext) -> str:
    appointment = ctx.slots["appointment"]
    await ctx.store.appointment_status(appointment["id"], "cancelled", call_id=ctx.call.call_id)
    ctx.record("appointments", {"appointment_id": appointment["id"], "status": "cancelled"})
    return "done"


@action("appointment_no_slots", results=("done",))
async def appointment_no_slots(ctx: DialogueContext) -> str:
    await ctx.store.create_task(ctx, "office_appointment", {"phone": ctx.call.phone, "topic": ctx.slots.get("topic", "")},
                                timedelta(hours=24))  # fmt: skip
    return "done"


@action("appointment_load", results=("ok", "gone"), provides=("appointment",))
async def appointment_load(ctx: DialogueContext) -> str:
    appointment = await ctx.store.appointment(int(ctx.call.variables.get("appointment_id") or 0))
    if appointment is None or appointment.status != "booked" or appointment.slot.starts_at <= ctx.now:
        return "gone"
    ctx.slots["appointment"] = _appointment_vars(appointment, ctx.timezone)
    return "ok"


@action("appointment_reminder_answer", results=("confirmed", "reschedule", "cancel"))
async def appointment_reminder_answer(ctx: DialogueContext) -> str | None:
    choice = await appointment_change_choice(ctx)
    if choice in ("reschedule", "cancel"):
        return choice
    if ctx.intent in ("affirm", "thanks") or ctx.said("приду", "буду", "да"):
        appointment = ctx.slots["appointment"]
        await ctx.store.appointment_status(
            appointment["id"], "booked", confirmed_at=ctx.now, call_id=ctx.call.call_id
        )
        ctx.record("appointments", {"appointment_id": appointment["id"], "status": "confirmed"})
        return "confirmed"
    if ctx.intent == "deny":
        return "reschedule"
    return None


def local_start(appointment: OfficeAppointment, tz: str) -> datetime:
    return appointment.slot.starts_at.astimezone(ZoneInfo(tz))
