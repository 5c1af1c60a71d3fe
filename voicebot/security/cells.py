"""Spreadsheet cells from untrusted text: the one function every CSV/XLSX export passes values through.

A resident's words, a contact variable or a ticket description can start with `=`, `+`, `-`, `@`, a tab or
a carriage return; Excel and LibreOffice then run it as a formula (`=HYPERLINK(…)`, DDE). Such a text
cell gets a leading apostrophe, which spreadsheets show as plain text; numbers are left alone.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def spreadsheet_safe(value: Any) -> Any:
    """The value, or for text a spreadsheet would evaluate, the same text made inert with a leading `'`."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value
