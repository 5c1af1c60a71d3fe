"""Word-list entities: `resource` (which meter) and `location` (which room); take-back words."""

from __future__ import annotations

import re

from voicebot.nlu.context import Context
from voicebot.nlu.numerals import CARDINALS

# Lemma → resource code. «день»/«ночь» only count right before a number or after «тариф» (see below).
_RESOURCE_LEMMAS = {
    "холодный": "cold_water", "хвс": "cold_water", "горячий": "hot_water", "гвс": "hot_water",
    "свет": "electricity", "электричество": "electricity", "электроэнергия": "electricity",
    "электросчетчик": "electricity", "дневной": "electricity_t1", "ночной": "electricity_t2",
    "пиковый": "electricity_t3", "полупиковый": "electricity_t3", "газ": "gas", "газа": "gas", "газовый": "gas",
    "дневный": "electricity_t1",
    "отопление": "heat", "тепло": "heat", "теплосчетчик": "heat",
}  # fmt: skip
_TARIFFS = {"один": "electricity_t1", "1": "electricity_t1", "два": "electricity_t2", "2": "electricity_t2",
            "три": "electricity_t3", "3": "electricity_t3"}  # fmt: skip
# «холодная» about radiators or the flat is a complaint, not the cold-water meter.
_NOT_WATER_NOUNS = frozenset({"батарея", "радиатор", "пол", "квартира", "дом", "стояк", "подъезд"})
_LOCATIONS = {"ванная": "ванная", "ванна": "ванная", "ванный": "ванная", "кухня": "кухня", "туалет": "туалет",
              "санузел": "туалет", "уборная": "туалет"}  # fmt: skip


def extract_tariffs(ctx: Context) -> None:
    """«т-один», «Т1»: runs before the number extractors so the tariff digit is not read as a number."""
    for i, tok in enumerate(ctx.tokens):
        if ctx.free(i) and tok.text in ("т", "t") and ctx.text_at(i + 1) in _TARIFFS:
            ctx.emit("resource", _TARIFFS[ctx.text_at(i + 1)], i, i + 1)


def extract_resources(ctx: Context) -> None:
    for i, tok in enumerate(ctx.tokens):
        if not ctx.free(i):
            continue
        code = _RESOURCE_LEMMAS.get(tok.lemma)
        if code is None:
            code = _day_or_night(ctx, i)
        if code is None:
            continue
        if code in ("cold_water", "hot_water") and _about_something_else(ctx, i):
            continue
        last = i + 1 if ctx.lemma_at(i + 1) in ("вода", "водичка") and ctx.free(i + 1) else i
        ctx.emit("resource", code, i, last)


def _day_or_night(ctx: Context, i: int) -> str | None:
    lemma = ctx.tokens[i].lemma
    if lemma not in ("день", "ночь") or ctx.lemma_at(i - 1) in ("добрый", "спокойный"):
        return None  # «добрый день», «спокойной ночи» are greetings
    nxt = ctx.tokens[i + 1] if i + 1 < len(ctx.tokens) else None
    near_number = nxt is not None and (nxt.is_digit or ctx.tokens[i + 1].lemma in _NUMBER_LEMMAS)
    if near_number or ctx.lemma_at(i - 1) == "тариф" or len(ctx.tokens) <= 2:
        return "electricity_t1" if lemma == "день" else "electricity_t2"
    return None


def _about_something_else(ctx: Context, i: int) -> bool:
    around = set(ctx.lemmas_before(i, 2)) | set(ctx.lemmas_after(i, 2))
    return bool(around & _NOT_WATER_NOUNS)


def extract_locations(ctx: Context) -> None:
    for i, tok in enumerate(ctx.tokens):
        if not ctx.free(i):
            continue
        place = _LOCATIONS.get(tok.lemma) or _LOCATIONS.get(tok.text)
        if place is None:
            continue
        first = i - 1 if ctx.text_at(i - 1) in ("в", "на") and ctx.free(i - 1) else i
        ctx.emit("location", place, first, i)


_NUMBER_LEMMAS = frozenset(CARDINALS) | {"тысяча"}


# «ой, не то», «оговорилась», «неправильно»: what was said before is taken back; a value that follows
# replaces it (the NLU reads an answer opening with it as `deny` with the new value; the meter dialogue
# gives the value to the meter given last).
TAKE_BACK = re.compile(
    r"\b(не то|не так|не та|не тот|не те|не туда|неправильно|неверно|ошиб\w*|оговор\w*|перепута\w*|поправ\w*|"
    r"исправ\w*|отмен\w*)\b"
)


def takes_back_before(text: str, position: int) -> bool:
    """Whether a take-back word comes before `position` in `text`."""
    return bool(TAKE_BACK.search(text[:position].lower().replace("ё", "е")))
