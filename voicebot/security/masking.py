"""Phone numbers in logs (152-ФЗ): a resident's number is personal data, so logs keep only its edges;
API key secrets and passwords inside URLs never reach a log line at all (also inside tracebacks, whose
database errors quote the statement's parameters).

`mask_phone` is for call sites that log a number on purpose; `PhoneMaskFilter` catches the rest (message
text and extra fields) on the way to the log handler.
"""

from __future__ import annotations

import logging
import re

# A Russian 11-digit number (+7/7/8 …) or any +international one; not call ids, uniqueids or amounts.
_PHONE = re.compile(
    r"(?<![\w.+])(\+?[78][\s\-()]*\d{3}[\s\-()]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}|\+\d{10,14})(?![\w.])"
)


def mask_phone(phone: str | None) -> str | None:
    """'+79161234567' → '+79*******67': enough to tell two callers apart, not enough to dial."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return "*" * len(digits)
    return ("+" if phone.strip().startswith("+") else "") + digits[:2] + "*" * (len(digits) - 4) + digits[-2:]


# API keys (vb_<id>_<secret>: the id stays, it names the key) and passwords in URLs (scheme://user:pass@)
_API_KEY = re.compile(r"\b(vb_[0-9a-f]{6,16}_)[A-Za-z0-9_\-]{8,}")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^/\s:@]*:)[^@\s/]+@", re.IGNORECASE)


_ENCODED_PHONE = re.compile(r"%2[Bb](\d{10,14})(?!\d)")  # "+7916…" inside a URL's query


def mask_text(text: str) -> str:
    """Phone numbers masked (also URL-encoded), API key secrets and URL passwords replaced by ***."""
    text = _API_KEY.sub(r"\1***", text)
    text = _URL_PASSWORD.sub(r"\1***@", text)
    text = _ENCODED_PHONE.sub(lambda m: "%2B" + (mask_phone(m.group(1)) or ""), text)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)) or "", text)


def _masked(value: object) -> object:
    return mask_text(value) if isinstance(value, str) else value


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__)


class PhoneMaskFilter(logging.Filter):
    """Masks phone numbers in a record's message and its extra string fields before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                record.__dict__[key] = _masked(value)
        return True
