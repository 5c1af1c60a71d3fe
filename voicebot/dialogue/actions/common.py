"""Actions every scenario may use: branching on the call's direction, scheduling a callback."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from voicebot import rules
from voicebot.dialogue.actions.registry import action
from voicebot.dialogue.context import DialogueContext
from voicebot.dialogue.store import DialogueStore

PART_OF_DAY = {"утр": time(10, 0), "обед": time(14, 0), "вечер": time(19, 0), "днем": time(13, 0)}


@action("by_direction", results=("inbound", "outbound"))
async def by_direction(ctx: DialogueContext) -> str:
    return ctx.call.direction


def _requested_time(ctx: DialogueContext) -> datetime | None:
    """The moment the caller asked to be called back, in their zone, or None when they named none."""
    day = ctx.entity("date")
    moment = ctx.entity("time")
    if day is None and moment is None:
        for stem, default in PART_OF_DAY.items():
            if ctx.said(stem):
                moment = default
                break
    if day is None and moment is None:
        if ctx.said("через час"):
            return ctx.now + timedelta(hours=1)
        return None
    now = ctx.now
    chosen_day = date.fromisoformat(str(day)) if day is not None else now.date()
    chosen_time = (
        moment if isinstance(moment, time) else time.fromisoformat(str(moment)) if moment else time(10, 0)
    )
    result = datetime.combine(chosen_day, chosen_time, tzinfo=ZoneInfo(ctx.timezone))
    if result <= now and day is None:
        result += timedelta(days=1)
    return result


async def debt_limits_allow(ctx: DialogueContext, moment: datetime) -> bool:
    """230-ФЗ limits for one more debt contact at `moment` (calls, or messenger conversations in MAX)."""
    if ctx.flow.name != "debt_reminder":
        return True
    account = ctx.call.variables.get("account")
    return await debt_contact_allowed(ctx.store, account, ctx.call.phone, moment, channel=ctx.call.channel)


async def debt_contact_allowed(
    store: DialogueStore, account: str | None, phone: str | None, moment: datetime, *, channel: str
) -> bool:
    """At most 1 call a day, 2 a week, 8 a month per debtor; messages (channel `max`) 2, 4 and 16, counted
    apart from calls. Contacts already made inside the day, week and month of `moment` count."""
    limits = rules.DEBT_MESSAGE_LIMITS if channel == "max" else rules.DEBT_LIMITS
    day_start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = day_start - timedelta(days=day_start.weekday())
    month_start = day_start.replace(day=1)
    for since, period in ((day_start, "day"), (week_start, "week"), (month_start, "month")):
        if await store.debt_calls_since(account, phone, since, channel=channel) >= limits[period]:
            return False
    return True


@action(
    "callback_time",
    results=("scheduled", "adjusted"),
    provides=("callback_at",),
)
async def callback_time(ctx: DialogueContext) -> str | None:
    requested = _requested_time(ctx)
    if requested is None:
        return None
    allowed = rules.next_calling_time(requested)
    while not await debt_limits_allow(ctx, allowed):
        allowed = rules.next_calling_time(
            datetime.combine(allowed.date() + timedelta(days=1), time(0, 0), tzinfo=allowed.tzinfo)
        )
    await ctx.store.create_callback(ctx, allowed, reason="requested")
    ctx.slots["callback_at"] = allowed
    if "callback_requested" in ctx.flow.outcomes:
        ctx.outcome = "callback_requested"
    return "scheduled" if allowed == requested else "adjusted"


@action("note_owner_changed", results=("done",))
async def note_owner_changed(ctx: DialogueContext) -> str:
    """«Я там больше не живу» on any outbound call: a task to update the contact; nothing more is asked."""
    await ctx.store.create_task(
        ctx,
        "owner_update",
        {"account": ctx.call.variables.get("account"), "phone": ctx.call.phone, "said": ctx.text},
    )
    return "done"
