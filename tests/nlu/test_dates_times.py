from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.nlu.conftest import MSK, NOW, entities, last


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=MSK)


@pytest.mark.parametrize(
    ("text", "now", "preference", "date"),
    [
        ("до двадцатого", NOW, "future", "2024-11-20"),
        ("двадцатого", at("2024-11-25T10:00"), "future", "2024-12-20"),
        ("двадцатого", at("2024-11-25T10:00"), "past", "2024-11-20"),
        ("десятого", NOW, "past", "2024-11-10"),
        ("двенадцатого", NOW, "future", "2024-11-12"),
        ("двадцатого", at("2024-12-28T10:00"), "future", "2025-01-20"),
        ("тридцать первого", at("2024-11-05T10:00"), "future", "2024-12-31"),
        ("тридцатого", at("2025-02-10T10:00"), "future", "2025-03-30"),
        ("второго числа", NOW, "past", "2024-11-02"),
        ("пятнадцатого декабря", NOW, "future", "2024-12-15"),
        ("двенадцатого марта", NOW, "future", "2025-03-12"),
        ("пятнадцатого декабря", NOW, "past", "2023-12-15"),
        ("до пятницы", NOW, "future", "2024-11-15"),
        ("во вторник", NOW, "future", "2024-11-19"),
        ("в понедельник", NOW, "past", "2024-11-11"),
        ("через неделю", NOW, "future", "2024-11-19"),
        ("через три дня", NOW, "future", "2024-11-15"),
        ("через месяц", at("2025-01-31T10:00"), "future", "2025-02-28"),
        ("завтра", NOW, "future", "2024-11-13"),
        ("послезавтра", at("2024-12-31T09:00"), "future", "2025-01-02"),
        ("позавчера", at("2025-03-01T09:00"), "future", "2025-02-27"),
        ("позавчера", at("2024-03-01T09:00"), "future", "2024-02-28"),
        ("в конце июля", NOW, "past", "2024-07-31"),
        ("в конце июля", NOW, "future", "2025-07-31"),
        ("с зарплаты пятнадцатого", NOW, "future", "2024-11-15"),
        ("20 декабря", NOW, "future", "2024-12-20"),
    ],
)
def test_dates(text: str, now: datetime, preference: str, date: str) -> None:
    assert last(text, "date", now=now, preference=preference) == date


def test_approximate_dates_are_marked() -> None:
    item = entities("в конце июля", preference="past").last("date")
    assert item is not None and item.role == "approx"


def test_relative_dates_use_the_residents_zone() -> None:
    # 23:30 in Moscow is already the next day in Vladivostok: «завтра» follows the local calendar.
    moscow = datetime(2024, 11, 12, 23, 30, tzinfo=MSK)
    vladivostok = moscow.astimezone(ZoneInfo("Asia/Vladivostok"))
    assert last("завтра", "date", now=moscow) == "2024-11-13"
    assert last("завтра", "date", now=vladivostok) == "2024-11-14"


def test_ordinals_of_floors_are_not_dates() -> None:
    assert last("во втором подъезде на четвёртом этаже", "date") is None


@pytest.mark.parametrize(
    ("text", "time"),
    [
        ("в три часа дня", "15:00"),
        ("Завтра… после обеда, часа в три.", "15:00"),
        ("в девять утра", "09:00"),
        ("в девять ноль-ноль", "09:00"),
        ("с пятнадцати до восемнадцати", "18:00"),
        ("с десяти до часу", "13:00"),
        ("до восьми вечера", "20:00"),
        ("вечером", "19:00"),
        ("часа в четыре", "16:00"),
        ("в восемь", "08:00"),
        ("в пятнадцать тридцать", "15:30"),
        ("в 18:30", "18:30"),
        ("Давайте завтра утром, в девять, сейчас уже поздно.", "09:00"),
    ],
)
def test_times(text: str, time: str) -> None:
    assert last(text, "time") == time


def test_time_range_roles() -> None:
    times = [e for e in entities("с пятнадцати до восемнадцати").entities if e.entity == "time"]
    assert [(e.value, e.role) for e in times] == [("15:00", "from"), ("18:00", "to")]


def test_part_of_day_gives_way_to_an_explicit_time() -> None:
    result = entities("вечером, часов в семь")
    assert result.last("time").value == "19:00" and result.last("time").role is None
    assert entities("вечером").last("time").role == "part_of_day"


def test_scale_description_is_not_a_time() -> None:
    result = entities("А, от нуля до десяти… ну, семь-восемь. Восемь.")
    assert result.last("time") is None
    assert result.last("score").value == 8
