"""Campaign contacts from CSV rows: each row validated on its own, bad rows reported with reasons.

Columns: phone (required), timezone, account, full_name, amount, period, ticket_number, visit_id,
visit_date, window_from, window_to, specialist, purpose, slots, message; any other column becomes a
dialogue variable too. Empty cells are dropped, so a scenario sees only what the row says.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from voicebot.values import parse_date, parse_money, parse_phone, parse_timezone

KNOWN_COLUMNS = (
    "phone",
    "timezone",
    "account",
    "full_name",
    "amount",
    "period",
    "ticket_number",
    "visit_id",
    "visit_date",
    "window_from",
    "window_to",
    "specialist",
    "purpose",
    "slots",
    "message",
)
# Variables each outbound scenario cannot do without.
REQUIRED_BY_SCENARIO: dict[str, tuple[str, ...]] = {
    "debt_reminder": ("full_name", "amount"),
    "visit_warning": ("visit_date",),
    "nps_survey": ("ticket_number",),
    "announcement": ("message",),
}
MAX_CELL = 2000


@dataclass(frozen=True)
class ContactRow:
    phone: str
    timezone: str
    account_number: str | None
    variables: dict[str, Any]


@dataclass(frozen=True)
class RejectedRow:
    line: int  # 1-based line in the CSV (the header is line 1), or the row's index + 1 for JSON
    reason: str
    phone: str | None = None


@dataclass
class ContactBatch:
    accepted: list[ContactRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


def validate_row(row: Mapping[str, Any], scenario: str, default_timezone: str) -> ContactRow:
    """One contact or ValueError with the reason."""
    cells = {
        str(k).strip().lower(): str(v).strip() for k, v in row.items() if k is not None and v is not None
    }
    cells = {k: v for k, v in cells.items() if k and v}
    for key, value in cells.items():
        if len(value) > MAX_CELL:
            raise ValueError(f"column {key!r} is longer than {MAX_CELL} characters")
    if "phone" not in cells:
        raise ValueError("phone is missing")
    phone = parse_phone(cells.pop("phone"))
    timezone = parse_timezone(cells.pop("timezone", ""), default_timezone)
    if "amount" in cells:
        cells["amount"] = str(parse_money(cells["amount"]))
    if "visit_date" in cells:
        cells["visit_date"] = parse_date(cells["visit_date"], "visit_date").isoformat()
    missing = [name for name in REQUIRED_BY_SCENARIO.get(scenario, ()) if name not in cells]
    if missing:
        raise ValueError(f"{scenario} needs {', '.join(missing)}")
    account = cells.get("account")
    return ContactRow(phone, timezone, account, cells)


def validate_rows(
    rows: Iterable[Mapping[str, Any]], scenario: str, default_timezone: str, *, first_line: int = 2
) -> ContactBatch:
    """Accepted contacts (a phone listed twice is dialled once) and rejected rows with reasons."""
    batch = ContactBatch()
    seen: set[str] = set()
    for line, row in enumerate(rows, start=first_line):
        try:
            contact = validate_row(row, scenario, default_timezone)
        except ValueError as exc:
            raw_phone = row.get("phone") if isinstance(row, Mapping) else None
            batch.rejected.append(RejectedRow(line, str(exc), str(raw_phone) if raw_phone else None))
            continue
        if contact.phone in seen:
            batch.rejected.append(RejectedRow(line, "duplicate phone in this campaign", contact.phone))
            continue
        seen.add(contact.phone)
        batch.accepted.append(contact)
    return batch


def read_csv(data: str | bytes) -> list[dict[str, str]]:
    """Rows of a CSV with a header; `;` or `,` separated (Russian Excel writes `;`), UTF-8 with or without BOM."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames or "phone" not in [f.strip().lower() for f in reader.fieldnames if f]:
        raise ValueError("the CSV header has no 'phone' column")
    return list(reader)
