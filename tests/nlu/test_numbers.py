from decimal import Decimal

import pytest

from tests.nlu.conftest import entities, last


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("двести пятнадцать", 215),
        ("сто двадцать три и пять десятых", Decimal("123.5")),
        ("ноль целых семь", Decimal("0.7")),
        ("ноль целых двадцать пять сотых", Decimal("0.25")),
        ("пять тысяч двести… двадцать… восемь", 5228),
        ("пять тысяч двести, э-э, двадцать восемь", 5228),
        ("триста сорок… триста сорок восемь", 348),
        ("Ёлки… Да, точно, триста пятьдесят восемь. Пятьдесят восемь.", 358),
        ("сорок… сорок четыре", 44),
        ("Две тысячи… ой, плохо видно… две тысячи сто тридцать, кажется.", 2130),
        ("две тысячи… две тысячи сто тридцать", 2130),
        ("215", 215),
        ("тысяча двести", 1200),
        ("полтора", Decimal("1.5")),
        ("полторы тысячи", 1500),
        ("три с половиной тысячи", 3500),
        ("сто двадцать пять и три", Decimal("125.3")),
        (
            "Холодная… сто двадцать три. Ой, нет, подождите, это я на горячий смотрю. Холодная — двести пятнадцать.",
            215,
        ),
        ("не девять, а десять", 10),
        ("сорок два, вернее сорок три", 43),
    ],
)
def test_number(text: str, value: object) -> None:
    assert last(text, "number") == value


def test_red_digits_get_fraction_role_and_do_not_win() -> None:
    result = entities("Горячая — сто двадцать три… и там ещё красненькие цифры, пятьсот шестьдесят.")
    numbers = [e for e in result.entities if e.entity == "number"]
    assert {(e.value, e.role) for e in numbers} == {(123, None), (560, "fraction")}
    assert result.last("number").value == 123
    assert result.text[numbers[0].start : numbers[0].end] == "пятьсот шестьдесят"


def test_after_the_comma_is_a_fraction() -> None:
    assert last("двести восемь, после запятой триста", "number") == 208


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("ноль семь, двадцать три, сорок пять, ноль один", "07234501"),
        ("Лицевой… ноль семь, двадцать три, сорок пять, ноль один.", "07234501"),
        ("два-три-девять-пять-девять", "23959"),
        ("Два-три-девять-девять-пять. Нет! Два-три-девять-пять-девять.", "23959"),
        ("номер… две тысячи… ой. Два-три-девять-девять-пять. Нет! Два-три-девять-пять-девять.", "23959"),
        ("07234501", "07234501"),
        ("заявка двадцать четыре ноль восемнадцать", "24018"),
        ("номер заявки сорок один двенадцать", "4112"),
    ],
)
def test_digits(text: str, digits: str) -> None:
    assert last(text, "digits") == digits


def test_two_small_numbers_are_not_a_digit_string() -> None:
    assert last("семь-восемь", "digits") is None


@pytest.mark.parametrize(
    ("text", "money"),
    [
        ("четыре тысячи восемьсот семьдесят рублей пятьдесят копеек", Decimal("4870.50")),
        ("две триста сорок, ровно", Decimal("2340")),
        ("две тысячи триста сорок рублей", Decimal("2340")),
        ("заплатила три тысячи", Decimal("3000")),
    ],
)
def test_money(text: str, money: Decimal) -> None:
    assert last(text, "money") == money
    assert last(text, "number") is None


def test_offsets_point_into_the_original_text() -> None:
    text = "Ну… Ёлки, ДВЕСТИ пятнадцать!"
    item = entities(text).last("number")
    assert item is not None and text[item.start : item.end] == item.text == "ДВЕСТИ пятнадцать"


def test_one_agreeing_with_a_noun_is_not_a_number() -> None:
    assert last("одну секундочку", "number") is None
