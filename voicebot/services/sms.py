"""SMS texts per template key (Russian) and the pluggable HTTP gateway call."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from voicebot.settings import Settings

TEMPLATES: dict[str, str] = {
    "payment_link": "{company}: задолженность по лицевому счёту {account}. {payment}",
    "visit_reminder": "{company}: напоминаем о визите специалиста {slot}. Если планы изменились, позвоните нам.",
    "energy_supplier_contacts": (
        "{company}: показания электроэнергии принимает энергосбытовая компания. "
        "Её телефон и личный кабинет указаны в квитанции за электроэнергию."
    ),
    "ticket_number": "{company}: заявка № {number} зарегистрирована{due}. Спасибо за обращение.",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def load_templates(path: Path | None) -> dict[str, str]:
    templates = dict(TEMPLATES)
    if path is not None:
        extra = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(extra, dict):
            raise ValueError(f"{path}: expected a mapping of template key to text")
        templates.update({str(k): str(v) for k, v in extra.items()})
    return templates


def _slot_words(slot: str) -> str:
    # "2025-11-20 10:00-12:00" → "20.11.2025 с 10:00 до 12:00"
    day, _, hours = slot.partition(" ")
    parts = day.split("-")
    start, _, end = hours.partition("-")
    if len(parts) == 3 and start and end:
        return f"{parts[2]}.{parts[1]}.{parts[0]} с {start} до {end}"
    return slot


def render(template_key: str, payload: dict[str, Any], settings: Settings, templates: dict[str, str]) -> str:
    """The SMS text; ValueError for an unknown template key."""
    if template_key not in templates:
        raise ValueError(f"unknown SMS template {template_key!r}")
    values = _Blank({k: "" if v is None else str(v) for k, v in payload.items()})
    values["company"] = settings.company_name
    account = values.get("account", "")
    if settings.sms_payment_url and account:
        values["payment"] = "Оплатить: " + settings.sms_payment_url.replace(
            "{account}", urllib.parse.quote(account)
        )
    else:
        values["payment"] = "Оплатить можно по квитанции или в личном кабинете."
    if values.get("slot"):
        values["slot"] = _slot_words(values["slot"])
    if values.get("due"):
        values["due"] = f", срок выполнения — {values['due']}"
    return " ".join(templates[template_key].format_map(values).split())


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None
    response: str


def _escape(value: str, content_type: str) -> str:
    if "json" in content_type:
        return json.dumps(value, ensure_ascii=False)[1:-1]
    if "x-www-form-urlencoded" in content_type:
        return urllib.parse.quote_plus(value)
    return value


def _fill(template: str, phone: str, text: str, escape: Any) -> str:
    return template.replace("{phone}", escape(phone)).replace("{text}", escape(text))


def gateway_headers(settings: Settings) -> dict[str, str]:
    headers = json.loads(settings.sms_gateway_headers or "{}")
    if not isinstance(headers, dict):
        raise ValueError("VOICEBOT_SMS_GATEWAY_HEADERS must be a JSON object")
    return {str(k): str(v) for k, v in headers.items()}


async def send(client: httpx.AsyncClient, settings: Settings, phone: str, text: str) -> SendResult:
    assert settings.sms_gateway_url
    headers = gateway_headers(settings)
    try:
        if settings.sms_gateway_method == "GET":
            url = _fill(settings.sms_gateway_url, phone, text, urllib.parse.quote)
            response = await client.get(url, headers=headers)
        else:
            content_type = settings.sms_gateway_content_type
            body = _fill(settings.sms_gateway_body, phone, text, lambda v: _escape(v, content_type))
            response = await client.post(
                settings.sms_gateway_url,
                content=body.encode(),
                headers={"Content-Type": content_type, **headers},
            )
    except httpx.HTTPError as exc:
        return SendResult(False, None, f"{type(exc).__name__}: {exc}"[:500])
    return SendResult(200 <= response.status_code < 300, response.status_code, response.text[:1000])
