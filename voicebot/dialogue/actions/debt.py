"""Debt reminder: identity first (nothing about the debt before it), then amount, then a promise date.

152-ФЗ / 230-ФЗ: a wrong person hears neither amount nor address; a wrong number is blocked.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from voicebot.dialogue.actions.registry import action
from voicebot.dialogue.context import DialogueContext
from voicebot.dialogue.russian import name_in_case
from voicebot.values import MAX_AMOUNT, parse_address

DEBTOR_SLOTS = ("debtor_ins", "debtor_dat", "debtor_first", "amount", "period", "debt_address")
DRIVING_CUES = ("рул", "еду", "в дороге", "за рулем", "за рулём")
RELATIVE_CUES = (
    "жена",
    "муж",
    "сын",
    "дочь",
    "мама",
    "папа",
    "мать",
    "отец",
    "брат",
    "сестра",
    "внук",
    "бабушк",
)


def _amount(raw: object) -> Decimal | None:
    """A debt worth reading out: finite, above zero, sane; anything else (−5, 0, NaN, inf) is no debt."""
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw).replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() and 0 < value <= MAX_AMOUNT else None


@action("debt_prepare", results=("ok", "no_data"), provides=DEBTOR_SLOTS)
async def debt_prepare(ctx: DialogueContext) -> str:
    variables = ctx.call.variables
    account = (
        await ctx.store.account_by_number(str(variables["account"])) if variables.get("account") else None
    )
    if account is None and ctx.call.phone:
        found = await ctx.store.accounts_by_phone(ctx.call.phone)
        account = found[0] if len(found) == 1 else None
    full_name = variables.get("full_name") or (account.owner if account else "")
    amount = (
        _amount(variables.get("amount"))
        if variables.get("amount")
        else (_amount(account.debt) if account else None)
    )
    if not full_name or amount is None:
        return "no_data"
    if account:
        ctx.slots.update(account=account, account_id=account.id, account_number=account.number)
    ctx.slots.update(
        debtor_ins=name_in_case(full_name, "ins"),
        debtor_dat=name_in_case(full_name, "dat"),
        debtor_first=name_in_case(full_name, "nom", with_surname=False),
        amount=amount,
        period=variables.get("period") or (account.debt_period if account else None),
        debt_address=account.address_parts if account else _address_var(variables.get("address")),
    )
    return "ok"


def _address_var(raw: object) -> dict | None:
    if not raw:
        return None
    parts = parse_address(str(raw))
    return {"street": parts.street, "house": parts.house, "building": parts.building, "flat": parts.flat}


def _note_driving(ctx: DialogueContext) -> None:
    if ctx.said(*DRIVING_CUES):
        ctx.slots["driving"] = True


@action(
    "debt_identity",
    results=("yes", "no", "wrong_number", "owner_changed", "callback", "relative"),
    provides=("driving",),
)
async def debt_identity(ctx: DialogueContext) -> str | None:
    _note_driving(ctx)
    ctx.slots.setdefault("driving", False)
    intent = ctx.intent
    if intent == "owner_changed" or ctx.said("продал", "продала", "не собственник", "не живу"):
        return "owner_changed"
    if ctx.said(*RELATIVE_CUES) and not ctx.said("это я") and intent != "wrong_number":
        return "relative"  # «это жена его, его нет»: before «call later», which it also sounds like
    if intent == "callback_later" or ctx.said("не могу говорить", "перезвоните"):
        return "callback"
    if intent == "wrong_number" or ctx.said("ошиблись", "нет тут таких", "нет таких"):
        return "wrong_number"
    if intent in ("affirm", "inform") or ctx.said("да, я", "это я", "слушаю", "я слушаю"):
        return "yes"
    if intent == "deny":
        return "no"
    return None


@action("verify_wrong_number", results=("wrong", "is_debtor", "relative"))
async def verify_wrong_number(ctx: DialogueContext) -> str | None:
    if ctx.said("это я", "да, я", "ой, я"):
        return "is_debtor"
    if ctx.intent == "callback_later" or ctx.said(*RELATIVE_CUES):
        return "relative"
    if ctx.intent in ("deny", "affirm", "wrong_number", "refuse", "inform") or ctx.text:
        return "wrong"
    return None


@action("mark_wrong_number", results=("done",))
async def mark_wrong_number(ctx: DialogueContext) -> str:
    await ctx.store.withdraw_promises(ctx)
    await ctx.store.add_do_not_call(ctx, "wrong_number")
    await ctx.store.create_task(
        ctx, "contact_invalid", {"phone": ctx.call.phone, "account": ctx.call.variables.get("account")}
    )
    return "done"


def _promise_date(ctx: DialogueContext) -> date | None:
    value = ctx.entity("date")
    if value is None:
        return None
    promised = date.fromisoformat(str(value))
    return promised if promised >= ctx.now.date() else None


@action(
    "debt_answer",
    results=("promise", "ask_date", "already_paid", "owner_changed", "refused", "callback"),
    provides=("promised_date",),
)
async def debt_answer(ctx: DialogueContext) -> str | None:
    _note_driving(ctx)
    intent = ctx.intent
    if intent == "already_paid" or ctx.said("заплатил", "оплатил", "уже оплач", "всё оплач"):
        return "already_paid"
    if intent == "owner_changed" or ctx.said("продал", "продала"):
        return "owner_changed"
    if intent == "callback_later":
        return "callback"
    promised = _promise_date(ctx)
    if promised is not None:
        await _save_promise(ctx, promised)
        return "promise"
    if intent in ("refuse",) or ctx.said("не буду", "не мой долг", "не согласен", "не согласна", "оспор"):
        return "refused"
    if intent in ("promise_to_pay", "affirm", "dont_know"):
        return "ask_date"
    return None


async def _save_promise(ctx: DialogueContext, promised: date) -> None:
    ctx.slots["promised_date"] = promised
    await ctx.store.save_promise(ctx, ctx.slots.get("account"), ctx.slots.get("amount"), promised)


@action("debt_promise_date", results=("promise", "refused", "already_paid"), provides=("promised_date",))
async def debt_promise_date(ctx: DialogueContext) -> str | None:
    promised = _promise_date(ctx)
    if promised is not None:
        await _save_promise(ctx, promised)
        return "promise"
    if ctx.intent == "already_paid":
        return "already_paid"
    if ctx.intent == "refuse":
        return "refused"
    return None


@action("paid_details", results=("saved",), provides=("paid_date", "paid_amount"))
async def paid_details(ctx: DialogueContext) -> str | None:
    day = ctx.entity("date")
    amount = ctx.entity("money")
    if amount is None and ctx.entity("number") is not None:
        amount = ctx.entity("number")
    if day is None and amount is None:
        return None
    paid_date = date.fromisoformat(str(day)) if day is not None else None
    if paid_date and paid_date > ctx.now.date():
        paid_date = None
    paid_amount = Decimal(str(amount)) if amount is not None else None
    ctx.slots.update(paid_date=paid_date, paid_amount=paid_amount)
    await ctx.store.create_task(
        ctx,
        "payment_reconciliation",
        {"account": ctx.slots.get("account_number"), "paid_date": paid_date, "amount": paid_amount},
    )
    await ctx.store.add_do_not_call(ctx, "already_paid")
    return "saved"


@action("withdraw_promise", results=("done",))
async def withdraw_promise(ctx: DialogueContext) -> str:
    """The flat is not theirs (or the debt is disputed): a promise made earlier in the call is void."""
    await ctx.store.withdraw_promises(ctx)
    return "done"


@action("owner_changed_date", results=("saved",), provides=("sold_phrase",))
async def owner_changed_date(ctx: DialogueContext) -> str:
    await ctx.store.withdraw_promises(ctx)
    entities = ctx.entities("date")
    phrase = entities[-1].text if entities else ""
    ctx.slots["sold_phrase"] = _sold_phrase(phrase)
    await ctx.store.create_task(
        ctx,
        "owner_update",
        {
            "account": ctx.slots.get("account_number"),
            "sold": entities[-1].value if entities else None,
            "said": ctx.text,
        },
    )
    await ctx.store.add_do_not_call(ctx, "owner_changed")
    return "saved"


def _sold_phrase(phrase: str) -> str:
    phrase = phrase.strip(" .,!…").lower()
    if not phrase:
        return ""
    return (
        phrase
        if phrase.startswith(("в ", "во ", "на ", "с ", "до ", "летом", "зимой", "весной", "осенью"))
        else f"в {phrase}"
    )


@action("debt_dispute", results=("done",))
async def debt_dispute(ctx: DialogueContext) -> str:
    await ctx.store.withdraw_promises(ctx)
    await ctx.store.create_task(
        ctx, "debt_dispute", {"account": ctx.slots.get("account_number"), "said": ctx.text}
    )
    return "done"


@action("sms_offer", results=("sent", "declined"))
async def sms_offer(ctx: DialogueContext) -> str | None:
    if (
        ctx.intent in ("affirm", "thanks")
        or ctx.said("давайте", "отправ", "пришлите")
        or ctx.text.lower().startswith("да")
    ):
        await ctx.store.create_task(
            ctx,
            "sms",
            {"phone": ctx.call.phone, "template": "payment_link", "account": ctx.slots.get("account_number")},
        )
        return "sent"
    if ctx.intent in ("deny", "refuse", "goodbye"):
        return "declined"
    return None
