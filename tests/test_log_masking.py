"""What an attacker with the logs (a support bundle, a log shipper) must not find: full phone numbers,
API key secrets, passwords in URLs — also inside tracebacks of database errors, which quote parameters."""

from __future__ import annotations

import io
import logging

import pytest

from voicebot.logs import JsonFormatter, TextFormatter
from voicebot.security.masking import PhoneMaskFilter

PHONE = "+79161234567"
KEY = "vb_9de57fcd5a41_qoGlIzSehtuQhZiWgAIY8nOYTicZbDzt4vrjClirv64"
DSN = "postgresql://voicebot:Sup3rS3cret@db:5432/voicebot"


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
def test_no_phone_key_or_password_in_any_part_of_a_log_line(formatter):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(PhoneMaskFilter())
    log = logging.getLogger("test.masking")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    try:
        log.warning("key %s from %s", KEY, PHONE, extra={"dsn": DSN, "caller": PHONE, "presented": KEY})
        log.info("GET /calls?phone=%2B79161234567&page=2")
        try:
            raise RuntimeError(f"INSERT failed [parameters: ('{PHONE}', '{KEY}')] connecting to {DSN}")
        except RuntimeError:
            log.exception("could not queue a callback")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    for secret in (PHONE, "9161234567", KEY, "qoGlIzSehtuQhZiWgAIY8nOYTicZbDzt4vrjClirv64", "Sup3rS3cret"):
        assert secret not in text, secret
    assert "%2B79*******67" in text  # the query string's number too
    assert "+79*******67" in text and "vb_9de57fcd5a41_***" in text  # still tells which caller, which key
