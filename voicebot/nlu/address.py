"""`address` entities: {"street", "house", "building", "entrance", "floor", "flat"} from speech.

Streets are recognised by a keyword («улица Гагарина»), by a name followed by a house number
(«Ленина, двадцать шесть», «Советская, сорок»), or after «на/по» («на Садовой»). Adjective streets are
put in the nominative feminine as on signs (Садовая); name streets stay in the genitive (Ленина, Мира).
Partial addresses («во втором подъезде на четвёртом этаже») are emitted too.
"""

from __future__ import annotations

from typing import Any

from voicebot.nlu.context import Context
from voicebot.nlu.normalize import FILLERS, Token, parses
from voicebot.nlu.numerals import TENS, Group, is_numeral, ordinal_value

_STREET_TYPES = {"улица": None, "ул": None, "проспект": "проспект", "пр": "проспект", "просп": "проспект",
                 "пер": "переулок", "б": "бульвар", "бул": "бульвар", "наб": "набережная", "ш": "шоссе", "переулок": "переулок",
                 "бульвар": "бульвар", "шоссе": "шоссе", "проезд": "проезд", "площадь": "площадь",
                 "набережная": "набережная", "микрорайон": "микрорайон"}  # fmt: skip
_PART_KEYWORDS = {"дом": "house", "д": "house", "корпус": "building", "корп": "building",
                  "строение": "building", "квартира": "flat", "кв": "flat", "подъезд": "entrance",
                  "этаж": "floor"}  # fmt: skip
_INT_PARTS = frozenset({"entrance", "floor"})
# Words that look like a street before a number but are meters, rooms or small talk.
_NOT_STREETS = frozenset(
    [
        "холодный",
        "горячий",
        "дневной",
        "дневный",
        "ночной",
        "кухня",
        "ванная",
        "туалет",
        "вода",
        "свет",
        "газ",
        "тариф",
        "счетчик",
        "номер",
        "заявка",
        "показание",
        "итого",
        "всего",
        "сумма",
        "минута",
        "час",
        "день",
        "неделя",
        "месяц",
        "год",
        "рубль",
        "оценка",
        "балл",
        "раз",
        "этаж",
        "подъезд",
        "квартира",
        "дом",
        "корпус",
        "лицевой",
        "счет",
        "цифра",
        "показания",
    ]
)
_ADDRESS_CONTEXT = frozenset(
    [
        "дом",
        "д",
        "квартира",
        "кв",
        "корпус",
        "строение",
        "подъезд",
        "этаж",
        "улица",
        "ул",
        "адрес",
        "проспект",
        "переулок",
        "живу",
        "проживаю",
    ]
)
# A number followed by one of these is a measurement, not a house («дома восемнадцать градусов»).
_UNITS = frozenset(
    [
        "градус",
        "час",
        "минута",
        "день",
        "год",
        "раз",
        "рубль",
        "процент",
        "человек",
        "кубометр",
        "куб",
        "неделя",
        "месяц",
    ]
)
_LETTERS = frozenset({"а", "б", "в", "г", "бэ", "вэ", "гэ"})


def extract(ctx: Context) -> None:
    parts: dict[str, Any] = {}
    span: list[int] = []
    for i in range(len(ctx.tokens)):
        if not ctx.free(i) or i in span:
            continue
        found = _part_at(ctx, i) or _street_at(ctx, i) or _house_then_street(ctx, i)
        if found is None:
            continue
        values, first, last = found
        for key, value in values.items():
            parts.setdefault(key, value)  # the first house said is the house; «дом» twice is a repeat
        span.extend(range(first, last + 1))
    if "street" not in parts and (parts or "address" in ctx.expected_entities):
        found = _loose_street(ctx, span, strict=not parts)
        if found is not None:
            parts["street"] = _street_name(ctx.tokens[found])
            span.append(found)
    if not parts:
        return
    address = {k: parts.get(k) for k in ("street", "house", "building", "entrance", "floor", "flat")}
    ctx.emit("address", address, min(span), max(span))
    _consume_groups(ctx, min(span), max(span))


def _consume_groups(ctx: Context, first: int, last: int) -> None:
    for run in ctx.runs:
        for group in run:
            if first <= group.first <= last:
                group.consumed = True


def _group_after(ctx: Context, k: int) -> Group | None:
    """The spoken number starting at or right after tokens[k], skipping «номер», fillers and restarts."""
    for run in ctx.runs:
        for group in run:
            if group.consumed or group.first < k:
                continue
            between = ctx.tokens[k : group.first]
            if all(t.text in FILLERS or t.text == "номер" or is_numeral(t) for t in between):
                return group
            return None
    return None


def _number_text(ctx: Context, group: Group) -> tuple[str, int]:
    """House or flat as a string, with a spoken letter: «пятнадцать а» → "15а"."""
    text = group.written or str(group.value)
    last = group.last
    nxt = ctx.text_at(last + 1)
    after = ctx.text_at(last + 2)
    if nxt in _LETTERS and (after == "" or after in _PART_KEYWORDS or ctx.tokens[last + 2].sep in (",", ".")):
        text += nxt[0]
        last += 1
    return text, last


def _part_at(ctx: Context, i: int) -> tuple[dict[str, Any], int, int] | None:
    tok = ctx.tokens[i]
    part = _PART_KEYWORDS.get(tok.lemma) or _PART_KEYWORDS.get(tok.text)
    if part is None:
        return None
    if part in _INT_PARTS:
        ordinal = _ordinal_near(ctx, i)
        if ordinal is not None:
            value, first, last = ordinal
            return {part: value}, first, last
    elif part == "flat" and _feminine_ordinal_before(ctx, i) is not None:
        value, first = _feminine_ordinal_before(ctx, i)  # type: ignore[misc]
        return {part: str(value)}, first, i  # «девятнадцатая квартира», «тридцать первая квартира»
    lettered = _lettered_number(ctx, i + 1)
    if lettered is not None and part not in _INT_PARTS:
        return {part: lettered}, i, i + 1
    group = _group_after(ctx, i + 1)
    if group is None or group.has_scale or ctx.lemma_at(group.last + 1) in _UNITS:
        return None
    if part in _INT_PARTS:
        return {part: int(group.value)}, i, group.last
    text, last = _number_text(ctx, group)
    return {part: text}, i, last


def _house_then_street(ctx: Context, i: int) -> tuple[dict[str, Any], int, int] | None:
    """«двадцать шесть, Ленина», «двенадцать по Садовой»: the number first, the street right after it."""
    house = _group_after(ctx, i)
    if house is None or house.first != i or not _plausible_house(house):
        return None
    j = house.last + 1
    if ctx.text_at(j) in ("по", "на") and ctx.free(j):
        j += 1
    if j >= len(ctx.tokens) or not ctx.free(j) or not _street_candidate(ctx.tokens[j]):
        return None
    context = "address" in ctx.expected_entities or bool(_ADDRESS_CONTEXT & {t.lemma for t in ctx.tokens})
    if not (context or _street_like(ctx.tokens[j], loose=False)):
        return None
    text, _ = _number_text(ctx, house)
    return {"street": _street_name(ctx.tokens[j]), "house": text}, i, j


def _street_candidate(tok: Token) -> bool:
    return (
        tok.text.isalpha()
        and len(tok.text) >= 3
        and tok.lemma not in _NOT_STREETS
        and tok.lemma not in _PART_KEYWORDS
        and not is_numeral(tok)
        and _street_like(tok, loose=True)
    )


def _loose_street(ctx: Context, span: list[int], *, strict: bool) -> int | None:
    """A street name said apart from its numbers («дом пять корпус два, Кирова»)."""
    for i, tok in enumerate(ctx.tokens):
        if not ctx.free(i) or i in span or not _street_candidate(tok):
            continue
        if _is_name(tok) and _has_tag(ctx.tokens[i + 1], "Patr") if i + 1 < len(ctx.tokens) else False:
            continue  # «Петрова Галина Ивановна» is a person
        if strict and not _street_like(tok, loose=False):
            continue
        return i
    return None


def _feminine_ordinal_before(ctx: Context, i: int) -> tuple[int, int] | None:
    """An ordinal agreeing with «квартира» right before it (no comma between): value and first index."""
    j = i - 1
    if (
        j < 0
        or not ctx.free(j)
        or ctx.tokens[i].sep != " "
        or not ctx.text_at(j).endswith(("ая", "ой", "ую"))
    ):
        return None
    value = ordinal_value(ctx.tokens[j])
    if value is None:
        return None
    tens = ctx.text_at(j - 1)
    if value < 10 and tens in TENS and ctx.free(j - 1):
        return TENS[tens] + value, j - 1
    return value, j


def _ordinal_near(ctx: Context, i: int) -> tuple[int, int, int] | None:
    """«во втором подъезде», «этаж четвёртый»: an ordinal right before or after the keyword."""
    for j in (i - 1, i + 1):
        if 0 <= j < len(ctx.tokens) and ctx.free(j):
            value = ordinal_value(ctx.tokens[j])
            if value is not None:
                return value, min(i, j), max(i, j)
    return None


def _street_at(ctx: Context, i: int) -> tuple[dict[str, Any], int, int] | None:
    tok = ctx.tokens[i]
    if tok.lemma in _STREET_TYPES or tok.text in _STREET_TYPES:
        return _after_street_type(ctx, i)
    kind = _STREET_TYPES.get(ctx.lemma_at(i + 1)) or _STREET_TYPES.get(ctx.text_at(i + 1))
    if kind and len(ctx.text_at(i + 1)) > 2 and _is_adjective(tok):
        values: dict[str, Any] = {"street": f"{_adjective_for(tok, kind)} {kind}"}  # «Ленинский проспект»
        house = _group_after(ctx, i + 2)
        last = i + 1
        if house is not None and house.first == i + 2 and _plausible_house(house):
            values["house"], last = _number_text(ctx, house)
        return values, i, last
    if not tok.text.isalpha() or len(tok.text) < 3 or tok.lemma in _NOT_STREETS or is_numeral(tok):
        return None
    prep = ctx.text_at(i - 1) in ("на", "по")
    lettered = _lettered_number(ctx, i + 1)
    if lettered is not None and _street_like(tok, loose=True):
        return {"street": _street_name(tok), "house": lettered}, i, i + 1
    house = _group_after(ctx, i + 1)
    loose = prep or bool(_ADDRESS_CONTEXT & {t.lemma for t in ctx.tokens})
    if (
        house is not None
        and house.first == i + 1
        and _plausible_house(house)
        and _street_like(tok, loose=loose)
    ):
        name = _street_name(tok)
        text, last = _number_text(ctx, house)
        return {"street": name, "house": text}, i, last
    if prep and _street_like(tok, loose=False) and not _modifies_next(ctx, i):
        return {"street": _street_name(tok)}, i, i
    return None


def _after_street_type(ctx: Context, i: int) -> tuple[dict[str, Any], int, int] | None:
    j = i + 1
    if j >= len(ctx.tokens) or not ctx.tokens[j].text.isalpha() or is_numeral(ctx.tokens[j]):
        return None
    written_capital = ctx.text[ctx.tokens[j].start].isupper()
    if not written_capital and not _street_like(ctx.tokens[j], loose=True):
        return None  # «на улице мороз»: the street type is just the word «street»
    words = [_street_name(ctx.tokens[j])]
    if j + 1 < len(ctx.tokens) and _is_name(ctx.tokens[j]) and _has_tag(ctx.tokens[j + 1], "Surn"):
        j += 1
        words.append(ctx.tokens[j].text.capitalize())
    kind = _STREET_TYPES.get(ctx.tokens[i].lemma) or _STREET_TYPES.get(ctx.tokens[i].text)
    street = " ".join(([kind] if kind else []) + words)
    values: dict[str, Any] = {"street": street}
    house = _group_after(ctx, j + 1)
    if house is not None and house.first == j + 1 and not house.has_scale:
        values["house"], j = _number_text(ctx, house)
    return values, i, j


def _lettered_number(ctx: Context, j: int) -> str | None:
    """A written house or flat number with a letter: «15а»."""
    text = ctx.text_at(j)
    return text if text[:1].isdigit() and text[-1].isalpha() and ctx.free(j) else None


def _plausible_house(group: Group) -> bool:
    return not group.has_scale and not group.is_zero and group.fraction is None and 0 < group.value < 1000


def _is_adjective(tok: Token) -> bool:
    return any("ADJF" in p.tag and "Apro" not in p.tag for p in parses(tok.text)[:2])


def _adjective_for(tok: Token, kind: str) -> str:
    """The adjective agreeing with the street type as on signs: «Ленинский проспект», «Новая улица»."""
    gender = {"набережная": "femn", "площадь": "femn", "шоссе": "neut"}.get(kind, "masc")
    for p in parses(tok.text)[:3]:
        if "ADJF" in p.tag:
            form = p.inflect({"nomn", gender, "sing"})
            if form is not None:
                return form.word.replace("ё", "е").capitalize()
    return tok.text.capitalize()


def _has_tag(tok: Token, tag: str) -> bool:
    return any(tag in p.tag for p in parses(tok.text)[:3])


def _is_name(tok: Token) -> bool:
    return "Name" in parses(tok.text)[0].tag


def _street_like(tok: Token, *, loose: bool) -> bool:
    """A feminine adjective (Садовая), or a genitive name/noun (Ленина, Мира)."""
    for p in parses(tok.text)[:3]:
        tag = p.tag
        if "Fixd" in tag:
            continue  # indeclinable surnames («Мороз») read into any case
        if "ADJF" in tag and "Anum" not in tag and "femn" in tag and "sing" in tag and "Apro" not in tag:
            return True
        if "NOUN" in tag and "gent" in tag and ("Surn" in tag or "Name" in tag or loose):
            return "plur" not in tag
    return False


def _modifies_next(ctx: Context, i: int) -> bool:
    nxt = ctx.tokens[i + 1] if i + 1 < len(ctx.tokens) else None
    return nxt is not None and nxt.sep == " " and "NOUN" in parses(nxt.text)[0].tag


def _street_name(tok: Token) -> str:
    for p in parses(tok.text)[:3]:
        if "ADJF" in p.tag and "femn" in p.tag:
            nominative = p.inflect({"nomn", "femn", "sing"})
            word = nominative.word if nominative else tok.text
            return word.replace("ё", "е").capitalize()
    return tok.text.capitalize()
