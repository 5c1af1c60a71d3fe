"""The one contact validator (CLI, API and web upload): each bad row rejected with its line and a Russian
reason, the good rows kept; files from Russian Excel (Windows-1251, `;`) read like UTF-8 ones."""

from __future__ import annotations

import pytest

from voicebot.campaigns.contacts import (
    ACCOUNT_MAX,
    TooManyContacts,
    contacts_from_csv,
    contacts_from_json,
    scenario_needs,
)
from voicebot.importers.csvfile import CsvFormatError, read_rows, sniff_delimiter
from voicebot.settings import Settings

ZONE = "Europe/Moscow"


def _reasons(report) -> dict[int, str]:
    return {r["line"]: r["reason"] for r in report.rejected}


def test_a_long_account_number_rejects_its_row_not_the_upload():
    rows = "".join(f"+7916111{i:04d},{i}\n" for i in range(1, 1001))
    data = f"phone,account_number\n{rows}+79162220000,{'9' * (ACCOUNT_MAX + 1)}\n"
    report = contacts_from_csv(data.encode(), (), ZONE)
    assert len(report.accepted) == 1000 and report.rejected_count == 1
    assert "длиннее 32" in _reasons(report)[1002]


def test_full_width_digits_are_not_a_phone():
    report = contacts_from_csv("phone\n＋７９１６１２３４５６７\n+79161234568\n".encode(), (), ZONE)
    assert [c.phone for c in report.accepted] == ["+79161234568"]
    assert "цифры 0–9" in _reasons(report)[2]


def test_phones_are_normalised_by_the_numbering_plan():
    report = contacts_from_csv(b"phone\n8 (916) 123-45-67\n9161234568\n+7 916\n+79990000000000\n", (), ZONE)
    assert [c.phone for c in report.accepted] == ["+79161234567", "+79161234568"]
    assert set(_reasons(report)) == {4, 5} and all("+79161234567" in r for r in _reasons(report).values())


def test_an_unclosed_quote_is_reported_with_its_lines_not_swallowed():
    data = 'phone,message\n+79161234567,"ok"\n+79161234568,"broken\n+79161234569,x\n'
    report = contacts_from_csv(data, (), ZONE)
    assert [c.phone for c in report.accepted] == ["+79161234567"]
    assert "кавычк" in _reasons(report)[3] and "3–4" in _reasons(report)[3]


def test_a_stray_quote_rejects_one_line_and_the_next_lines_stay():
    report = contacts_from_csv('phone,message\n+79161234567,"a"b\n+79161234568,ok\n', (), ZONE)
    assert [c.phone for c in report.accepted] == ["+79161234568"]
    assert 2 in _reasons(report)


def test_line_numbers_are_physical_lines():
    data = "phone\n\n\n+79161234567\nxx\n"
    assert list(_reasons(contacts_from_csv(data, (), ZONE))) == [5]


def test_a_duplicated_header_is_refused():
    with pytest.raises(CsvFormatError, match="повторяются.*phone"):
        contacts_from_csv("phone,name,Phone\n+79161234567,a,+79161234568\n", (), ZONE)


def test_excel_cp1251_semicolon_file():
    data = "phone;full_name;amount\n+79161234567;Орлова Нина;4 870,50\n".encode("cp1251")
    report = contacts_from_csv(data, ("full_name", "amount"), ZONE)
    assert report.accepted[0].variables == {"full_name": "Орлова Нина", "amount": "4870.50"}


@pytest.mark.parametrize(("header", "delimiter"), [("a,b", ","), ("a;b", ";"), ("a\tb", "\t"), ("a", ",")])
def test_delimiter_detection(header, delimiter):
    assert sniff_delimiter(header) == delimiter


def test_utf8_bom_and_tab_separated():
    data = "\ufeffphone\taccount_number\n+79161234567\t100\n".encode()
    assert contacts_from_csv(data, (), ZONE).accepted[0].account_number == "100"


def test_too_many_contacts():
    with pytest.raises(TooManyContacts):
        contacts_from_csv("phone\n+79161234567\n+79161234568\n", (), ZONE, max_contacts=1)


def test_requirements_come_from_the_flow():
    assert scenario_needs(str(Settings().scenarios_dir), "debt_reminder") == ("full_name", "amount")
    report = contacts_from_json([{"phone": "+79161234567"}], ("full_name",), ZONE)
    assert "full_name" in _reasons(report)[1]


def test_the_registry_importer_reads_through_the_same_reader():
    rows = list(read_rows("number;phone\n1;+79161234567\n", ("number",)))
    assert rows[0].line == 2 and rows[0].get("phone") == "+79161234567"
