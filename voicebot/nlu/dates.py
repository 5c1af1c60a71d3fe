"""`date` entities: spoken dates resolved against the call's local time.

Rules (documented in docs/nlu.md):
- a bare day («двадцатого», «до двадцатого», «второго числа») is the next such day on or after today
  (date_preference="future") or the most recent one on or before today ("past");
- a day with a month («пятнадцатого декабря») picks the year the same way;
- weekdays («до пятницы», «в субботу») are the next one after today (future) or the last one before it;
- «сегодня», «завтра», «послезавтра», «вчера», «позавчера», «через неделю / N дней / месяц» are fixed
  offsets whatever the preference;
- «в начале / в середине / в конце июля» → the 1st / 15th / last day of that month, role "approx";
  a bare month («в июле») → its 1st day, role "month".
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from voicebot.nlu.context import Context
from voicebot.nlu.numerals import TENS, ordinal_value, read_group

_MONTH_RE = re.compile(r"^(январ|феврал|март|апрел|ма[йяею]|июн|июл|август|сентябр|октябр|ноябр|декабр)")
_MONTHS = {
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6, "июл": 7,
    "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
}  # fmt: skip
_WEEKDAYS = {
    "понедельник": 0, "вторник": 1, "среда": 2, "четверг": 3, "пятница": 4, "суббота": 5, "воскресенье": 6,
}  # fmt: skip
_RELATIVE = {"сегодня": 0, "завтра": 1, "послезавтра": 2, "вчера": -1, "позавчера": -2}
# Nouns that make an ordinal something other than a day of the month («второй подъезд»).
_NOT_A_DAY = frozenset(
    [
        "этаж",
        "подъезд",
        "корпус",
        "дом",
        "квартира",
        "раз",
        "день",
        "место",
        "час",
        "класс",
        "год",
        "неделя",
        "месяц",
        "звонок",
        "вариант",
        "тариф",
        "счетчик",
        "заявка",
        "минута",
        "секунда",
        "строение",
        "линия",
        "группа",
        "пункт",
    ]
)
_APPROX = {"начало": "start", "середина": "middle", "конец": "end"}
_UNIT_DAYS = {"день": 1, "сутки": 1, "неделя": 7}


def month_of(word: str) -> int | None:
    match = _MONTH_RE.match(word)
    if not match:
        return None
    stem = match.group(1)
    return _MONTHS["ма" if stem.startswith("ма") and stem != "март" else stem]


def extract(ctx: Context) -> None:
    i = 0
    while i < len(ctx.tokens):
        end = _try_at(ctx, i) if ctx.free(i) else None
        i = end + 1 if end is not None else i + 1


def _try_at(ctx: Context, i: int) -> int | None:
    for rule in (_relative_word, _in_period, _weekday, _approx_month, _day_of_month, _bare_month):
        end = rule(ctx, i)
        if end is not None:
            return end
    return None


def _emit(ctx: Context, day: dt.date, first: int, last: int, role: str | None = None) -> int:
    ctx.emit("date", day.isoformat(), first, last, role)
    return last


def _today(ctx: Context) -> dt.date:
    return ctx.now.date()


def _relative_word(ctx: Context, i: int) -> int | None:
    offset = _RELATIVE.get(ctx.tokens[i].text)
    if offset is None:
        return None
    return _emit(ctx, _today(ctx) + dt.timedelta(days=offset), i, i)


def _in_period(ctx: Context, i: int) -> int | None:
    """«через неделю», «через три дня», «через пару недель», «через месяц»."""
    if ctx.tokens[i].text != "через":
        return None
    j, count = i + 1, 1
    group = read_group(ctx.tokens, j)
    if group is not None and isinstance(group.value, int):
        count, j = group.value, group.last + 1
    elif ctx.text_at(j) in ("пару", "пар"):
        count, j = 2, j + 1
    unit = ctx.lemma_at(j)
    if unit in _UNIT_DAYS:
        return _emit(ctx, _today(ctx) + dt.timedelta(days=count * _UNIT_DAYS[unit]), i, j)
    if unit == "месяц":
        return _emit(ctx, add_months(_today(ctx), count), i, j)
    return None


def _weekday(ctx: Context, i: int) -> int | None:
    weekday = _WEEKDAYS.get(ctx.tokens[i].lemma)
    if weekday is None:
        return None
    today = _today(ctx)
    first = i - 1 if ctx.text_at(i - 1) in ("в", "во", "до", "к", "на", "с") and ctx.free(i - 1) else i
    if ctx.date_preference == "past":
        delta = -((today.weekday() - weekday) % 7 or 7)
    else:
        delta = (weekday - today.weekday()) % 7 or 7
    return _emit(ctx, today + dt.timedelta(days=delta), first, i)


def _approx_month(ctx: Context, i: int) -> int | None:
    """«в конце июля», «в начале месяца», «в середине декабря»."""
    part = _APPROX.get(ctx.tokens[i].lemma)
    if part is None:
        return None
    nxt = ctx.tokens[i + 1] if i + 1 < len(ctx.tokens) else None
    if nxt is None:
        return None
    today = _today(ctx)
    if nxt.lemma == "неделя":
        # «до конца недели» → this Sunday, «в начале недели» → next Monday, «в середине» → Wednesday
        weekday = {"start": 0, "middle": 2, "end": 6}[part]
        delta = (weekday - today.weekday()) % 7
        if part == "start" and delta == 0:
            delta = 7
        first = i - 1 if ctx.text_at(i - 1) in ("в", "к", "до") else i
        return _emit(ctx, today + dt.timedelta(days=delta), first, i + 1, role="approx")
    if nxt.lemma == "месяц":
        year, month = today.year, today.month
    else:
        month_no = month_of(nxt.text)
        if month_no is None:
            return None
        year, month = _year_for_month(today, month_no, ctx.date_preference), month_no
    last_day = calendar.monthrange(year, month)[1]
    day = {"start": 1, "middle": 15, "end": last_day}[part]
    first = i - 1 if ctx.text_at(i - 1) in ("в", "к", "до") else i
    return _emit(ctx, dt.date(year, month, day), first, i + 1, role="approx")


def _bare_month(ctx: Context, i: int) -> int | None:
    """«в июле» → the first day of July, role "month" (only after a preposition)."""
    if ctx.text_at(i - 1) not in ("в", "с", "до", "к") or not ctx.free(i - 1):
        return None
    month_no = month_of(ctx.tokens[i].text)
    if month_no is None:
        return None
    year = _year_for_month(_today(ctx), month_no, ctx.date_preference)
    return _emit(ctx, dt.date(year, month_no, 1), i - 1, i, role="month")


def _day_number(ctx: Context, i: int) -> tuple[int, int] | None:
    """The day said at tokens[i]: «двадцать пятого», «второго», «20-го», «15»; returns (day, last index)."""
    tok = ctx.tokens[i]
    dative = ctx.text_at(i - 1) in ("к", "по")  # «к первому числу», «к десятому декабря»
    if tok.text in TENS and tok.text in ("двадцать", "тридцать"):
        nxt = ctx.tokens[i + 1] if i + 1 < len(ctx.tokens) else None
        unit = ordinal_value(nxt) if nxt is not None else None
        if unit is not None and 1 <= unit <= 9 and _looks_like_day_form(nxt.text, dative=dative):
            return TENS[tok.text] + unit, i + 1
        return None
    value = ordinal_value(tok)
    if value is not None and 1 <= value <= 31 and _looks_like_day_form(tok.text, dative=dative):
        return value, i
    if tok.is_digit and tok.text.isdigit() and 1 <= int(tok.text) <= 31:
        if ctx.text_at(i + 1) in ("го", "е", "ое") and ctx.tokens[i + 1].sep == "-":
            return int(tok.text), i + 1
        if month_of(ctx.text_at(i + 1)) is not None or ctx.lemma_at(i + 1) == "число":
            return int(tok.text), i
    return None


def _looks_like_day_form(word: str, *, dative: bool = False) -> bool:
    return word.endswith(("ого", "ое", "ье", "его")) or dative and word.endswith(("ому", "ему"))


def _day_of_month(ctx: Context, i: int) -> int | None:
    found = _day_number(ctx, i)
    if found is None:
        return None
    day, last = found
    nxt_lemma, nxt_text = ctx.lemma_at(last + 1), ctx.text_at(last + 1)
    if nxt_lemma in _NOT_A_DAY:
        return None
    today = _today(ctx)
    month_no = month_of(nxt_text)
    first = i - 1 if ctx.text_at(i - 1) in ("до", "к", "на", "с", "по") and ctx.free(i - 1) else i
    if month_no is not None:
        year = _year_for_day(today, month_no, day, ctx.date_preference)
        if year is None:
            return None
        return _emit(ctx, dt.date(year, month_no, day), first, last + 1)
    if nxt_lemma == "число":
        last += 1
    resolved = _resolve_day(today, day, ctx.date_preference)
    return _emit(ctx, resolved, first, last) if resolved else None


def _resolve_day(today: dt.date, day: int, preference: str) -> dt.date | None:
    step = 1 if preference == "future" else -1
    year, month = today.year, today.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1]:
            candidate = dt.date(year, month, day)
            if (candidate >= today) if step == 1 else (candidate <= today):
                return candidate
        month += step
        if month == 13:
            year, month = year + 1, 1
        elif month == 0:
            year, month = year - 1, 12
    return None


def _year_for_day(today: dt.date, month: int, day: int, preference: str) -> int | None:
    step = 1 if preference == "future" else -1
    for k in range(5):  # five years always contain a 29 February
        year = today.year + k * step
        if day > calendar.monthrange(year, month)[1]:
            continue
        candidate = dt.date(year, month, day)
        if (candidate >= today) if step == 1 else (candidate <= today):
            return year
    return None


def _year_for_month(today: dt.date, month: int, preference: str) -> int:
    if preference == "future":
        return today.year if month >= today.month else today.year + 1
    return today.year if month <= today.month else today.year - 1


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
