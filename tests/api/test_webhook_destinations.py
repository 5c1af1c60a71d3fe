"""Campaign webhooks cannot be aimed at the service's own network (SSRF): refused when created, and
checked again against DNS when an event is delivered."""

import ipaddress
import socket

import pytest

from voicebot.services.destinations import DestinationRefused, check_literal, check_resolved

CONTACTS = [{"phone": "+79161234567", "variables": {"message": "Собрание в субботу."}}]


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:5432/x", "http://localhost/hook", "http://10.0.0.5/hook", "http://[::1]/h",
     "http://169.254.169.254/latest/meta-data", "http://192.168.1.10/h", "http://db.internal/h"],
)  # fmt: skip
def test_private_destinations_are_refused(url):
    with pytest.raises(DestinationRefused):
        check_literal(url)


def test_public_literal_passes():
    check_literal("https://93.184.216.34/hook")


async def test_a_name_resolving_to_a_private_address_is_refused_at_delivery():
    # A plain host name (not "localhost") that this machine maps to a private address, as DNS could.
    name = socket.gethostname()
    try:
        address = socket.gethostbyname(name)
    except OSError:
        pytest.skip(f"{name} does not resolve here")
    if ipaddress.ip_address(address).is_global:
        pytest.skip(f"{name} resolves to a public address here")
    with pytest.raises(DestinationRefused, match="non-public"):
        await check_resolved(f"http://{name}:8080/hook")


async def test_api_refuses_a_private_campaign_webhook(client, keys, api_settings):
    api_settings.webhook_allow_private = False
    response = await client.post(
        "/api/v1/campaigns",
        headers={"Authorization": f"Bearer {keys['staff']}"},
        json={
            "name": "n",
            "scenario": "announcement",
            "webhook_url": "http://127.0.0.1:9/x",
            "contacts": CONTACTS,
        },
    )
    assert response.status_code == 422
    assert "webhook_url" in response.json()["error"]["message"]
    assert [(d["location"], d["field"]) for d in response.json()["error"]["details"]] == [
        ("body", "webhook_url")
    ]
