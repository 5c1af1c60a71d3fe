"""Parsing and validation of the values residents' data is made of: phones, money, dates, addresses.

Every parser raises `ValueError` with a message fit to show a user (it is printed next to the line number
of a rejected CSV row and returned in API error reports).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

_PHONE_CHARACTERS = re.compile(r"[0-9+\s\-().]*")  # ASCII only: full-width digits are not a phone number


def parse_phone(raw: str) -> str:
    """E.164 (+79161234567) of a number valid by the `phonenumbers` metadata; Russian national spellings
    (8 916 …, 7916…, 916…) are accepted. Messages are in Russian: they reach the people who typed them."""
    text = raw.strip()
    if not text:
        raise ValueError("нет номера телефона")
    if not _PHONE_CHARACTERS.fullmatch(text):
        raise ValueError(
            f"телефон {text[:40]!r} не распознан: допустимы только цифры 0–9, «+», пробелы, скобки и дефисы "
            "(нужен номер вида +79161234567, E.164)"
        )
    try:
        number = phonenumbers.parse(text, "RU")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValueError(f"телефон {text[:40]!r} не распознан: нужен номер вида +79161234567 (E.164)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_phones(raw: str) -> list[str]:
    """A `;`-separated list; duplicates dropped, order kept."""
    phones: list[str] = []
    for part in raw.split(";"):
        if part.strip():
            phone = parse_phone(part)
            if phone not in phones:
                phones.append(phone)
    return phones


def parse_money(raw: str) -> Decimal:
    """Rubles with at most two decimals: `4870.50`, `4 870,50`, `-120`."""
    text = raw.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    text = re.sub(r"(руб\.?|р\.?|₽)$", "", text)
    if not text:
        return Decimal("0.00")
    not_money = f"сумма {raw.strip()[:40]!r} — не число рублей (пример: 4870.50)"
    if not text.isascii():  # Decimal would take full-width and other Unicode digits
        raise ValueError(not_money)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(not_money) from None
    if not value.is_finite():
        raise ValueError(not_money)
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(f"сумма {raw.strip()[:40]!r}: больше двух знаков после запятой")
    if abs(value) >= Decimal("10000000000"):
        raise ValueError(f"сумма {raw.strip()[:40]!r} слишком велика")
    return value.quantize(Decimal("0.01"))


MAX_AMOUNT = Decimal("100000000")  # 100 million rubles: above it is a typo or an attack, not a housing debt


def parse_amount(raw: str) -> Decimal:
    """A sum owed or promised: rubles as in `parse_money`, but positive and at most MAX_AMOUNT."""
    value = parse_money(raw)
    if value <= 0:
        raise ValueError(f"сумма {raw.strip()!r} должна быть больше нуля")
    if value > MAX_AMOUNT:
        raise ValueError(f"сумма {raw.strip()!r} больше {MAX_AMOUNT} руб. — похоже на ошибку")
    return value


def parse_decimal(raw: str, what: str = "value") -> Decimal:
    text = raw.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what} {raw.strip()!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{what} {raw.strip()!r} is not a number")
    if value < 0:
        raise ValueError(f"{what} {raw.strip()!r} is negative")
    if abs(value) >= Decimal("100000000000"):
        raise ValueError(f"{what} {raw.strip()!r} is too large")
    return value


def parse_date(raw: str, what: str = "date") -> date:
    text = raw.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    if m:
        try:
            return date(int(m[3]), int(m[2]), int(m[1]))
        except ValueError:
            pass
    raise ValueError(f"{what} {text[:40]!r} — не дата (ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)")


def parse_datetime(raw: str, default_tz: str, what: str = "time") -> datetime:
    """ISO 8601; a time without an offset is taken in `default_tz`."""
    text = raw.strip().replace(" ", "T", 1) if "T" not in raw else raw.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{what} {raw.strip()!r} is not an ISO 8601 time (2025-11-20T10:30:00+03:00)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(default_tz))
    return value


def parse_timezone(raw: str, default: str) -> str:
    name = raw.strip() or default
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"часовой пояс {name[:64]!r} неизвестен (нужно имя IANA, например Europe/Moscow)"
        ) from None
    return name


# --- addresses --------------------------------------------------------------------------------------

_STREET_MARKERS = re.compile(
    r"^(ул\.?|улица|пр-?т\.?|проспект|пер\.?|переулок|б-р|бульвар|ш\.?|шоссе|пл\.?|площадь|наб\.?|"
    r"набережная|пр-д|проезд|мкр\.?|микрорайон|туп\.?|тупик|аллея)\s+|\s+(ул\.?|улица|пр-?т\.?|проспект|"
    r"пер\.?|переулок|б-р|бульвар|ш\.?|шоссе|пл\.?|площадь|наб\.?|набережная|пр-д|проезд)$",
    re.IGNORECASE,
)
_CITY = re.compile(r"^(г\.?|город|пос\.?|посёлок|поселок|с\.|село|д\.\s*\D)\s*", re.IGNORECASE)
_HOUSE = re.compile(r"^(?:д\.?|дом)\s*(\S+)$", re.IGNORECASE)
_BUILDING = re.compile(r"^(?:корп\.?|корпус|к\.?|стр\.?|строение)\s*(\S+)$", re.IGNORECASE)
_FLAT = re.compile(r"^(?:кв\.?|квартира|офис|оф\.?)\s*(\S+)$", re.IGNORECASE)
_HOUSE_WITH_BUILDING = re.compile(r"^(\d+[а-яa-z]?)(?:\s*(?:к|корп\.?|/)\s*(\d+))?$", re.IGNORECASE)


@dataclass(frozen=True)
class Address:
    street: str | None
    house: str | None
    building: str | None
    flat: str | None


def normalize_key(text: str | None) -> str:
    """Comparison form: lower case, ё→е, no punctuation, single spaces."""
    if not text:
        return ""
    text = text.lower().replace("ё", "е")
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text)).strip()


def street_name(raw: str) -> str:
    """«ул. Гагарина» → «Гагарина»: the street as the registry stores it, for matching buildings."""
    text = raw.strip()
    return _STREET_MARKERS.sub("", text).strip() or text


def house_number(raw: str | None) -> str | None:
    """«д. 15» → «15»; empty → None."""
    text = (raw or "").strip()
    if m := _HOUSE.match(text):
        return m[1]
    return text or None


def parse_address(raw: str) -> Address:
    """Split `ул. Гагарина, д. 15, корп. 2, кв. 42` (and looser spellings) into its parts."""
    street = house = building = flat = None
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if m := _FLAT.match(part):
            flat = m[1]
        elif m := _BUILDING.match(part):
            building = m[1]
        elif m := _HOUSE.match(part):
            house = m[1]
        elif _CITY.match(part) and street is None and not _STREET_MARKERS.search(part):
            continue
        elif street is None and not part[0].isdigit():
            street = _STREET_MARKERS.sub("", part).strip() or part
        elif (m := _HOUSE_WITH_BUILDING.match(part)) and house is None:
            house, building = m[1], m[2] or building
        elif part.isdigit() and house is not None and flat is None:
            flat = part
    return Address(street=street, house=house, building=building, flat=flat)


# --- JSON ---------------------------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    """The one conversion of Python values to JSON: whole numbers as int, decimals as float, dates and
    times ISO (a time of day as HH:MM), UUIDs as text, containers converted inside. Every JSON answer
    (API rows and records, dialogue records) goes through it, so money is a JSON number everywhere
    (4870.5 for 4870.50; Numeric(12, 2) fits a double exactly enough); CSV exports keep their own text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value
