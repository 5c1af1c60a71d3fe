"""SSRF through webhook URLs: every spelling of a loopback/private address, local names and wildcard DNS
names are refused when the campaign is created."""

from __future__ import annotations

import pytest

from tests.api.conftest import auth
from voicebot.services.destinations import DestinationRefused, check_literal

REFUSED = [
    "http://127.1/hook", "http://0x7f000001/hook", "http://2130706433/hook", "http://0177.0.0.1/hook",
    "http://0/hook", "http://localhost./hook", "http://LOCALHOST/hook", "http://db.internal/hook",
    "http://127.0.0.1.nip.io/hook", "http://10.0.0.1.sslip.io/hook", "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://[::ffff:7f00:1]/hook", "http://169.254.169.254/latest",
    "http://10.1.2.3:5432/", "http://192.168.0.1/",
]  # fmt: skip


@pytest.mark.parametrize("url", REFUSED)
def test_every_spelling_is_refused(url):
    with pytest.raises(DestinationRefused):
        check_literal(url)


def test_public_destinations_pass():
    for url in (
        "https://crm.example.ru/hooks/voicebot",
        "https://93.184.216.34/x",
        "https://[2606:4700::1111]/",
    ):
        check_literal(url)


async def test_the_api_refuses_them_at_creation(client, keys, api_settings):
    api_settings.webhook_allow_private = False
    body = {"name": "x", "scenario": "visit_warning",
            "contacts": [{"phone": "+79161110001", "variables": {"visit_id": "V1", "visit_date": "2025-11-20"}}]}  # fmt: skip
    for url in (
        "http://127.1/hook",
        "http://2130706433/h",
        "http://localhost./h",
        "http://a.127.0.0.1.nip.io/h",
    ):
        response = await client.post(
            "/api/v1/campaigns", json={**body, "webhook_url": url}, headers=auth(keys["staff"])
        )
        assert response.status_code == 422, (url, response.text)
