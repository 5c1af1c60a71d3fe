"""Spoken numbers → `number`, `digits` and `money` entities.

Numbers are read as *runs*: consecutive number words, possibly with hesitation fillers between them.
Within a run the grammar (numerals.Group) splits or joins groups; then:
- a restart drops the unfinished first try: «триста сорок… триста сорок восемь» → 348;
- a repeated tail confirms and is dropped: «триста пятьдесят восемь. Пятьдесят восемь» → 358;
- three or more plain groups are a dictated digit string: «ноль семь, двадцать три, сорок пять» → "072345".
"""

from __future__ import annotations

from decimal import Decimal

from voicebot.nlu.context import Context
from voicebot.nlu.normalize import FILLERS, parses
from voicebot.nlu.numerals import FRACTION_DENOMINATORS, SCALES, Group, is_numeral, is_scale, read_group

_SKIP = FILLERS | {"э", "ээ"}
_DIGITS_CONTEXT = frozenset({"номер", "счет", "лицевой", "заявка", "телефон", "код", "лс", "договор"})
_MONEY_VERBS = frozenset(
    {"заплатить", "оплатить", "перевести", "внести", "сумма", "оплата", "платеж", "заплатил", "оплачивать",
     "платить", "отдать", "скинуть"}
)  # fmt: skip
_FRACTION_MARKERS = ("красн", "запят", "дробн")


def build_runs(ctx: Context) -> None:
    i = 0
    tokens = ctx.tokens
    while i < len(tokens):
        if not ctx.free(i) or not is_numeral(tokens[i]):
            i += 1
            continue
        run: list[Group] = []
        while i < len(tokens) and ctx.free(i) and is_numeral(tokens[i]):
            group = read_group(tokens, i, skip=_SKIP, stop=_free_until(ctx, i))
            assert group is not None
            _read_fraction(ctx, group)
            run.append(group)
            i = _skip_fillers(ctx, group.last + 1)
        ctx.runs.append(_clean(run))


def _free_until(ctx: Context, i: int) -> int:
    j = i
    while j < len(ctx.tokens) and ctx.free(j):
        j += 1
    return j


def _skip_fillers(ctx: Context, i: int) -> int:
    j = i
    while j < len(ctx.tokens) and ctx.free(j) and ctx.tokens[j].text in _SKIP:
        j += 1
    if j < len(ctx.tokens) and ctx.free(j) and is_numeral(ctx.tokens[j]):
        return j
    return i


def _read_fraction(ctx: Context, group: Group) -> None:
    """«и пять десятых», «целых семь», «запятая два», «с половиной» after a whole number."""
    if group.written is not None:
        return
    j = group.last + 1
    word = ctx.text_at(j)
    if word == "с" and ctx.text_at(j + 1) == "половиной":
        scale = ctx.tokens[j + 2] if j + 2 < len(ctx.tokens) and ctx.free(j + 2) else None
        if scale is not None and is_scale(scale) and not group.has_scale:
            # «три с половиной тысячи» → 3500: the half belongs to the scale word after it
            size = SCALES.get(scale.lemma) or 1000
            group.scale_total, group.current = group.current * size + size // 2, 0
            group.has_scale = True
            group.tail = ctx.tokens[j : j + 3]
            return
        group.fraction = Decimal("0.5")
        group.tail = ctx.tokens[j : j + 2]
        return
    if word == "и":
        part = read_group(ctx.tokens, j + 1, stop=_free_until(ctx, j + 1))
        denom = FRACTION_DENOMINATORS.get(ctx.lemma_at(part.last + 1)) if part else None
        if part is not None and denom is not None and not part.has_scale:
            group.fraction = Decimal(int(part.value)) / denom
            group.tail = ctx.tokens[j : part.last + 2]
        elif part is not None and _is_spoken_decimal(ctx, group, part):
            # «сто двадцать пять и три» read off a meter: the part after «и» is the decimal tail
            digits = part.digit_string()
            group.fraction = Decimal(int(digits)) / (10 ** len(digits))
            group.tail = ctx.tokens[j : part.last + 1]
        return
    if word in ("целых", "целая", "запятая", "точка"):
        digits, last = _dictated_digits(ctx, j + 1)
        if not digits:
            return
        denom = FRACTION_DENOMINATORS.get(ctx.lemma_at(last + 1))
        if denom is not None:
            group.fraction, last = Decimal(int(digits)) / denom, last + 1
        else:
            group.fraction = Decimal(int(digits)) / (10 ** len(digits))
        group.tail = ctx.tokens[j : last + 1]


def _is_spoken_decimal(ctx: Context, group: Group, part: Group) -> bool:
    """«X и Y» with a short Y closing the utterance (or the sentence) and no unit after it."""
    if group.has_scale or group.value < 10 or part.has_scale or part.written or not 0 < part.value < 100:
        return False
    if part.is_zero or not isinstance(part.value, int):
        return False
    after = ctx.tokens[part.last + 1] if part.last + 1 < len(ctx.tokens) else None
    return after is None or after.sep in (".", "…", ",")


def _dictated_digits(ctx: Context, i: int) -> tuple[str, int]:
    digits, last = "", i - 1
    while ctx.free(last + 1):
        part = read_group(ctx.tokens, last + 1, stop=_free_until(ctx, last + 1))
        if part is None or part.has_scale:
            break
        digits += part.digit_string()
        last = part.last
    return digits, last


def _clean(run: list[Group]) -> list[Group]:
    """Drop restarts («сорок… сорок четыре») and confirming repeats («…пятьдесят восемь. Пятьдесят восемь»)."""
    out: list[Group] = []
    for group in run:
        if out and _is_restart(out[-1], group):
            out.pop()
        if out and _is_confirmation(out[-1], group):
            continue
        out.append(group)
    return out


def _is_restart(before: Group, after: Group) -> bool:
    n = len(before.words)
    return before.written is None and n < len(after.words) and after.words[:n] == before.words and n > 0


def _is_confirmation(before: Group, after: Group) -> bool:
    n = len(after.words)
    return after.written is None and 0 < n < len(before.words) and before.words[-n:] == after.words


def extract_money(ctx: Context) -> None:
    money_context = (
        "money" in ctx.expected_entities
        or bool(_MONEY_VERBS & {t.lemma for t in ctx.tokens})
        or any(t.lemma in ("рубль", "руб", "копейка") for t in ctx.tokens)
    )
    for run in ctx.runs:
        k = 0
        while k < len(run):
            k += _money_at(ctx, run, k, money_context)


def _money_at(ctx: Context, run: list[Group], k: int, money_context: bool) -> int:
    group = run[k]
    value: Decimal = Decimal(group.value)
    used = 1
    nxt = run[k + 1] if k + 1 < len(run) else None
    colloquial = (
        nxt is not None
        and not group.has_scale
        and 0 < group.value < 100
        and nxt.has_hundreds
        and not nxt.has_scale
        and nxt.value < 1000
    )
    last = group.last
    if colloquial:
        after = ctx.lemma_at(nxt.last + 1)
        if money_context or after in ("рубль", "ровно"):
            value, used, last = Decimal(group.value * 1000 + nxt.value), 2, nxt.last
        else:
            colloquial = False
    after_lemma = ctx.lemma_at(last + 1)
    if after_lemma in ("рубль", "руб", "р") and _with_kopecks_word(ctx, last + 1):
        last += 3  # «тысяча двести рублей с копейками»: the kopecks are not said, the roubles are
    elif _with_kopecks_word(ctx, last):
        last += 2  # «тысяча двести с копейками»
    elif after_lemma in ("рубль", "руб", "р"):
        last += 1
        kop = read_group(ctx.tokens, last + 1)
        if kop is not None and ctx.lemma_at(kop.last + 1) == "копейка" and kop.value < 100:
            value += Decimal(int(kop.value)) / 100
            last = kop.last + 1
            _consume_group(ctx, kop)
    elif (
        not colloquial
        and not (money_context and _near_money_word(ctx, group))
        and ("money" not in ctx.expected_entities or group.value < 10)
    ):
        return 1  # (a step asking for an amount reads a bare «две триста» as money)
    if ctx.text_at(last + 1) == "ровно":
        last += 1
    value = value.quantize(Decimal("0.01")) if value != value.to_integral_value() else value
    ctx.emit("money", value, group.first, last)
    for g in run[k : k + used]:
        g.consumed = True
    return used


def _with_kopecks_word(ctx: Context, i: int) -> bool:
    return ctx.text_at(i + 1) == "с" and ctx.lemma_at(i + 2) in ("копейка", "копеечка", "хвостик")


def _near_money_word(ctx: Context, group: Group) -> bool:
    around = set(ctx.lemmas_before(group.first, 4)) | set(ctx.lemmas_after(group.last, 2))
    return bool(around & _MONEY_VERBS) or ctx.lemma_at(group.last + 1) == "ровно"


def _consume_group(ctx: Context, group: Group) -> None:
    for run in ctx.runs:
        for g in run:
            if g.first == group.first:
                g.consumed = True


def extract_digits(ctx: Context) -> None:
    for run in ctx.runs:
        for groups in _sentences(run):
            _digits_in(ctx, groups)


def _sentences(run: list[Group]) -> list[list[Group]]:
    """A dictated string does not cross a sentence end: «семь-восемь. Восемь» is not "788"."""
    out: list[list[Group]] = [[]]
    for group in run:
        if out[-1] and group.tokens[0].sep == ".":
            out.append([])
        out[-1].append(group)
    return out


def _digits_in(ctx: Context, groups: list[Group]) -> None:
    if not groups or any(g.consumed for g in groups) or not _is_dictation(ctx, groups):
        return
    digits = "".join(g.digit_string() for g in groups)
    ctx.emit("digits", digits, groups[0].first, groups[-1].last)
    for g in groups:
        g.consumed = True


def _is_dictation(ctx: Context, groups: list[Group]) -> bool:
    if any(g.has_scale or g.fraction is not None or g.value >= 1000 and g.written is None for g in groups):
        return False
    context = bool(_DIGITS_CONTEXT & set(ctx.lemmas_before(groups[0].first, 4)))
    if len(groups) >= 3:
        return True
    if len(groups) == 2:
        return groups[0].is_zero or groups[0].digit_string().startswith("0") or context
    written = groups[0].written
    return written is not None and (
        written.startswith("0") or len(written) >= 6 or context and len(written) >= 3
    )


def extract_numbers(ctx: Context) -> None:
    for run in ctx.runs:
        for group in run:
            if group.consumed or _is_counted_one(ctx, group):
                continue
            role = "fraction" if _after_fraction_marker(ctx, group) else None
            if role is None and _is_rejected(ctx, group):
                role = "rejected"
            ctx.emit("number", group.value, group.first, group.last, role)
            group.consumed = True


def _after_fraction_marker(ctx: Context, group: Group) -> bool:
    before = ctx.tokens[max(0, group.first - 6) : group.first]
    return any(t.text.startswith(_FRACTION_MARKERS) for t in before) or (
        ctx.text_at(group.first - 1) == "запятой" and ctx.text_at(group.first - 2) == "после"
    )


def _is_rejected(ctx: Context, group: Group) -> bool:
    """«не девять, а десять»: a value said right after «не» is the one being corrected away («не-не,
    пятьсот» — a pause or a comma after «не» — brings the new value instead)."""
    return (
        ctx.text_at(group.first - 1) == "не"
        and not ctx.tokens[group.first].sep.strip()
        and ctx.text_at(group.last + 1) in ("а", "")
    )


def _is_counted_one(ctx: Context, group: Group) -> bool:
    """«одну секундочку», «один вопрос»: «один» agreeing with a noun is an article, not a value."""
    if group.written is not None or len(group.tokens) != 1 or group.value != 1 or group.tail:
        return False
    nxt = ctx.tokens[group.last + 1] if group.last + 1 < len(ctx.tokens) else None
    return nxt is not None and nxt.sep == " " and not is_numeral(nxt) and "NOUN" in parses(nxt.text)[0].tag
