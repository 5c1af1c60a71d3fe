"""Russian text normalisation for speech: numbers, money, dates and times spoken as words.

The `say_*` helpers are pure functions the dialogue templates use as formatters; `verbalize` applies
them to free text right before synthesis, so an engine never has to guess how to read «4870.50 руб.».
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal

from num2words import num2words

Gender = Literal["m", "f", "n"]
Case = Literal["nom", "gen", "dat", "acc", "ins", "prep"]

_CASE_CODES: dict[str, str] = {"nom": "n", "gen": "g", "dat": "d", "acc": "a", "ins": "i", "prep": "p"}

_DIGIT_WORDS = ("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")

_MONTHS_GEN = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)

_WEEKDAYS: dict[str, tuple[str, ...]] = {
    "nom": ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"),
    "gen": ("понедельника", "вторника", "среды", "четверга", "пятницы", "субботы", "воскресенья"),
    "dat": ("понедельнику", "вторнику", "среде", "четвергу", "пятнице", "субботе", "воскресенью"),
    "acc": ("понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье"),
    "ins": ("понедельником", "вторником", "средой", "четвергом", "пятницей", "субботой", "воскресеньем"),
    "prep": ("понедельнике", "вторнике", "среде", "четверге", "пятнице", "субботе", "воскресенье"),
}


def _case_code(case: str) -> str:
    try:
        return _CASE_CODES[case]
    except KeyError:
        raise ValueError(f"unknown case {case!r}; expected one of {sorted(_CASE_CODES)}") from None


def _check_gender(gender: str) -> None:
    if gender not in ("m", "f", "n"):
        raise ValueError(f"unknown gender {gender!r}; expected 'm', 'f' or 'n'")


def plural(n: int, one: str, few: str, many: str) -> str:
    """Pick the noun form agreeing with `n`: 1 заявка, 2 заявки, 5 заявок (11–14 take the 'many' form)."""
    n = abs(n)
    if n % 100 in (11, 12, 13, 14):
        return many
    if n % 10 == 1:
        return one
    if n % 10 in (2, 3, 4):
        return few
    return many


def say_number(n: int | Decimal | float | str, gender: Gender = "m", case: Case = "nom") -> str:
    """Cardinal number in words: say_number(21, "f") → «двадцать одна»; fractions get «целых»."""
    _check_gender(gender)
    code = _case_code(case)
    value = _to_decimal(n)
    if value != value.to_integral_value():
        # num2words reads fractions in the nominative only, which is what readings and amounts need
        return num2words(value, lang="ru")
    number = int(value)
    if number < 0:
        return "минус " + say_number(-number, gender, case)
    # Only the last group of three digits agrees in gender; num2words leaks the gender into the
    # millions («одна миллион»), so the head and the last group are spoken separately.
    head, tail = number - number % 1000, number % 1000
    if gender == "m" or tail == 0:
        return num2words(number, lang="ru", case=code)
    tail_words = num2words(tail, lang="ru", case=code, gender=gender)
    return f"{num2words(head, lang='ru', case=code)} {tail_words}" if head else tail_words


def say_ordinal(n: int, gender: Gender = "m", case: Case = "nom") -> str:
    """Ordinal in words: say_ordinal(20, "n", "gen") → «двадцатого», say_ordinal(3, "f") → «третья»."""
    _check_gender(gender)
    code = _case_code(case)
    if int(n) != n or n < 0:
        raise ValueError(f"an ordinal needs a non-negative integer, got {n!r}")
    return num2words(int(n), lang="ru", to="ordinal", case=code, gender=gender)


def say_digits(digits: str) -> str:
    """Digit by digit: «07234501» → «ноль семь два три четыре пять ноль один». Spaces, dashes, brackets
    and a leading plus are ignored; anything else is an error, so a typo in a template shows up early."""
    cleaned = re.sub(r"[\s\-()+]", "", str(digits))
    if not cleaned.isdigit() or not cleaned.isascii():
        raise ValueError(f"say_digits expects digits only, got {digits!r}")
    return " ".join(_DIGIT_WORDS[int(ch)] for ch in cleaned)


def say_money(amount: Decimal | int | float | str, with_zero_kopecks: bool = False) -> str:
    """Roubles and kopecks: Decimal("4870.50") → «четыре тысячи восемьсот семьдесят рублей пятьдесят копеек».

    Amounts are rounded half-up to whole kopecks; zero kopecks are omitted unless asked for.
    """
    value = _to_decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "минус " if value < 0 else ""
    kopecks_total = int(abs(value) * 100)
    roubles, kopecks = divmod(kopecks_total, 100)
    parts: list[str] = []
    if roubles or not kopecks or with_zero_kopecks:
        parts.append(f"{say_number(roubles)} {plural(roubles, 'рубль', 'рубля', 'рублей')}")
    if kopecks or with_zero_kopecks:
        parts.append(f"{say_number(kopecks, 'f')} {plural(kopecks, 'копейка', 'копейки', 'копеек')}")
    return sign + " ".join(parts)


def say_date(
    value: date | datetime | str,
    with_weekday: bool = False,
    case: Case = "nom",
    with_year: bool = False,
) -> str:
    """«двадцатое ноября»; case="gen" → «двадцатого ноября» (до двадцатого ноября); the month is always
    in the genitive. A weekday goes first in the same case: «четверг, двадцатое ноября»."""
    day = _to_date(value)
    words = f"{say_ordinal(day.day, 'n', case)} {_MONTHS_GEN[day.month - 1]}"
    if with_year:
        words += f" {say_ordinal(day.year, 'm', 'gen')} года"
    if with_weekday:
        words = f"{_WEEKDAYS[case][day.weekday()]}, {words}"
    return words


def say_time(value: time | datetime | str, style: Literal["clock", "hours"] = "clock") -> str:
    """15:00 → «пятнадцать ноль-ноль» (clock) or «пятнадцать часов» (hours); 9:05 → «девять ноль пять» or
    «девять часов пять минут»."""
    moment = _to_time(value)
    hours, minutes = moment.hour, moment.minute
    if style == "hours":
        words = f"{say_number(hours)} {plural(hours, 'час', 'часа', 'часов')}"
        if minutes:
            words += f" {say_number(minutes, 'f')} {plural(minutes, 'минута', 'минуты', 'минут')}"
        return words
    if style != "clock":
        raise ValueError(f"unknown time style {style!r}; expected 'clock' or 'hours'")
    if minutes == 0:
        return f"{say_number(hours)} ноль-ноль"
    if minutes < 10:
        return f"{say_number(hours)} ноль {say_number(minutes)}"
    return f"{say_number(hours)} {say_number(minutes)}"


# --- coercion ---------------------------------------------------------------------------------------


def _to_decimal(value: Decimal | int | float | str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, float):
        value = repr(value)  # the shortest repr keeps 0.1 as 0.1, not 0.1000000000000000055…
    try:
        result = Decimal(str(value).replace(" ", "").replace("\u00a0", "").replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def _to_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {value!r} (expected YYYY-MM-DD or DD.MM.YYYY)")


def _to_time(value: time | datetime | str) -> time:
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    try:
        return datetime.strptime(str(value).strip(), "%H:%M").time()
    except ValueError:
        raise ValueError(f"not a time: {value!r} (expected HH:MM)") from None


# --- free text --------------------------------------------------------------------------------------

# A preposition right before a date decides its case: «до 20.11» → «до двадцатого ноября».
_PREPOSITION_CASE: dict[str, Case] = {
    "до": "gen",
    "с": "gen",
    "со": "gen",
    "от": "gen",
    "после": "gen",
    "около": "gen",
    "из": "gen",
    "у": "gen",
    "к": "dat",
    "ко": "dat",
    "на": "acc",
    "по": "acc",
    "за": "acc",
    "в": "acc",
    "о": "prep",
    "об": "prep",
    "при": "prep",
}

_NUM = r"\d{1,3}(?:[ \u00a0]\d{3})+|\d+"
_DIGITS_MARKUP = re.compile(r"<digits>(.*?)</digits>", re.S)
_MONEY = re.compile(
    rf"(?P<rub>{_NUM})(?:[.,](?P<kop>\d{{1,2}}))?\s*(?:руб(?:лей|ля|ль)?\.?|₽|р\.)"
    rf"(?:\s*(?P<kop2>\d{{1,2}})\s*коп(?:еек|ейки|ейка)?\.?)?",
    re.I,
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_RU_DATE = re.compile(r"(?<![\d.])\b(\d{1,2})\.(\d{1,2})(?:\.(\d{4}|\d{2}))?\b(?![.,]?\d)")
_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
_PERCENT = re.compile(rf"({_NUM}(?:[.,]\d+)?)\s*%")
_DECIMAL = re.compile(r"\b(\d+)[.,](\d+)\b")
_INTEGER = re.compile(rf"(?<![\w.,])({_NUM})\b(?:\s+(?P<word>[а-яё]+))?", re.I)
_PREVIOUS_WORD = re.compile(r"([а-яё]+)\s*$", re.I)


# Abbreviations read as words; the noun then takes the case its preposition asks for («на ул.» → «на улице»).
_ABBREVIATIONS = {
    "ул": "улица", "пр": "проспект", "просп": "проспект", "пер": "переулок", "д": "дом", "корп": "корпус",
    "кв": "квартира", "стр": "строение", "эт": "этаж", "под": "подъезд", "мкр": "микрорайон",
    "пл": "площадь", "наб": "набережная", "б-р": "бульвар", "тел": "телефон", "отд": "отделение",
    "им": "имени",
}  # fmt: skip
_ABBREVIATION = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, _ABBREVIATIONS)) + r")\.(?=\s*[\w«\"(])")
_PHRASES = {
    "т.е.": "то есть",
    "т.д.": "так далее",
    "т.п.": "тому подобное",
    "т. е.": "то есть",
    "т. д.": "так далее",
}
_YEAR_ABBR = re.compile(r"(\d{4})\s*г\.(?=\s|$|[,;:)])")
_CITY_ABBR = re.compile(r"(?<![\w.])г\.\s*(?=[А-ЯЁ])")
# Case a preposition gives a place noun («в квартире», «у дома», «к дому»).
_PLACE_CASE = {
    "в": "loct", "во": "loct", "на": "loct", "о": "loct", "об": "loct", "при": "loct",
    "до": "gent", "у": "gent", "от": "gent", "из": "gent", "около": "gent", "возле": "gent", "для": "gent",
    "без": "gent", "с": "gent", "к": "datv", "ко": "datv", "по": "datv", "за": "ablt", "под": "ablt",
    "над": "ablt", "перед": "ablt", "между": "ablt",
}  # fmt: skip
# After these nouns a number is a label read as is («дом 1», «квартира 21», «заявка 15»), not a count.
_LABEL_NOUNS = frozenset(
    {"дом", "дома", "доме", "корпус", "квартира", "квартиры", "квартире", "строение", "подъезд", "этаж",
     "номер", "заявка", "заявки", "счёт", "счет", "офис", "кабинет", "окно", "участок", "тариф", "линия"}
)  # fmt: skip
# Phone numbers are read digit by digit («+7 495 100-20-30»), before any other number rule sees them.
_PHONE = re.compile(r"(?<![\w+])(?:\+7|8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)")
_WEEKDAY_SHORT = {"пн": 0, "вт": 1, "ср": 2, "чт": 3, "пт": 4, "сб": 5, "вс": 6}
_WEEKDAY_RANGE = re.compile(r"(?<!\w)(пн|вт|ср|чт|пт|сб|вс)\s*[–—-]\s*(пн|вт|ср|чт|пт|сб|вс)(?!\w)", re.I)
_SENTENCE_START = re.compile(r"(^|[.!?…]\s+)([«\"(]?)([а-яёa-z])")


def verbalize(text: str) -> str:
    """Rewrite digits in `text` as Russian words, ready for a synthesiser.

    Handles `<digits>…</digits>` (digit by digit), money («4870.50 руб.»), dates («2025-11-20»,
    «20.11», «20.11.2025»; the year is not spoken, the case follows a preceding preposition), times
    («15:00»), percentages, decimals and integers (agreeing in gender with the next noun: «1 заявка» →
    «одна заявка»). Numbers with a leading zero or more than nine digits are identifiers and read digit
    by digit.
    """
    text = _DIGITS_MARKUP.sub(lambda m: say_digits(m.group(1)), text)
    text = _PHONE.sub(lambda m: say_digits(m.group(0)), text)
    text = _WEEKDAY_RANGE.sub(_weekday_range_words, text)
    text = expand_abbreviations(text)
    text = _MONEY.sub(_money_words, text)
    text = _ISO_DATE.sub(lambda m: _date_words(m, int(m.group(1)), int(m.group(2)), int(m.group(3))), text)
    text = _RU_DATE.sub(_ru_date_words, text)
    text = _TIME.sub(_time_words, text)
    text = _PERCENT.sub(_percent_words, text)
    text = _DECIMAL.sub(lambda m: say_number(f"{m.group(1)}.{m.group(2)}"), text)
    text = _INTEGER.sub(_integer_words, text)
    text = text.replace("№", "номер")
    return capitalize_sentences(re.sub(r"[ \t]{2,}", " ", text).strip())


def capitalize_sentences(text: str) -> str:
    """A capital letter at the start and after each sentence end («… до свидания. спасибо» → «Спасибо»)."""
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2) + m.group(3).upper(), text)


def expand_abbreviations(text: str) -> str:
    """«ул. Ленина, д. 5, кв. 7» → «улица Ленина, дом 5, квартира 7»; «на ул.» → «на улице»."""
    for short, full in _PHRASES.items():
        text = text.replace(short, full)
    text = _YEAR_ABBR.sub(lambda m: f"{say_ordinal(int(m.group(1)), 'm', 'gen')} года", text)
    text = _CITY_ABBR.sub("город ", text)
    return _ABBREVIATION.sub(_abbreviation_words, text)


def _weekday_range_words(match: re.Match[str]) -> str:
    """«пн–пт» → «с понедельника по пятницу»."""
    first, last = (_WEEKDAY_SHORT[g.lower()] for g in match.groups())
    return f"с {_WEEKDAYS['gen'][first]} по {_WEEKDAYS['acc'][last]}"


def _abbreviation_words(match: re.Match[str]) -> str:
    word = _ABBREVIATIONS[match.group(1)]
    previous = _PREVIOUS_WORD.search(match.string[: match.start()])
    case = _PLACE_CASE.get(previous.group(1).lower()) if previous else None
    if case is None or word == "имени":
        return word
    return inflect_noun(word, case)


@lru_cache(maxsize=1024)
def inflect_noun(word: str, case: str) -> str:
    """The singular of a noun in a pymorphy3 case ("gent", "datv", "loct", ...), or the word itself."""
    for parse in _morph().parse(word):
        if parse.tag.POS == "NOUN" and "nomn" in parse.tag:
            form = parse.inflect({case, "sing"})
            if form is not None:
                return form.word
    return word


def _time_words(match: re.Match[str]) -> str:
    """«15:00»; after «до»/«с»/«после» in the genitive («до тринадцати тридцати»), after «к» in the dative."""
    hours, minutes = int(match.group(1)), int(match.group(2))
    case = _case_before(match)
    if case not in ("gen", "dat"):
        return say_time(time(hours, minutes))
    words = say_number(hours, "m", case)
    if minutes == 0:
        last = hours % 10 == 1 and hours != 11
        noun = ("часа" if last else "часов") if case == "gen" else ("часу" if last else "часам")
        return f"{words} {noun}"
    if minutes < 10:
        return f"{words} ноль {say_number(minutes, 'f', case)}"
    return f"{words} {say_number(minutes, 'f', case)}"


def _money_words(match: re.Match[str]) -> str:
    roubles = match.group("rub").replace(" ", "").replace("\u00a0", "")
    kopecks = match.group("kop") or match.group("kop2") or "0"
    if len(kopecks) == 1 and match.group("kop"):
        kopecks += "0"  # «12.5 руб.» means fifty kopecks
    words = say_money(Decimal(roubles) + Decimal(int(kopecks)) / 100)
    if match.group(0).endswith(".") and re.match(r"\s*(?:$|[А-ЯЁA-Z])", match.string[match.end() :]):
        words += "."  # the abbreviation's dot also ended the sentence
    return words


def _case_before(match: re.Match[str]) -> Case:
    previous = _PREVIOUS_WORD.search(match.string[: match.start()])
    if previous is None:
        return "nom"
    return _PREPOSITION_CASE.get(previous.group(1).lower(), "nom")


def _date_words(match: re.Match[str], year: int, month: int, day: int) -> str:
    try:
        return say_date(date(year, month, day), case=_case_before(match))
    except ValueError:
        return match.group(0)  # not a real date (e.g. a version number); leave it to the number rules


def _ru_date_words(match: re.Match[str]) -> str:
    day, month = int(match.group(1)), int(match.group(2))
    year_text = match.group(3)
    year = 2000 if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
    if year_text is None and not 1 <= month <= 12:
        return match.group(0)
    return _date_words(match, year, month, day)


def _percent_words(match: re.Match[str]) -> str:
    number = match.group(1).replace(" ", "").replace("\u00a0", "")
    value = _to_decimal(number)
    if value != value.to_integral_value():
        return f"{say_number(value)} процента"  # a fraction always takes the genitive singular
    n = int(value)
    return f"{say_number(n)} {plural(n, 'процент', 'процента', 'процентов')}"


def _integer_words(match: re.Match[str]) -> str:
    raw = match.group(1)
    digits = raw.replace(" ", "").replace("\u00a0", "")
    word = match.group("word")
    tail = f" {word}" if word else ""
    if (len(digits) > 1 and digits.startswith("0")) or len(digits) > 9:
        return say_digits(digits) + tail
    previous = _PREVIOUS_WORD.search(match.string[: match.start()])
    if previous is not None and previous.group(1).lower() in _LABEL_NOUNS:
        return say_number(int(digits)) + tail  # «дом 1», «квартира 21»: a label, not a count
    case = _noun_case(word) if word else None
    if case is None:
        case = _case_before(match)
        case = case if case in ("gen", "dat", "prep") else "nom"
    return say_number(int(digits), _counted_gender(word) if word else "m", case) + tail


_OBLIQUE_PLURAL = {"ablt": "ins", "datv": "dat", "loct": "prep"}


@lru_cache(maxsize=4096)
def _noun_case(word: str) -> Case | None:
    """«с 2 заявками» → instrumental: a plural noun in an oblique case decides the number's case."""
    cases = {str(p.tag.case) for p in _morph().parse(word) if p.tag.POS in ("NOUN", "ADJF")}
    plural = {
        str(p.tag.case)
        for p in _morph().parse(word)
        if p.tag.POS in ("NOUN", "ADJF") and p.tag.number == "plur"
    }
    if len(plural) != 1 or cases - plural - {"loc2", "gen2"}:
        return None  # «лицевых» (genitive too), «человек»: the number keeps the preposition's case
    return _OBLIQUE_PLURAL.get(plural.pop())  # type: ignore[return-value]


def _counted_gender(word: str) -> Gender:
    """Gender of the counted noun (the word after the number; an adjective there gives the default)."""
    return noun_gender(word)


@lru_cache(maxsize=4096)
def noun_gender(word: str) -> Gender:
    """Grammatical gender of a Russian noun («заявка» → "f"); "m" when it is not a noun."""
    analyzer = _morph()
    for parse in analyzer.parse(word):
        if parse.tag.POS == "NOUN" and parse.tag.gender in ("femn", "neut", "masc"):
            return {"femn": "f", "neut": "n", "masc": "m"}[parse.tag.gender]
    return "m"


@lru_cache(maxsize=1)
def _morph():  # type: ignore[no-untyped-def]
    import pymorphy3  # deferred: the dictionaries take a moment to load and most formatters never need them

    return pymorphy3.MorphAnalyzer()
