"""Meter readings: ask each register in import order, check each value, read back, save.

A value is asked back on its own only when there is a reason (the caller corrected themselves, hesitated
inside the number, sounded unsure, named the red digits); a value lower than the last accepted one or
implausibly high is questioned; everything not confirmed on its own is read back once at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from voicebot.dialogue.actions.registry import action
from voicebot.dialogue.context import DialogueContext
from voicebot.dialogue.store import MeterInfo
from voicebot.nlu.lexicon import takes_back_before

# Highest plausible consumption per month; a larger jump is asked back.
MONTHLY_CEILING = {
    "cold_water": Decimal(30),
    "hot_water": Decimal(20),
    "electricity": Decimal(1500),
    "electricity_t1": Decimal(1200),
    "electricity_t2": Decimal(800),
    "electricity_t3": Decimal(800),
    "gas": Decimal(300),
    "heat": Decimal(10),
}

RESOURCE_NAMES = {
    "cold_water": ("холодная вода", "холодной воды", "холодная"),
    "hot_water": ("горячая вода", "горячей воды", "горячая"),
    "electricity": ("электроэнергия", "электроэнергии", "электричество"),
    "electricity_t1": ("дневной тариф, «Т-один»", "дневного тарифа", "день"),
    "electricity_t2": ("ночной тариф, «Т-два»", "ночного тарифа", "ночь"),
    "electricity_t3": ("тариф «Т-три»", "тарифа «Т-три»", "Т-три"),
    "gas": ("газ", "газа", "газ"),
    "heat": ("тепло", "счётчика тепла", "тепло"),
}
LOCATION_PHRASES = {"ванная": "в ванной", "кухня": "на кухне", "туалет": "в туалете"}
LOCATION_SHORT = {"ванная": "ванная", "кухня": "кухня", "туалет": "туалет"}

UNSURE_CUES = ("кажется", "вроде", "наверное", "не уверен", "плохо видно", "примерно", "не видно")
LATER_CUES = ("потом", "позже", "не вижу", "не могу посмотреть", "в другой раз")
CORRECTION_CUES = ("ой", "нет,", "нет!", "нет.", "точнее", "вернее", "подождите")


@dataclass
class Pending:
    meter: MeterInfo
    value: Decimal
    confirmed: bool = False
    status: str = "accepted"


def meter_label(meter: MeterInfo, meters: list[MeterInfo], form: int = 0) -> str:
    """How the bot names a register; the location only when the account has two of that resource."""
    base = RESOURCE_NAMES.get(meter.resource, (meter.resource,) * 3)[form]
    twins = [m for m in meters if m.resource == meter.resource]
    if len(twins) > 1 and meter.location:
        place = (LOCATION_SHORT if form == 2 else LOCATION_PHRASES).get(meter.location, meter.location)
        return f"{base} {place}"
    return base


def _intro(meters: list[MeterInfo]) -> str:
    resources = [m.resource for m in meters]
    if set(resources) == {"electricity_t1", "electricity_t2"}:
        return "У вас двухтарифный электросчётчик."
    if set(resources) == {"cold_water", "hot_water"} and len(meters) == 2:
        return "У вас два счётчика воды — холодная и горячая."
    return ""


def _question(meters: list[MeterInfo], index: int) -> str:
    meter = meters[index]
    label = meter_label(meter, meters)
    if meter.resource == "electricity_t1":
        ask = "Назовите дневной тариф, «Т-один»."
    elif meter.resource == "electricity_t2":
        ask = "Теперь ночной, «Т-два»." if index else "Назовите ночной тариф, «Т-два»."
    elif index == 0 and _intro(meters).startswith("У вас два счётчика воды"):
        ask = f"Начнём с {RESOURCE_NAMES[meter.resource][1].split()[0]}. Назовите цифры до запятой."
    elif index == 0:
        ask = f"{label[0].upper()}{label[1:]} — назовите, пожалуйста, цифры до запятой."
    else:
        ask = f"Теперь {label}."
    return " ".join(part for part in (_intro(meters) if index == 0 else "", ask) if part)


def _state(ctx: DialogueContext) -> dict[str, Any]:
    return ctx.slots.setdefault("readings_state", {"index": 0, "values": {}, "saved": False})


def _meters(ctx: DialogueContext) -> list[MeterInfo]:
    return ctx.slots.get("meters", [])


@action("load_meters", results=("ask", "no_meters"), provides=("meter_prompt", "address_short"))
async def load_meters(ctx: DialogueContext) -> str:
    meters = await ctx.store.meters(ctx.slots["account_id"])
    ctx.slots["meters"] = meters
    _state(ctx)
    if not meters:
        return "no_meters"
    ctx.slots["meter_prompt"] = _question(meters, 0)
    return "ask"


def _period(ctx: DialogueContext) -> tuple[str, bool]:
    """The billing period a reading taken now counts for, and whether that is the next one."""
    today = ctx.now.date()
    if today.day <= ctx.settings.readings_window_end_day:
        return f"{today:%Y-%m}", False
    following = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    return f"{following:%Y-%m}", True


def _plausibility(meter: MeterInfo, value: Decimal, today: date) -> str | None:
    if meter.last_value is None:
        return None
    if value < meter.last_value:
        return "too_low"
    months = 1
    if meter.last_date:
        months = max(1, round((today - meter.last_date).days / 30))
    ceiling = MONTHLY_CEILING.get(meter.resource, Decimal(1000)) * months
    if value - meter.last_value > ceiling:
        return "too_high"
    return None


def _values_by_meter(
    ctx: DialogueContext, current: MeterInfo, meters: list[MeterInfo]
) -> list[tuple[MeterInfo, Any]]:
    """Numbers of one answer, each given to the meter the caller named before it (else the current one).

    «Сто шестьдесят семь. И горячая на кухне — сорок четыре» fills two meters; a correction for the same
    meter later in the answer wins because it comes later.
    """
    assert ctx.parse is not None
    marks = sorted(
        (e for e in ctx.parse.entities if e.entity in ("resource", "location", "number")),
        key=lambda e: e.start,
    )
    target, resource, location = current, None, None
    found: list[tuple[MeterInfo, Any]] = []
    for entity in marks:
        if entity.entity == "resource":
            resource, location = entity.value, None
            target = _match(meters, resource, None) or target
        elif entity.entity == "location":
            location = entity.value
            target = _match(meters, resource or target.resource, location) or target
        elif entity.role != "fraction":
            found.append((target, entity.value))
    return found


def _match(meters: list[MeterInfo], resource: str | None, location: str | None) -> MeterInfo | None:
    family = [m for m in meters if resource and (m.resource == resource or m.resource.startswith(resource))]
    if location:
        family = [m for m in family if m.location == location] or family
    return family[0] if family else None


def _needs_confirmation(ctx: DialogueContext, meter_value_text: str) -> bool:
    text = ctx.text.lower()
    if any(cue in text for cue in UNSURE_CUES):
        return True
    if any(e.role == "fraction" for e in ctx.entities("number")):
        return True
    numbers = ctx.entities("number")
    if len(numbers) > 1 and any(cue in text for cue in CORRECTION_CUES):
        return True
    return bool(re.search(r"(…|\.\.\.)", meter_value_text)) and not _is_restart(ctx, meter_value_text)


def _is_restart(ctx: DialogueContext, span: str) -> bool:
    """«сорок… сорок четыре» restarts the number (no doubt); «пять тысяч двести… двадцать… восемь»
    builds one number across pauses (worth asking back)."""
    tail = re.split(r"…|\.\.\.", span)[-1].strip(" ,")
    head = re.split(r"…|\.\.\.", span)[0].strip(" ,").split()
    return bool(head) and tail.split()[:1] == head[:1]


@action(
    "meter_value",
    results=("next", "confirm", "too_low", "too_high", "skip"),
    texts=("fraction_note", "unsure_note", "value_fixed"),
    provides=("pending_value", "pending_label", "last_value"),
)
async def meter_value(ctx: DialogueContext) -> str | None:
    meters, state = _meters(ctx), _state(ctx)
    current = meters[state["index"]]
    assigned = _values_by_meter(ctx, current, meters)
    if not assigned:
        if ctx.intent == "dont_know" or ctx.said(*LATER_CUES):
            return "skip"
        return None
    if any(e.role == "fraction" for e in ctx.entities("number")):
        ctx.say("fraction_note")
    if any(cue in ctx.text.lower() for cue in UNSURE_CUES):
        ctx.say("unsure_note")
    mine = [value for meter, value in assigned if meter.id == current.id]
    for meter, value in assigned:  # plausible values volunteered for later meters wait for the read-back
        volunteered = Decimal(str(value))
        later = meter.id != current.id and meter.id not in state["values"]
        if later and _plausibility(meter, volunteered, ctx.now.date()) is None:
            state["values"][meter.id] = Pending(meter, volunteered)
    previous = _taken_back(ctx, current, meters)
    if previous is not None and len(mine) == 1:
        # the number corrects the meter before this one; the current one is asked again after it
        state["index"] = meters.index(previous)
        result = _judge(ctx, previous, Decimal(str(mine[-1])), confirm=False)
        if result == "next":
            ctx.say("value_fixed")
        return result
    if not mine:
        return None
    value = Decimal(str(mine[-1]))
    number_entities = [e for e in ctx.entities("number") if e.role != "fraction"]
    span = number_entities[-1].text if number_entities else ""
    return _judge(ctx, current, value, confirm=_needs_confirmation(ctx, span))


def _taken_back(ctx: DialogueContext, current: MeterInfo, meters: list[MeterInfo]) -> MeterInfo | None:
    """The meter whose value the answer takes back: «ой, не то, четыреста пять» to the next meter's
    question, with no meter named, a take-back word before the number, and an earlier meter given last."""
    state = _state(ctx)
    last = state.get("last")
    if last is None or last == current.id or ctx.entities("resource") or ctx.entities("location"):
        return None
    numbers = [e for e in ctx.entities("number") if e.role != "fraction"]
    if len(numbers) != 1 or not takes_back_before(ctx.text, numbers[0].start):
        return None
    return next((m for m in meters if m.id == last and m.id in state["values"]), None)


def _judge(ctx: DialogueContext, meter: MeterInfo, value: Decimal, *, confirm: bool) -> str:
    state = _state(ctx)
    pending = Pending(meter, value)
    state["values"][meter.id] = pending
    state["last"] = meter.id
    ctx.slots.update(
        pending_value=value,
        pending_label=meter_label(meter, _meters(ctx)),
        last_value=meter.last_value if meter.last_value is not None else 0,
    )
    problem = _plausibility(meter, value, ctx.now.date())
    if problem:
        state["rechecks"] = state.get("rechecks", 0)
        return problem
    if confirm:
        return "confirm"
    return "next"


@action(
    "meter_recheck",
    results=("next", "too_low", "too_high", "confirm"),
    texts=("value_echo",),
    provides=("value",),
)
async def meter_recheck(ctx: DialogueContext) -> str | None:
    """After «это меньше, чем в прошлом месяце… посмотрите ещё раз?»."""
    meters, state = _meters(ctx), _state(ctx)
    current = meters[state["index"]]
    pending: Pending = state["values"][current.id]
    values = [v for m, v in _values_by_meter(ctx, current, meters) if m.id == current.id]
    if not values:
        if ctx.intent in ("affirm", "deny") or ctx.said("верно", "точно", "так и есть"):
            pending.status, pending.confirmed = (
                "suspicious",
                True,
            )  # the caller insists: keep, flag for a human
            return "next"
        return None
    value = Decimal(str(values[-1]))
    if value == pending.value or state.get("rechecks", 0) >= 1:
        pending.value = value
        pending.status = "accepted" if _plausibility(current, value, ctx.now.date()) is None else "suspicious"
        pending.confirmed = True
        ctx.say("value_echo", value=value)
        return "next"
    state["rechecks"] = state.get("rechecks", 0) + 1
    result = _judge(ctx, current, value, confirm=False)
    if result == "next":
        state["values"][current.id].confirmed = True
        ctx.say("value_echo", value=value)
    return result


@action("meter_confirm", results=("next", "again", "confirm", "too_low", "too_high"))
async def meter_confirm(ctx: DialogueContext) -> str | None:
    meters, state = _meters(ctx), _state(ctx)
    current = meters[state["index"]]
    pending: Pending = state["values"][current.id]
    values = [v for m, v in _values_by_meter(ctx, current, meters) if m.id == current.id]
    if values:
        value = Decimal(str(values[-1]))
        if value == pending.value:
            pending.confirmed = True
            return "next"
        return _judge(ctx, current, value, confirm=True)
    if ctx.intent in ("affirm", "thanks") or ctx.said("верно", "правильно", "точно", "угу"):
        pending.confirmed = True
        return "next"
    if ctx.intent == "deny":
        del state["values"][current.id]
        return "again"
    return None


@action("next_meter", results=("ask", "readback", "save"), provides=("meter_prompt", "readings"))
async def next_meter(ctx: DialogueContext) -> str:
    meters, state = _meters(ctx), _state(ctx)
    for index in range(len(meters)):
        if meters[index].id not in state["values"] and not state.get(f"skipped_{meters[index].id}"):
            state["index"] = index
            ctx.slots["meter_prompt"] = _question(meters, index)
            return "ask"
    _readings_slot(ctx)
    pending = list(state["values"].values())
    if not pending:
        return "save"
    return "save" if all(p.confirmed for p in pending) else "readback"


@action("skip_meter", results=("ask", "readback", "save"), provides=("meter_prompt", "readings"))
async def skip_meter(ctx: DialogueContext) -> str:
    state = _state(ctx)
    state[f"skipped_{_meters(ctx)[state['index']].id}"] = True
    return await next_meter(ctx)


def _readings_slot(ctx: DialogueContext) -> None:
    meters, state = _meters(ctx), _state(ctx)
    ctx.slots["readings"] = [
        {"label": meter_label(m, meters, form=2), "value": state["values"][m.id].value}
        for m in meters
        if m.id in state["values"]
    ]


@action("readings_confirm", results=("save", "fix", "corrected"), provides=("readings",))
async def readings_confirm(ctx: DialogueContext) -> str | None:
    if ctx.entity("number") is not None and _fix_from_answer(ctx):
        _readings_slot(ctx)
        return "corrected"
    if ctx.intent in ("affirm", "thanks") or ctx.said("верно", "правильно"):
        return "save"
    if ctx.intent == "deny":
        return "fix"
    return None


def _fix_from_answer(ctx: DialogueContext) -> bool:
    meters, state = _meters(ctx), _state(ctx)
    resources = ctx.entities("resource") + ctx.entities("location")
    if not resources:
        # «ой, не то, четыреста пять» to the read-back: the value given last (the only one, if one meter)
        numbers = [e for e in ctx.entities("number") if e.role != "fraction"]
        last = state.get("last") if len(state["values"]) > 1 else next(iter(state["values"]), None)
        if len(numbers) != 1 or last not in state["values"]:
            return False
        if len(state["values"]) > 1 and not takes_back_before(ctx.text, numbers[0].start):
            return False
        meter = state["values"][last].meter
        state["values"][last] = Pending(meter, Decimal(str(numbers[0].value)), confirmed=False)
        return True
    assigned = _values_by_meter(ctx, meters[state["index"]], meters)
    for meter, value in assigned:
        state["values"][meter.id] = Pending(meter, Decimal(str(value)), confirmed=False)
    return bool(assigned)


@action("fix_reading", results=("readback",), provides=("readings",))
async def fix_reading(ctx: DialogueContext) -> str | None:
    if ctx.entity("number") is None or not _fix_from_answer(ctx):
        return None
    _readings_slot(ctx)
    return "readback"


@action(
    "save_readings",
    results=("remind", "done", "nothing"),
    texts=("saved_confirmed", "saved_after_readback", "this_period", "next_period"),
    provides=("readings", "verification_label", "verification_due"),
)
async def save_readings(ctx: DialogueContext) -> str:
    state = _state(ctx)
    pending: list[Pending] = list(state["values"].values())
    if not pending:
        return "nothing"
    all_confirmed = all(p.confirmed for p in pending)
    await _save(ctx, pending)
    _readings_slot(ctx)
    ctx.say("saved_confirmed" if all_confirmed and len(pending) > 1 else "saved_after_readback")
    _, is_next = _period(ctx)
    ctx.say("next_period" if is_next else "this_period")
    return "remind" if _verification_due(ctx) else "done"


async def _save(ctx: DialogueContext, pending: list[Pending]) -> None:
    state = _state(ctx)
    period, _ = _period(ctx)
    values = [{"meter": p.meter, "value": p.value, "period": period, "status": p.status} for p in pending]
    await ctx.store.save_readings(ctx, ctx.slots["account"], values)
    state["saved"] = True
    state["saved_count"] = len(values)


def _verification_due(ctx: DialogueContext) -> bool:
    today = ctx.now.date()
    months = ctx.settings.verification_reminder_months
    horizon = date(today.year + (today.month + months - 1) // 12, (today.month + months - 1) % 12 + 1, 28)
    meters = _meters(ctx)
    for meter in meters:
        if meter.verification_due and today <= meter.verification_due <= horizon:
            ctx.slots["verification_label"] = meter_label(meter, meters, form=1)
            ctx.slots["verification_due"] = meter.verification_due
            ctx.slots["verification_meter"] = meter
            return True
    return False


@action("verification_reminder", results=("done",))
async def verification_reminder(ctx: DialogueContext) -> str | None:
    if ctx.intent in ("affirm", "thanks") or ctx.said("напомни", "давайте"):
        meter: MeterInfo = ctx.slots["verification_meter"]
        due: date = meter.verification_due  # type: ignore[assignment]
        remind = date(due.year - (due.month == 1), (due.month - 2) % 12 + 1, 1)
        await ctx.store.create_task(
            ctx,
            "verification_reminder",
            {
                "account": ctx.slots["account_number"],
                "meter_id": meter.meter_id,
                "due": due,
                "remind_on": remind,
            },
        )
        return "done"
    if ctx.intent in ("deny", "refuse"):
        return "done"
    return None


@action("readings_outcome", provides=())
async def readings_outcome(ctx: DialogueContext) -> str:
    """Outcome at the end or on hang-up; values confirmed one by one are kept when the caller leaves."""
    if "account_id" not in ctx.slots:
        return "not_identified"
    state = _state(ctx)
    if not state["saved"]:
        confirmed = [p for p in state["values"].values() if p.confirmed]
        if confirmed:
            await _save(ctx, confirmed)
    if not state["saved"]:
        return "hangup"
    return "readings_accepted" if state.get("saved_count", 0) >= len(_meters(ctx)) else "readings_partial"


@action("meters_anything_else", results=("done", "electricity", "switched"))
async def meters_anything_else(ctx: DialogueContext) -> str | None:
    resources = [e.value for e in ctx.entities("resource")]
    own = {m.resource for m in _meters(ctx)}
    if any(r.startswith("electricity") for r in resources) and not any(
        r.startswith("electricity") for r in own
    ):
        return "electricity"
    if ctx.said("за свет", "электричеств") and not any(r.startswith("electricity") for r in own):
        return "electricity"
    if ctx.intent in ("deny", "goodbye", "thanks") or ctx.said("нет, всё", "это всё", "больше ничего"):
        return "done"
    if ctx.intent == "report_problem":
        ctx.switch("request_intake", "describe", replay=True)
        return "switched"
    if ctx.intent == "ask_status":
        ctx.switch("request_intake", "ask_ticket_number", replay=True)
        return "switched"
    if ctx.intent == "affirm":
        ctx.switch("request_intake", "describe_more")  # «да» to «Что-нибудь ещё?»: ask what
        return "switched"
    return None


@action("send_energy_sms", results=("sent", "declined"))
async def send_energy_sms(ctx: DialogueContext) -> str | None:
    if ctx.intent in ("affirm", "thanks") or ctx.said("давайте", "смс", "отправ"):
        await ctx.store.create_task(
            ctx, "sms", {"phone": ctx.call.phone, "template": "energy_supplier_contacts"}
        )
        return "sent"
    if ctx.intent in ("deny", "refuse", "goodbye"):
        return "declined"
    return None
