"""Visit warning: confirm, reschedule among the offered slots («а попозже можно?»), or someone else opens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from voicebot.dialogue.actions.registry import action
from voicebot.dialogue.context import DialogueContext
from voicebot.values import parse_phone

VISIT_SLOTS = ("visit_day", "window_from", "window_to", "specialist", "purpose", "access_note")


@dataclass(frozen=True)
class Slot:
    day: date
    start: time
    end: time

    @property
    def code(self) -> str:
        return f"{self.day.isoformat()} {self.start:%H:%M}-{self.end:%H:%M}"

    def as_vars(self) -> dict:
        return {"day": self.day, "start": self.start, "end": self.end}


def parse_slots(raw: str | None) -> list[Slot]:
    """`2026-03-14 09:00-12:00;2026-03-15 10:00-13:00` → slots (bad items are skipped, not fatal)."""
    slots = []
    for item in (raw or "").split(";"):
        try:
            day_text, span = item.strip().split()
            start, end = span.split("-")
            slots.append(
                Slot(date.fromisoformat(day_text), time.fromisoformat(start), time.fromisoformat(end))
            )
        except ValueError:
            continue
    return slots


@action("visit_prepare", results=("ok",), provides=VISIT_SLOTS + ("offer",))
async def visit_prepare(ctx: DialogueContext) -> str:
    v = ctx.call.variables
    ctx.slots.update(
        visit_id=str(v.get("visit_id") or ctx.call.call_id),
        visit_day=date.fromisoformat(str(v["visit_date"])[:10]) if v.get("visit_date") else ctx.now.date(),
        window_from=time.fromisoformat(v.get("window_from") or "09:00"),
        window_to=time.fromisoformat(v.get("window_to") or "18:00"),
        specialist=v.get("specialist") or "специалист",
        purpose=v.get("purpose") or "",
        access_note=v.get("access_note") or "",
        slots=parse_slots(v.get("slots")),
    )
    ctx.slots["offer"] = _offer(ctx.slots["slots"])
    return "ok"


def _offer(slots: list[Slot]) -> list[dict]:
    """Two slots on different days first: residents choose a day before they choose an hour."""
    chosen: list[Slot] = []
    for slot in slots:
        if all(slot.day != c.day for c in chosen):
            chosen.append(slot)
        if len(chosen) == 2:
            break
    return [s.as_vars() for s in chosen]


async def _save(ctx: DialogueContext, status: str, **values) -> None:
    await ctx.store.save_visit(ctx, ctx.slots["visit_id"], {"status": status, **values})


# How the specialist gets in: worth passing on with a confirmation.
_ACCESS_CUES = (
    "стуч",
    "звонок не",
    "звонок слом",
    "в домофон",
    "код домофона",
    "не слыш",
    "плохо слыш",
    "собак",
)


@action("visit_answer", results=("confirmed", "reschedule", "proxy", "declined"), provides=("visit_note",))
async def visit_answer(ctx: DialogueContext) -> str | None:
    intent = ctx.intent
    if intent == "someone_else_home" or ctx.said(
        "откроет", "будет дома", "тёща", "теща", "муж будет", "жена будет"
    ):
        ctx.slots["visit_note"] = ctx.text
        return "proxy"
    if intent == "reschedule" or ctx.said("не могу", "перенес", "другой день", "на смене", "не получится"):
        return "reschedule"
    if intent in ("refuse",) or ctx.said("не надо", "не нужно", "не пущу"):
        await _save(ctx, "declined", note=ctx.text)
        return "declined"
    if intent in ("affirm", "thanks") or ctx.said("буду", "дома", *_ACCESS_CUES):
        # «буду, только звонок не работает, пусть стучит громче»: a yes, and a note for the specialist
        note = ctx.text if ctx.said(*_ACCESS_CUES) else None
        if note:
            ctx.slots["visit_note"] = note
        await _save(ctx, "confirmed", **({"note": note} if note else {}))
        return "confirmed"
    if intent == "deny":
        return "reschedule"
    return None


def _later_or_earlier(ctx: DialogueContext) -> int:
    if ctx.said("попозже", "позже", "после обеда", "вечером"):
        return 1
    if ctx.said("пораньше", "раньше", "с утра", "утром"):
        return -1
    return 0


@action("choose_slot", results=("chosen", "propose", "none_fit"), provides=("chosen_slot",))
async def choose_slot(ctx: DialogueContext) -> str | None:
    slots: list[Slot] = ctx.slots["slots"]
    if not slots or ctx.said("ни один", "никак", "не подходит ни"):
        return "none_fit"
    dates = [date.fromisoformat(str(e.value)) for e in ctx.entities("date")]
    wanted = [s for s in slots if dates and s.day == dates[-1]]
    if not wanted:
        if ctx.intent == "deny":
            return "none_fit"
        return None
    direction = _later_or_earlier(ctx)
    offered = {(o["day"], o["start"]) for o in ctx.slots["offer"]}
    on_offer = [s for s in wanted if (s.day, s.start) in offered]
    if direction > 0:
        base = on_offer[0].start if on_offer else wanted[0].start
        candidates = [s for s in wanted if s.start > base] or wanted[-1:]
    elif direction < 0:
        base = on_offer[0].start if on_offer else wanted[-1].start
        candidates = [s for s in wanted if s.start < base] or wanted[:1]
    else:
        candidates = on_offer or wanted
    slot = candidates[0]
    ctx.slots["chosen_slot"] = slot.as_vars()
    ctx.slots["chosen_slot_obj"] = slot
    if direction == 0 and (slot.day, slot.start) in offered:
        await _save(ctx, "rescheduled", new_slot=slot.code)
        return "chosen"
    return "propose"


@action("confirm_slot", results=("chosen", "other"))
async def confirm_slot(ctx: DialogueContext) -> str | None:
    if ctx.intent in ("affirm", "thanks") or ctx.said("годится", "подходит", "давайте", "хорошо"):
        slot: Slot = ctx.slots["chosen_slot_obj"]
        await _save(ctx, "rescheduled", new_slot=slot.code)
        return "chosen"
    if ctx.intent == "deny" or ctx.entities("date"):
        return "other"
    return None


@action("visit_declined", results=("done",))
async def visit_declined(ctx: DialogueContext) -> str:
    await _save(ctx, "declined", note=ctx.text or None)
    await ctx.store.create_task(
        ctx, "visit_reschedule", {"visit_id": ctx.slots["visit_id"], "phone": ctx.call.phone}
    )
    return "done"


@action("proxy_contact", results=("saved",))
async def proxy_contact(ctx: DialogueContext) -> str | None:
    phone = None
    digits = ctx.entity("digits")
    if digits and len(str(digits)) >= 10:
        try:
            phone = parse_phone(str(digits))
        except ValueError:
            phone = None
    if phone is None and not (ctx.intent in ("affirm", "inform") or ctx.said("этот", "мой", "на этот")):
        return None
    await _save(
        ctx, "confirmed_by_proxy", note=ctx.slots.get("visit_note"), contact_phone=phone or ctx.call.phone
    )
    return "saved"


@action("visit_reminder_sms", results=("done",))
async def visit_reminder_sms(ctx: DialogueContext) -> str:
    slot: Slot = ctx.slots["chosen_slot_obj"]
    await ctx.store.create_task(
        ctx,
        "sms",
        {
            "phone": ctx.call.phone,
            "template": "visit_reminder",
            "slot": slot.code,
            "send_on": slot.day - timedelta(days=1),
        },
    )
    return "done"


@action("visit_outcome")
async def visit_outcome(ctx: DialogueContext) -> str:
    return ctx.outcome or "hangup"


@action("has_slots", results=("yes", "no"))
async def has_slots(ctx: DialogueContext) -> str:
    return "yes" if ctx.slots["offer"] else "no"


@action("proxy_default", results=("saved",))
async def proxy_default(ctx: DialogueContext) -> str:
    await _save(ctx, "confirmed_by_proxy", note=ctx.slots.get("visit_note"), contact_phone=ctx.call.phone)
    return "saved"
