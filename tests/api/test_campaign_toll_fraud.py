"""A stolen staff key (or a careless upload) cannot make the dialer call premium-rate or foreign numbers:
those rows are rejected with the reason, the residents' rows are kept."""

from __future__ import annotations

from tests.api.conftest import auth

CSV = (
    "phone,full_name,amount\n"
    "+79161110001,Иванов И. И.,100\n"
    "88091234567,Платная линия,100\n"  # 8-809: pays its owner per minute
    "+78031234567,Платная линия,100\n"
    "+442079460000,Лондон,100\n"
    "+77012345678,Казахстан,100\n"  # +7 but not Russia
)


async def test_premium_and_foreign_contacts_are_rejected(client, keys):
    response = await client.post(
        "/api/v1/campaigns/csv",
        headers=auth(keys["staff"]),
        files={"file": ("contacts.csv", CSV.encode(), "text/csv")},
        data={"name": "n", "scenario": "debt_reminder"},
    )
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert report["accepted"] == 1 and report["rejected_count"] == 4
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert "платной линии" in reasons[3] and "платной линии" in reasons[4]
    assert "не российский" in reasons[5] and "не российский" in reasons[6]
