"""Prompt templates: Jinja2 with Russian formatters, rendered twice.

The *speech* rendering is what the bot says (numbers, money, dates as words: the synthesiser reads it as
is); the *display* rendering is for screens and logs (digits). A template names its values once and gets
both, e.g. `{{ amount|money }}` → «четыре тысячи восемьсот семьдесят рублей пятьдесят копеек» / «4 870,50 ₽».
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta

from voicebot.tts.verbalize import (
    capitalize_sentences,
    noun_gender,
    plural,
    say_date,
    say_digits,
    say_money,
    say_number,
    say_ordinal,
    say_time,
    verbalize,
)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_time(value: Any) -> time:
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    text = str(value)
    return datetime.fromisoformat(text).time() if "T" in text else time.fromisoformat(text)


def _number_display(value: Any) -> str:
    d = Decimal(str(value))
    return str(d.quantize(Decimal(1))) if d == d.to_integral_value() else str(d.normalize())


def _say_value(value: Any, gender: str = "m", case: str = "nom") -> str:
    d = Decimal(str(value))
    if d == d.to_integral_value():
        return say_number(int(d), gender, case)  # type: ignore[arg-type]
    return say_number(d, gender, case)  # type: ignore[arg-type]


def say_code(code: str) -> str:
    """Request numbers the way dispatchers read them: 24018 → «двадцать четыре ноль восемнадцать»."""
    digits = "".join(ch for ch in str(code) if ch.isdigit())
    if len(digits) != len(str(code)) or len(digits) < 5:
        return say_digits(digits) if digits else str(code)
    head, middle, tail = digits[:2], digits[2:-2], digits[-2:]
    words = [say_number(int(head))] if head[0] != "0" else [say_digits(head)]
    words += [say_digits(middle)] if middle else []
    words += [say_number(int(tail))] if tail[0] != "0" else [say_digits(tail)]
    return " ".join(words)


def _when(value: Any, today: date, case: str = "gen") -> str:
    # A day said as *when* something happens is in the genitive: «перезвоню двадцать третьего ноября».
    day = _as_date(value)
    if day == today:
        return "сегодня"
    if day == today + timedelta(days=1):
        return "завтра"
    if day == today + timedelta(days=2):
        return "послезавтра"
    return say_date(day, case=case)  # type: ignore[arg-type]


def _when_display(value: Any, today: date, case: str = "gen") -> str:
    day = _as_date(value)
    return {today: "сегодня", today + timedelta(days=1): "завтра"}.get(day, day.strftime("%d.%m.%Y"))


_MONTHS_PREP = (
    "январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе", "сентябре", "октябре", "ноябре", "декабре",
)  # fmt: skip


def _in_month(value: Any, today: date) -> str:
    day = _as_date(value)
    if (day.year, day.month) == (today.year, today.month):
        return "в этом месяце"
    words = f"в {_MONTHS_PREP[day.month - 1]}"
    if day.year == today.year + 1:
        words += " следующего года"
    elif day.year != today.year:
        words += f" {say_ordinal(day.year, 'm', 'gen')} года"
    return words


_WEEKDAYS_ACC = (
    "в понедельник",
    "во вторник",
    "в среду",
    "в четверг",
    "в пятницу",
    "в субботу",
    "в воскресенье",
)


def _ago(value: Any, today: date) -> str:
    """A past day as people say it: «вчера», «в понедельник», «двенадцатого ноября»."""
    day = _as_date(value)
    delta = (today - day).days
    if delta == 0:
        return "сегодня"
    if delta == 1:
        return "вчера"
    if delta == 2:
        return "позавчера"
    if 0 < delta < 7:
        return _WEEKDAYS_ACC[day.weekday()]
    return say_date(day, case="gen")


def _address_speech(parts: Any) -> str:
    street, house, building, flat = (parts.get(k) for k in ("street", "house", "building", "flat"))
    words = [street] if street else []
    if house:
        words.append(_house_words(house))
    if building:
        words.append(f"корпус {_house_words(building)}")
    if flat:
        words.append(f"квартира {_house_words(flat)}")
    if parts.get("entrance"):
        words.append(f"{say_ordinal(int(parts['entrance']), 'm')} подъезд")
    if parts.get("floor"):
        words.append(f"{say_ordinal(int(parts['floor']), 'm')} этаж")
    return ", ".join(words)


def _house_words(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    rest = value[len(digits) :] if value.startswith(digits) else ""
    return (say_number(int(digits)) + (f" {rest}" if rest else "")) if digits else value


def address_display(parts: Any) -> str:
    street, house, building, flat = (parts.get(k) for k in ("street", "house", "building", "flat"))
    words = [street] if street else []
    words += [str(house)] if house else []
    words += [f"корп. {building}"] if building else []
    words += [f"кв. {flat}"] if flat else []
    words += [f"подъезд {parts['entrance']}"] if parts.get("entrance") else []
    words += [f"этаж {parts['floor']}"] if parts.get("floor") else []
    return ", ".join(words)


def _money_display(value: Any) -> str:
    d = Decimal(str(value)).quantize(Decimal("0.01"))
    whole, _, kop = f"{d:,.2f}".replace(",", " ").partition(".")
    return f"{whole},{kop} ₽"


def _count_speech(n: Any, one: str, few: str, many: str) -> str:
    """«2 лицевых счёта» in words, the number agreeing with the noun: «два лицевых счёта», «одна заявка»."""
    number = int(n)
    return f"{say_number(number, noun_gender(one.split()[-1]))} {plural(number, one, few, many)}"


def _clock_speech(value: Any, style: str = "clock") -> str:
    # Clock times stay digits here: the normaliser reads them in the case of the word before them
    # («до 13:30» → «до тринадцати тридцати», «в 9:00» → «в девять ноль-ноль»).
    moment = _as_time(value)
    return moment.strftime("%H:%M") if style == "clock" else say_time(moment, style=style)  # type: ignore[arg-type]


def _first_upper(text: Any) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


SPEECH_FILTERS = {
    "first_upper": _first_upper,
    "money": lambda x: say_money(Decimal(str(x))),
    "number": _say_value,
    "digits": say_digits,
    "code": say_code,
    "date": lambda x, case="nom", weekday=False: say_date(_as_date(x), with_weekday=weekday, case=case),
    "time": _clock_speech,
    "count": _count_speech,
    "plural": lambda n, one, few, many: plural(int(n), one, few, many),
    "hour_gen": lambda x: (
        say_number(_as_time(x).hour, "m", "gen")
        + (f" {say_number(_as_time(x).minute, 'f', 'gen')}" if _as_time(x).minute else "")
    ),
    "address": _address_speech,
    "ordinal": lambda x, gender="n", case="nom": say_ordinal(int(x), gender, case),
}

DISPLAY_FILTERS = {
    "first_upper": _first_upper,
    "money": _money_display,
    "number": lambda x, gender="m", case="nom": _number_display(x),
    "digits": str,
    "code": str,
    "date": lambda x, case="nom", weekday=False: _as_date(x).strftime("%d.%m.%Y"),
    "time": lambda x, style="clock": _as_time(x).strftime("%H:%M"),
    "count": lambda n, one, few, many: f"{int(n)} {plural(int(n), one, few, many)}",
    "plural": lambda n, one, few, many: plural(int(n), one, few, many),
    "hour_gen": lambda x: str(_as_time(x).hour) if not _as_time(x).minute else _as_time(x).strftime("%H:%M"),
    "address": address_display,
    "ordinal": lambda x, gender="n", case="nom": f"{int(x)}-го" if case == "gen" else f"{int(x)}-е",
}


@lru_cache(maxsize=2)
def _environment(mode: str) -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters.update(SPEECH_FILTERS if mode == "speech" else DISPLAY_FILTERS)
    return env


@lru_cache(maxsize=4096)
def _compiled(mode: str, source: str) -> jinja2.Template:
    return _environment(mode).from_string(source)


def render(source: str, variables: dict[str, Any], *, today: date) -> tuple[str, str]:
    """(speech, display) renderings of one template."""
    speech_vars = {
        **variables,
        "when": lambda x, case="gen": _when(x, today, case),
        "in_month": lambda x: _in_month(x, today),
        "ago": lambda x: _ago(x, today),
    }
    display_vars = {
        **variables,
        "when": lambda x, case="gen": _when_display(x, today, case),
        "in_month": lambda x: f"в {_as_date(x):%m.%Y}",
        "ago": lambda x: _as_date(x).strftime("%d.%m.%Y"),
    }
    speech = " ".join(_compiled("speech", source).render(speech_vars).split())
    display = " ".join(_compiled("display", source).render(display_vars).split())
    # Every prompt goes through the normaliser: digits, abbreviations and times left in variables
    # («ул. Гагарина, д. 10», «до 18:00») are read as words in the right case.
    return verbalize(speech), capitalize_sentences(display)


def template_variables(source: str) -> set[str]:
    """Names a template reads (for `voicebot scenarios check`)."""
    return meta.find_undeclared_variables(_environment("speech").parse(source)) - {"when", "in_month", "ago"}


def filters_used(source: str) -> set[str]:
    from jinja2 import nodes

    return {node.name for node in _environment("speech").parse(source).find_all(nodes.Filter)}


def known_filters() -> set[str]:
    return set(SPEECH_FILTERS) | set(_environment("speech").filters)
