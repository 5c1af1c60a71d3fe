"""Finding the resident's account: by caller number, by account digits, or by address and surname."""

from __future__ import annotations

from typing import Any

from voicebot.dialogue.actions.registry import action
from voicebot.dialogue.context import DialogueContext
from voicebot.dialogue.store import AccountInfo
from voicebot.values import normalize_key

IDENTITY_SLOTS = ("account_number", "account_address", "owner_first", "accounts_list")

DONT_KNOW_CUES = ("не помн", "не знаю", "забыл", "выкинул", "потерял", "нет квитанц", "не найду", "по адресу")


def use_account(ctx: DialogueContext, account: AccountInfo) -> None:
    ctx.slots.update(
        account=account,
        account_id=account.id,
        account_number=account.number,
        account_address=account.address_parts,
        owner_first=first_and_patronymic(account.owner),
    )
    ctx.timezone = account.timezone


def first_and_patronymic(owner: str) -> str:
    """«Петрова Галина Ивановна» → «Галина Ивановна» (how a caller is addressed politely)."""
    parts = owner.replace(".", " ").split()
    return " ".join(parts[1:3]) if len(parts) >= 3 else ""


def _street_key(text: str) -> str:
    key = normalize_key(text)
    return key[: max(4, len(key) - 2)]  # stem: «садовой» and «садовая» share «садов»


@action("identify_by_phone", results=("one", "several", "none"), provides=IDENTITY_SLOTS)
async def identify_by_phone(ctx: DialogueContext) -> str:
    preset = ctx.call.variables.get("account")
    if preset:
        account = await ctx.store.account_by_number(str(preset))
        if account:
            use_account(ctx, account)
            return "one"
    accounts = await ctx.store.accounts_by_phone(ctx.call.phone)
    if len(accounts) == 1:
        use_account(ctx, accounts[0])
        return "one"
    if len(accounts) > 1:
        ctx.slots["candidates"] = accounts
        ctx.slots["accounts_list"] = [a.address_parts for a in accounts]
        return "several"
    return "none"


@action("choose_account", results=("chosen",), provides=IDENTITY_SLOTS)
async def choose_account(ctx: DialogueContext) -> str | None:
    candidates: list[AccountInfo] = ctx.slots.get("candidates", [])
    chosen = _by_mention(ctx, candidates) or _by_ordinal(ctx, candidates)
    if chosen is None:
        return None
    use_account(ctx, chosen)
    return "chosen"


def _by_mention(ctx: DialogueContext, candidates: list[AccountInfo]) -> AccountInfo | None:
    """The first candidate whose street (or account number) the caller names."""
    text = normalize_key(ctx.text)
    digits = ctx.entity("digits")
    best: tuple[int, AccountInfo] | None = None
    for account in candidates:
        if digits and account.number.lstrip("0") == str(digits).lstrip("0"):
            return account
        if account.street:
            position = text.find(_street_key(account.street))
            if position >= 0 and (best is None or position < best[0]):
                best = (position, account)
    return best[1] if best else None


_ORDINALS = {"перв": 0, "втор": 1, "трет": 2, "четверт": 3}


def _by_ordinal(ctx: DialogueContext, candidates: list[AccountInfo]) -> AccountInfo | None:
    for stem, index in _ORDINALS.items():
        if ctx.said(stem) and index < len(candidates):
            return candidates[index]
    return None


@action(
    "account_digits", results=("found", "not_found", "unknown"), provides=IDENTITY_SLOTS + ("heard_digits",)
)
async def account_digits(ctx: DialogueContext) -> str | None:
    digits = ctx.entity("digits")
    if digits is None and ctx.entity("number") is not None:
        number = ctx.entity("number")
        digits = str(number) if float(number) == int(number) else None
    if digits:
        ctx.slots["heard_digits"] = str(digits)
        account = await ctx.store.account_by_number(str(digits))
        if account is None:
            return "not_found"
        use_account(ctx, account)
        return "found"
    if ctx.intent in ("dont_know", "deny") or ctx.said(*DONT_KNOW_CUES):
        return "unknown"
    return None


@action("yes_no", results=("yes", "no"))
async def yes_no(ctx: DialogueContext) -> str | None:
    if ctx.intent in ("affirm", "thanks") or (ctx.intent is None and ctx.said("верно", "правильно", "да")):
        return "yes"
    if ctx.intent in ("deny", "refuse"):
        return "no"
    return None


@action("address_lookup", results=("found", "not_found"), provides=("heard_address",))
async def address_lookup(ctx: DialogueContext) -> str | None:
    address = ctx.entity("address")
    if not address or not address.get("street"):
        return None
    ctx.slots["heard_address"] = address
    accounts = await ctx.store.accounts_by_address(
        address.get("street"), address.get("house"), address.get("flat"), address.get("building")
    )
    if not accounts:
        return "not_found"
    ctx.slots["candidates"] = accounts
    return "found"


@action("surname_check", results=("ok", "mismatch"), provides=IDENTITY_SLOTS)
async def surname_check(ctx: DialogueContext) -> str | None:
    candidates: list[AccountInfo] = ctx.slots.get("candidates", [])
    person: dict[str, Any] | None = ctx.entity("person")
    said = normalize_key(ctx.text)
    surname = normalize_key((person or {}).get("surname") or "")
    if not said:
        return None
    for account in candidates:
        owner_surname = normalize_key(account.owner.split()[0]) if account.owner else ""
        if owner_surname and (surname == owner_surname or owner_surname in said.split()):
            use_account(ctx, account)
            return "ok"
    return "mismatch"


AGREEMENT_CUES = ("давайте", "да,", "да.", "да ", "можно", "удобно", "конечно", "ага", "угу")


@action("yes_no_or_readings", results=("yes", "no"))
async def yes_no_or_readings(ctx: DialogueContext) -> str | None:
    """«Удобно сейчас передать?» — «Ну… давайте, только быстро, я на работе» is a yes despite the work."""
    text = ctx.text.lower() + " "
    if any(cue in text for cue in ("неудобно", "не удобно", "не могу", "некогда")):
        return "no"
    if ctx.intent in ("affirm", "submit_readings") or any(cue in text for cue in AGREEMENT_CUES):
        return "yes"
    if ctx.intent in ("deny", "callback_later", "refuse"):
        return "no"
    return None
