"""Downloads for Excel: BOM, Russian headers and values, variables as columns, XLSX, no live formulas."""

from __future__ import annotations

import io

import openpyxl

from tests.web.conftest import login
from voicebot.campaigns.store import create_campaign
from voicebot.services.exports import neutralise


def test_neutralise_defuses_formulas_but_keeps_numbers():
    assert neutralise("=1+2") == "'=1+2"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("-2+3") == "'-2+3"
    assert neutralise("Иванов") == "Иванов"
    assert neutralise(-5) == -5


async def _campaign(db) -> int:
    rows = [
        {
            "phone": "+79161234501",
            "full_name": '=HYPERLINK("http://x")',
            "amount": "1200.50",
            "period": "октябрь",
        },
        {"phone": "+79161234502", "full_name": "Белов Андрей", "amount": "300"},
    ]
    report = await create_campaign(db, name="Долги", scenario="debt_reminder", rows=rows)
    return report.campaign_id


async def test_results_csv_and_xlsx_for_excel(client, keys, db):
    campaign_id = await _campaign(db)
    await login(client, keys["staff"])
    csv_file = await client.get(f"/campaigns/{campaign_id}/results.csv")
    assert csv_file.status_code == 200 and csv_file.content.startswith(b"\xef\xbb\xbf")
    lines = csv_file.text.lstrip("\ufeff").splitlines()
    assert "Сумма долга, ₽" in lines[0] and "Период долга" in lines[0] and "variables" not in lines[0]
    assert "'=HYPERLINK" in csv_file.text and "В очереди" in csv_file.text
    xlsx = await client.get(f"/campaigns/{campaign_id}/results.xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxml")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    header = table[0]
    assert header[:4] == ["№ контакта", "Телефон", "Лицевой счёт", "Состояние"]
    name_col = header.index("ФИО")
    assert {row[name_col] for row in table[1:]} == {'\'=HYPERLINK("http://x")', "Белов Андрей"}
    assert (await client.get(f"/campaigns/{campaign_id}/results.pdf")).status_code == 404
