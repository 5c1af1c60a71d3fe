"""NPS after a request: was it solved, a 0–10 score (re-asked for school marks and ranges), a comment;
a solved request is closed, an unsolved one reopened with a new deadline."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from voicebot.dialogue.actions.registry import action
from voicebot.dialogue.categories import categories_for
from voicebot.dialogue.context import DialogueContext

NPS_SLOTS = ("ticket_number", "work", "specialist", "visit_day")
UNSOLVED_CUES = (
    "не решен",
    "не решили",
    "течет",
    "течёт",
    "до сих пор",
    "не сделал",
    "не работает",
    "ушел",
    "ушёл",
)


def _specialist(responsible: str | None) -> str:
    """«сантехник Васильев» → «сантехник» (the trade, not the surname, is what residents recognise)."""
    return responsible.split()[0] if responsible else "мастер"


@action("nps_prepare", results=("ok",), provides=NPS_SLOTS)
async def nps_prepare(ctx: DialogueContext) -> str:
    variables = ctx.call.variables
    number = str(variables.get("ticket_number") or "")
    ticket = await ctx.store.ticket_by_number(number) if number else None
    work = variables.get("purpose") or (ticket.description if ticket else "")
    ctx.slots.update(
        ticket_number=number,
        ticket=ticket,
        work=work[:1].lower() + work[1:] if work else "",
        specialist=variables.get("specialist") or _specialist(ticket.responsible if ticket else None),
        visit_day=date.fromisoformat(str(variables["visit_date"])[:10])
        if variables.get("visit_date")
        else None,
        nps={"resolved": None, "score": None, "comment": None, "saved": False},
    )
    return "ok"


@action("nps_resolved", results=("solved", "not_solved", "refused"), provides=("new_due",))
async def nps_resolved(ctx: DialogueContext) -> str | None:
    state = ctx.slots["nps"]
    if ctx.intent in ("refuse",) or ctx.said("некогда", "не хочу", "не буду отвечать"):
        return "refused"
    if ctx.intent == "deny" or ctx.said(*UNSOLVED_CUES):
        state["resolved"] = False
        state["comment"] = ctx.text
        await _reopen(ctx)
        return "not_solved"
    if ctx.intent in ("affirm", "thanks") or ctx.said("решен", "работает", "все хорошо", "всё хорошо"):
        state["resolved"] = True
        return "solved"
    return None


async def _reopen(ctx: DialogueContext) -> None:
    number = ctx.slots.get("ticket_number")
    ticket = ctx.slots.get("ticket")
    table = categories_for(ctx.settings)
    category = table.get(ticket.category if ticket else "other", table["other"])
    due: datetime = category.due(ctx.now)
    ctx.slots["new_due"] = due.astimezone(ZoneInfo(ctx.timezone))
    if number:
        await ctx.store.update_ticket(
            ctx, number, status="in_progress", comment=f"NPS: не решено — {ctx.text}", due_at=due
        )


@action(
    "nps_score",
    results=("scored", "school_grade", "range", "refused"),
    provides=("score", "range_low", "range_high"),
)
async def nps_score(ctx: DialogueContext) -> str | None:
    state = ctx.slots["nps"]
    scores = ctx.entities("score")
    plain = [e for e in scores if e.role != "range"]
    if scores and (plain and plain[-1] is scores[-1]):
        state["score"] = int(plain[-1].value)
        ctx.slots["score"] = state["score"]
        tail = ctx.text[scores[-1].end :].strip(" ,.—-–!")
        if len(tail.split()) >= 2 and state["comment"] is None:
            state["comment"] = tail
        return "scored"
    if scores:
        values = sorted(int(e.value) for e in scores)
        ctx.slots.update(range_low=values[0], range_high=values[-1])
        return "range"
    if ctx.entity("school_grade") is not None:
        return "school_grade"
    if ctx.intent == "refuse":
        return "refused"
    return None


@action("nps_comment", results=("saved",))
async def nps_comment(ctx: DialogueContext) -> str | None:
    state = ctx.slots["nps"]
    if ctx.text:
        previous = state.get("comment")
        state["comment"] = ctx.text if not previous or state["resolved"] is not False else ctx.text
        if ctx.slots.get("ticket_number"):
            await ctx.store.update_ticket(
                ctx, ctx.slots["ticket_number"], comment=f"Передать мастеру: {ctx.text}"
            )
    return "saved"


@action("nps_save", results=("closed", "reopened"))
async def nps_save(ctx: DialogueContext) -> str:
    state = ctx.slots["nps"]
    await _save(ctx)
    if state["resolved"]:
        if ctx.slots.get("ticket_number"):
            await ctx.store.update_ticket(
                ctx, ctx.slots["ticket_number"], status="done", comment="Закрыта по опросу"
            )
        return "closed"
    return "reopened"


async def _save(ctx: DialogueContext) -> None:
    state = ctx.slots["nps"]
    if state["saved"]:
        return
    state["saved"] = True
    await ctx.store.save_nps(
        ctx, ctx.slots.get("ticket_number") or None, state["resolved"], state["score"], state["comment"]
    )


@action("nps_outcome")
async def nps_outcome(ctx: DialogueContext) -> str:
    state = ctx.slots.get("nps") or {}
    if state.get("resolved") is not None or state.get("score") is not None:
        await _save(ctx)
    if state.get("resolved") is False:
        return "ticket_reopened"
    if state.get("score") is not None:
        return "nps_collected"
    return ctx.outcome or "hangup"


@action("nps_branch", results=("solved", "not_solved"))
async def nps_branch(ctx: DialogueContext) -> str:
    return "not_solved" if ctx.slots["nps"]["resolved"] is False else "solved"
