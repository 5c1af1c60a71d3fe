"""Campaign contact rows from JSON or CSV: each bad row is reported with its line and reason.

The rules for one row are the dialer's (voicebot.campaigns.contacts.validate_row), so the CLI and the API
accept the same contacts; this module adds line numbers, duplicates and a bounded report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from voicebot.campaigns.contacts import validate_row
from voicebot.importers.csvfile import CsvRow

MAX_VARIABLES = 50
MAX_KEY_LENGTH = 64
MAX_VALUE_LENGTH = 2000
REPORTED_REJECTIONS = 1000  # a report lists this many bad rows; the count covers all


@dataclass(frozen=True)
class Contact:
    phone: str
    timezone: str
    account_number: str | None
    variables: dict[str, Any]


@dataclass
class ContactReport:
    read: int = 0
    accepted: list[Contact] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_count: int = 0
    _lines_by_phone: dict[str, int] = field(default_factory=dict)

    def reject(self, line: int, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < REPORTED_REJECTIONS:
            self.rejected.append({"line": line, "reason": reason})

    def add(self, line: int, contact: Contact) -> None:
        first = self._lines_by_phone.get(contact.phone)
        if first is not None:
            self.reject(line, f"duplicate phone {contact.phone} (first on line {first})")
            return
        self._lines_by_phone[contact.phone] = line
        self.accepted.append(contact)

    def summary(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "accepted": len(self.accepted),
            "rejected_count": self.rejected_count,
            "rejected": self.rejected,
        }


def _check_variables(variables: Any) -> dict[str, Any]:
    if not isinstance(variables, dict):
        raise ValueError("variables must be an object of names to values")
    if len(variables) > MAX_VARIABLES:
        raise ValueError(f"at most {MAX_VARIABLES} variables per contact")
    for key, value in variables.items():
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValueError(f"variable name {key[:80]!r} must be 1..{MAX_KEY_LENGTH} characters")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValueError(f"variable {key}: values must be text, numbers or booleans")
        if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
            raise ValueError(f"variable {key}: longer than {MAX_VALUE_LENGTH} characters")
    return dict(variables)


def make_contact(row: dict[str, Any], scenario: str, default_timezone: str) -> Contact:
    """The dialer's own row rules (phone, zone, what the scenario needs); ValueError with the reason."""
    if "account_number" in row and "account" not in row:  # the API's name for the dialer's `account`
        row = {**row, "account": row["account_number"]}
    row.pop("account_number", None)
    checked = validate_row(row, scenario, default_timezone)
    return Contact(checked.phone, checked.timezone, checked.account_number, checked.variables)


def _json_row(item: dict[str, Any]) -> dict[str, Any]:
    """A JSON contact {phone, timezone?, account_number?, variables?} as a flat row like a CSV line."""
    if not isinstance(item.get("phone"), str):
        raise ValueError("phone is required (text, E.164)")
    fixed = {k: item.get(k) for k in ("phone", "timezone", "account_number")}
    for key in ("timezone", "account_number"):
        if fixed[key] is not None and not isinstance(fixed[key], str | int):
            raise ValueError(f"{key} must be text")
    variables = _check_variables(item.get("variables") if item.get("variables") is not None else {})
    return {**variables, **{k: str(v) for k, v in fixed.items() if v is not None}}


def validate_json_contacts(
    items: list[dict[str, Any]], scenario: str, default_timezone: str
) -> ContactReport:
    """Lines of JSON contacts are their 1-based positions in the list."""
    report = ContactReport()
    for index, item in enumerate(items, start=1):
        report.read += 1
        try:
            contact = make_contact(_json_row(item), scenario, default_timezone)
        except ValueError as exc:
            report.reject(index, str(exc))
            continue
        report.add(index, contact)
    return report


def validate_csv_rows(rows: Any, scenario: str, default_timezone: str, max_contacts: int) -> ContactReport:
    """`rows` from importers.csvfile.read_rows; columns other than phone/timezone/account are variables."""
    report = ContactReport()
    row: CsvRow
    for row in rows:
        report.read += 1
        if report.read > max_contacts:
            raise ValueError(f"more than {max_contacts} contacts in one campaign")
        if "__error__" in row.values:
            report.reject(row.line, row.values["__error__"])
            continue
        try:
            contact = make_contact(dict(row.values), scenario, default_timezone)
        except ValueError as exc:
            report.reject(row.line, str(exc))
            continue
        report.add(row.line, contact)
    return report
