"""Where the bot may dial at all (toll fraud): Russian numbers only, never premium-rate ones.

A premium-rate number (8-803, 8-809, or any the numbering plan marks so) pays its owner per minute of our
call; a foreign number costs international rates. Neither is ever a resident's number the bot must reach,
so callbacks and campaign contacts refuse them whoever asks (`db/callbacks.py`, `campaigns/contacts.py`).
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType


def refusal(phone: str) -> str | None:
    """None when the bot may dial `phone`; otherwise why not, in Russian (it reaches whoever typed it)."""
    try:
        number = phonenumbers.parse(phone, "RU")
    except phonenumbers.NumberParseException:
        return "номер не распознан"
    if not phonenumbers.is_valid_number(number):
        return "номер не распознан"
    if phonenumbers.region_code_for_number(number) != "RU":
        return "номер не российский: бот звонит только на номера России (+7)"
    if phonenumbers.number_type(number) == PhoneNumberType.PREMIUM_RATE:
        return "номер платной линии (8-803, 8-809): бот на такие не звонит"
    return None
