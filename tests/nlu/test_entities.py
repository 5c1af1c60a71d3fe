import pytest

from tests.nlu.conftest import entities, last
from voicebot.nlu import PROBLEM_CATEGORIES


@pytest.mark.parametrize(
    ("text", "score"),
    [("на десятку", 10), ("Ну… девять. А, нет, пусть десять, он молодец", 10), ("семь-восемь. Восемь.", 8),
     ("восемь", 8), ("ноль", 0), ("Тройка. Ну… три.", 3)],
)  # fmt: skip
def test_scores(text: str, score: int) -> None:
    assert last(text, "score") == score


def test_score_range_roles() -> None:
    scores = [e for e in entities("семь-восемь").entities if e.entity == "score"]
    assert [(e.value, e.role) for e in scores] == [(7, "range"), (8, "range")]


@pytest.mark.parametrize(
    ("text", "grade"), [("на четвёрку", 4), ("тройка", 3), ("пятёрка", 5), ("на пять с плюсом", 5)]
)
def test_school_grades_are_not_scores(text: str, grade: int) -> None:
    assert last(text, "school_grade") == grade
    assert last(text, "score") is None


def test_school_grade_followed_by_a_plain_number_gives_a_score() -> None:
    result = entities("Тройка. Ну… три.")
    assert result.last("school_grade").value == 3 and result.last("score").value == 3


def test_durations_are_not_scores() -> None:
    assert last("лифт не ездит три дня", "score") is None


@pytest.mark.parametrize(
    ("text", "code"),
    [("холодная", "cold_water"), ("горячая вода", "hot_water"), ("за свет", "electricity"),
     ("электричество", "electricity"), ("дневной", "electricity_t1"), ("т-один", "electricity_t1"),
     ("Т1", "electricity_t1"), ("ночной", "electricity_t2"), ("т-два", "electricity_t2"),
     ("ночь — две тысячи сто тридцать", "electricity_t2"), ("т3", "electricity_t3"), ("газ", "gas"),
     ("отопление", "heat"), ("тепло", "heat")],
)  # fmt: skip
def test_resources(text: str, code: str) -> None:
    assert last(text, "resource") == code


def test_tariff_digit_is_not_a_number() -> None:
    assert last("т-один пять тысяч двести двадцать восемь", "number") == 5228
    assert last("т-один пять тысяч двести двадцать восемь", "score") is None


@pytest.mark.parametrize(
    ("text", "place"), [("ванная", "ванная"), ("в ванной", "ванная"), ("кухня", "кухня"), ("на кухне", "кухня"),
                        ("в туалете", "туалет")],
)  # fmt: skip
def test_locations(text: str, place: str) -> None:
    assert last(text, "location") == place


def _address(**parts: object) -> dict:
    base = dict.fromkeys(("street", "house", "building", "entrance", "floor", "flat"))
    return base | parts


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("улица Гагарина, дом пятнадцать, квартира сорок два", _address(street="Гагарина", house="15", flat="42")),
        ("Ленина, двадцать шесть, квартира… пятьдесят… пятьдесят три",
         _address(street="Ленина", house="26", flat="53")),
        ("Мира, восемь, корпус два, квартира сто четыре",
         _address(street="Мира", house="8", building="2", flat="104")),
        ("Советская, сорок", _address(street="Советская", house="40")),
        ("во втором подъезде на четвёртом этаже", _address(entrance=2, floor=4)),
        ("на Садовой", _address(street="Садовая")),
        ("по Садовой", _address(street="Садовая")),
        ("Кирова, пять, квартира двенадцать, Соколова", _address(street="Кирова", house="5", flat="12")),
        ("Полевая, девять, квартира тридцать один", _address(street="Полевая", house="9", flat="31")),
        ("дом 15а, квартира 7", _address(house="15а", flat="7")),
    ],
)  # fmt: skip
def test_addresses(text: str, address: dict) -> None:
    assert last(text, "address") == address


def test_address_numbers_are_not_plain_numbers() -> None:
    assert last("Ленина, двадцать шесть, квартира пятьдесят три", "number") is None


def test_not_an_address() -> None:
    assert last("батареи еле тёплые, дома восемнадцать градусов", "address") is None
    assert last("отопление отключили, а на улице мороз", "address") is None


@pytest.mark.parametrize(
    ("text", "person"),
    [
        (
            "Петрова. Петрова Галина Ивановна.",
            {"surname": "Петрова", "name": "Галина", "patronymic": "Ивановна"},
        ),
        ("Ольга. Да, этот.", {"surname": None, "name": "Ольга", "patronymic": None}),
        (
            "Кирова, пять, квартира двенадцать, Соколова",
            {"surname": "Соколова", "name": None, "patronymic": None},
        ),
        ("меня зовут Наталья", {"surname": None, "name": "Наталья", "patronymic": None}),
    ],
)
def test_person(text: str, person: dict) -> None:
    assert last(text, "person") == person


def test_person_repeated_surname_gives_two_entities_fuller_last() -> None:
    people = [e for e in entities("Петрова. Петрова Галина Ивановна.").entities if e.entity == "person"]
    assert len(people) == 2 and people[0].value["name"] is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Нас заливают! С потолка в ванной прям течёт, ручьём!", "leak"),
        ("протечка на кухне", "leak"),
        ("течёт кран на кухне", "plumbing"),
        ("смеситель в ванной подтекает", "plumbing"),
        ("бачок в туалете сломался", "plumbing"),
        ("кран течёт, остановить не могу", "leak"),
        ("кран сорвало, вода хлещет на пол", "leak"),
        ("воды нет весь день", "no_water"),
        ("горячую воду отключили", "no_hot_water"),
        ("нет отопления", "no_heating"),
        ("света нет во всей квартире", "no_power"),
        ("засор канализации", "sewer_blockage"),
        ("не уходит вода в унитазе", "sewer_blockage"),
        ("в подъезде пахнет газом", "gas_smell"),
        ("мы застряли в лифте", "lift_stuck"),
        ("Батареи еле тёплые второй день, дома восемнадцать градусов", "heating_quality"),
        ("слабый напор", "water_quality"),
        ("ржавая вода из крана", "water_quality"),
        ("мусоропровод забит", "rubbish_chute"),
        ("У нас во втором подъезде на четвёртом этаже лампочка не горит", "lighting"),
        ("не горит свет в подъезде", "lighting"),
        ("домофон не работает", "intercom"),
        ("лифт не работает", "lift_broken"),
        ("в подъезде не убирают", "cleaning"),
        ("крыша протекает", "roof"),
    ],
)
def test_problem_categories(text: str, code: str) -> None:
    assert last(text, "problem") == code
    assert code in PROBLEM_CATEGORIES


def test_problem_labels_are_russian() -> None:
    assert PROBLEM_CATEGORIES["leak"] and all(label for label in PROBLEM_CATEGORIES.values())
    assert "other" in PROBLEM_CATEGORIES
