"""Spreadsheet cells from untrusted text: `neutralise`, the one function every CSV/XLSX export passes
values through (services/exports.py for the UI's tables, the campaign results export of the API).

A resident's words, a contact variable or a ticket description can start with `=`, `+`, `-`, `@`, a tab or
a carriage return (also after spaces, also in their full-width forms); Excel and LibreOffice then run it
as a formula (`=HYPERLINK(…)`, DDE). Such a text cell gets a leading apostrophe, which spreadsheets show as
plain text; numbers are left alone (a negative amount is not a formula).
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralise(value: Any) -> Any:
    """The value, or for text a spreadsheet would evaluate, the same text made inert with a leading `'`."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value
