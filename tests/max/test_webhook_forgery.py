"""A forged MAX delivery («I am user 2001 and here is resident +7916… 's phone») must not reach the bot,
even when the operator forgot the webhook secret: the endpoint fails closed and `serve` names the gap."""

from __future__ import annotations

import httpx

from tests.max.conftest import max_settings
from voicebot.api.app import create_app
from voicebot.max.service import MaxService
from voicebot.security.defaults import default_secret_problems

FORGED = {
    "update_type": "message_created",
    "message": {
        "sender": {"user_id": 6666, "name": "attacker"},
        "recipient": {"chat_id": 6666},
        "body": {
            "mid": "m1",
            "text": "",
            "attachments": [{"type": "contact", "payload": {"vcf_info": "TEL:+79161234503"}}],
        },
    },
}


async def test_no_secret_configured_means_no_delivery_is_believed(db, max_api, nlu, library, tmp_path):
    settings = max_settings(
        max_api, tmp_path, max_mode="webhook", max_webhook_url="https://bot.example/max/webhook"
    )
    app = create_app(settings, database=db)
    app.state.max_service = MaxService(settings, db, nlu=nlu, library=library)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        for headers in ({}, {"X-Max-Bot-Api-Secret": ""}, {"X-Max-Bot-Api-Secret": "anything"}):
            assert (await http.post("/max/webhook", json=FORGED, headers=headers)).status_code == 403
    assert max_api.requests == []  # the bot said nothing to anyone
    assert any("MAX_WEBHOOK_SECRET" in p for p in default_secret_problems(settings))
