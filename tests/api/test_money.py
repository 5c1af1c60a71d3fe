"""Debt amounts a campaign author controls: −5, 0, NaN, inf, absurd sums are refused per row with a
reason (never a 500), the good rows are kept, and no resident ever hears a negative or empty debt."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.api.conftest import auth
from voicebot.dialogue.actions.debt import _amount
from voicebot.values import parse_amount

BAD = ["-5", "0", "0.00", "NaN", "nan", "inf", "-Infinity", "1e9", "100000000.01", "12.345", "сто"]


async def test_bad_amounts_are_rejected_row_by_row_over_json_and_csv(client, keys):
    contacts = [
        {"phone": "+79161110001", "variables": {"full_name": "Орлова Н. П.", "amount": "4870.50"}}
    ] + [
        {"phone": f"+7916222{i:04d}", "variables": {"full_name": "Белов А. В.", "amount": amount}}
        for i, amount in enumerate(BAD)
    ]
    created = await client.post(
        "/api/v1/campaigns", json={"name": "Долги", "scenario": "debt_reminder", "contacts": contacts},
        headers=auth(keys["staff"]),
    )  # fmt: skip
    assert created.status_code == 201, created.text
    report = created.json()["report"]
    assert report["accepted"] == 1 and report["rejected_count"] == len(BAD)
    assert all("сумма" in r["reason"] for r in report["rejected"]), report["rejected"]
    csv_body = "phone,full_name,amount\n+79161110001,Орлова Н. П.,4870.50\n" + "".join(
        f"+7916333{i:04d},Белов А. В.,{amount}\n" for i, amount in enumerate(BAD)
    )
    uploaded = await client.post(
        "/api/v1/campaigns/csv", headers=auth(keys["staff"]),
        files={"file": ("c.csv", csv_body.encode(), "text/csv")}, data={"name": "Долги", "scenario": "debt_reminder"},
    )  # fmt: skip
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["report"]["accepted"] == 1
    assert uploaded.json()["report"]["rejected_count"] == len(BAD)


async def test_a_json_float_nan_or_infinity_is_a_clear_error_not_a_500(client, keys):
    raw = (
        '{"name": "x", "scenario": "debt_reminder", "contacts": [{"phone": "+79161110001", '
        '"variables": {"full_name": "А", "amount": NaN}}, {"phone": "+79161110002", '
        '"variables": {"full_name": "Б", "amount": Infinity}}]}'
    )
    response = await client.post(
        "/api/v1/campaigns", content=raw, headers={**auth(keys["staff"]), "Content-Type": "application/json"}
    )
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        assert response.json()["report"]["accepted"] == 0


@pytest.mark.parametrize("raw", BAD)
def test_parse_amount_refuses(raw):
    with pytest.raises(ValueError):
        parse_amount(raw)


def test_the_debt_dialogue_never_reads_out_a_non_debt():
    for raw in ("-5", "0", "NaN", "Infinity", "-inf", "1e12", Decimal("-120.50"), Decimal("0.00")):
        assert _amount(raw) is None, raw
    assert _amount("4870.50") == Decimal("4870.50")


def test_the_registry_import_refuses_negative_nan_and_absurd_debts():
    from voicebot.importers.registry import _debt

    assert _debt("0") == Decimal("0.00") and _debt("1 520,40") == Decimal("1520.40")
    for raw in ("-5", "NaN", "inf", "1e12"):
        with pytest.raises(ValueError):
            _debt(raw)
