"""Russian numbers, money, dates and times as words."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from voicebot.tts.verbalize import (
    plural,
    say_date,
    say_digits,
    say_money,
    say_number,
    say_ordinal,
    say_time,
    verbalize,
)


@pytest.mark.parametrize(
    ("n", "gender", "case", "words"),
    [
        (0, "m", "nom", "ноль"),
        (1, "m", "nom", "один"),
        (1, "f", "nom", "одна"),
        (1, "n", "nom", "одно"),
        (2, "f", "nom", "две"),
        (2, "n", "nom", "два"),
        (21, "f", "nom", "двадцать одна"),
        (22, "f", "gen", "двадцати двух"),
        (11, "f", "nom", "одиннадцать"),
        (1000, "m", "nom", "одна тысяча"),
        (2000, "m", "nom", "две тысячи"),
        (5000, "m", "nom", "пять тысяч"),
        (1000000, "f", "nom", "один миллион"),
        (1001001, "f", "nom", "один миллион одна тысяча одна"),
        (2002, "f", "gen", "двух тысяч двух"),
        (-5, "m", "nom", "минус пять"),
        (15, "m", "gen", "пятнадцати"),
    ],
)
def test_say_number(n, gender, case, words):
    assert say_number(n, gender, case) == words


def test_say_number_fractions_and_bad_input():
    assert say_number(Decimal("12.5")) == "двенадцать целых пять десятых"
    assert say_number("3,25") == "три целых двадцать пять сотых"
    with pytest.raises(ValueError, match="gender"):
        say_number(1, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="case"):
        say_number(1, "m", "vocative")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a number"):
        say_number("много")


@pytest.mark.parametrize(
    ("n", "gender", "case", "words"),
    [
        (1, "m", "nom", "первый"),
        (3, "f", "nom", "третья"),
        (3, "n", "nom", "третье"),
        (20, "n", "gen", "двадцатого"),
        (23, "n", "gen", "двадцать третьего"),
        (31, "n", "prep", "тридцать первом"),
        (2025, "m", "gen", "две тысячи двадцать пятого"),
    ],
)
def test_say_ordinal(n, gender, case, words):
    assert say_ordinal(n, gender, case) == words


def test_say_ordinal_refuses_negatives():
    with pytest.raises(ValueError):
        say_ordinal(-1)


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (Decimal("4870.50"), "четыре тысячи восемьсот семьдесят рублей пятьдесят копеек"),
        (Decimal("1000.21"), "одна тысяча рублей двадцать одна копейка"),
        (Decimal("2000"), "две тысячи рублей"),
        (Decimal("1"), "один рубль"),
        (Decimal("22.02"), "двадцать два рубля две копейки"),
        (Decimal("11.11"), "одиннадцать рублей одиннадцать копеек"),
        (Decimal("0.01"), "одна копейка"),
        (Decimal("0"), "ноль рублей"),
        (Decimal("104.999"), "сто пять рублей"),
        (Decimal("-15.5"), "минус пятнадцать рублей пятьдесят копеек"),
        ("1 234,05", "одна тысяча двести тридцать четыре рубля пять копеек"),
    ],
)
def test_say_money(amount, words):
    assert say_money(amount) == words


def test_say_money_can_say_zero_kopecks():
    assert say_money(Decimal("3"), with_zero_kopecks=True) == "три рубля ноль копеек"


def test_say_digits():
    assert say_digits("07234501") == "ноль семь два три четыре пять ноль один"
    assert say_digits("+7 (912) 00-1") == "семь девять один два ноль ноль один"
    with pytest.raises(ValueError):
        say_digits("12a4")
    with pytest.raises(ValueError):
        say_digits("١٢")  # non-ASCII digits are not what a template meant


def test_say_date():
    d = date(2025, 11, 20)  # a Thursday
    assert say_date(d) == "двадцатое ноября"
    assert say_date("2025-11-20", case="gen") == "двадцатого ноября"
    assert say_date(d, with_weekday=True) == "четверг, двадцатое ноября"
    assert say_date(d, with_weekday=True, case="gen") == "четверга, двадцатого ноября"
    assert say_date("01.03.2026", case="dat") == "первому марта"
    assert (
        say_date(datetime(2025, 5, 3, 10, 0), with_year=True) == "третье мая две тысячи двадцать пятого года"
    )
    with pytest.raises(ValueError, match="not a date"):
        say_date("31.02.2025")


@pytest.mark.parametrize(
    ("value", "style", "words"),
    [
        ("15:00", "clock", "пятнадцать ноль-ноль"),
        ("15:00", "hours", "пятнадцать часов"),
        (time(9, 5), "clock", "девять ноль пять"),
        (time(9, 5), "hours", "девять часов пять минут"),
        ("21:01", "hours", "двадцать один час одна минута"),
        ("22:32", "hours", "двадцать два часа тридцать две минуты"),
        ("18:30", "clock", "восемнадцать тридцать"),
    ],
)
def test_say_time(value, style, words):
    assert say_time(value, style) == words


def test_plural_forms():
    forms = ("заявка", "заявки", "заявок")
    assert [plural(n, *forms) for n in (1, 2, 5, 11, 12, 21, 104, 111)] == [
        "заявка",
        "заявки",
        "заявок",
        "заявок",
        "заявок",
        "заявка",
        "заявки",
        "заявок",
    ]


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        (
            "Ваш долг 4870.50 руб. Оплатите до 20.11.",
            "Ваш долг четыре тысячи восемьсот семьдесят рублей пятьдесят копеек. Оплатите до двадцатого ноября.",
        ),
        ("Мастер придёт 2025-11-20 в 15:00.", "Мастер придёт двадцатое ноября в пятнадцать ноль-ноль."),
        ("Создана 1 заявка, 2 заявки, 21 окно", "Создана одна заявка, две заявки, двадцать одно окно"),
        ("Лицевой счёт <digits>07234501</digits>.", "Лицевой счёт ноль семь два три четыре пять ноль один."),
        ("Счёт 0723", "Счёт ноль семь два три"),
        (
            "Сумма 1 234 руб. 5 коп. Спасибо",
            "Сумма одна тысяча двести тридцать четыре рубля пять копеек. Спасибо",
        ),
        ("Показание 123,45", "Показание сто двадцать три целых сорок пять сотых"),
        ("Пени 5%", "Пени пять процентов"),
        ("к 01.12 закроем", "К первому декабря закроем"),
        ("Заявка № 15", "Заявка номер пятнадцать"),
        ("Без цифр.", "Без цифр."),
        ("Стоит 300 ₽", "Стоит триста рублей"),
    ],
)
def test_verbalize(text, spoken):
    assert verbalize(text) == spoken
