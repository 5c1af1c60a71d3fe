"""The one contact validator: `voicebot campaign create`, the API (JSON and CSV) and the web UI's upload
all check contacts here, row by row, keeping the good rows and reporting each bad one with its line and a
reason in Russian (the people who fix the file read it).

A row has `phone` (required), `timezone`, `account_number` (or `account`), and any other column becomes a
dialogue variable; empty cells are dropped, so a scenario sees only what the row says. Every value is held
to the limits of the column it is stored in, and a scenario's `required:` variables (its flow.yml) must be
there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from voicebot.db.models import CampaignContact
from voicebot.dialogue.library import cached_library
from voicebot.importers.csvfile import CsvRow, decode, read_rows
from voicebot.security import dialling
from voicebot.values import parse_amount, parse_date, parse_phone, parse_timezone

# The storage limits of campaign_contacts, read from the model so the two cannot drift apart.
ACCOUNT_MAX = CampaignContact.__table__.c.account_number.type.length
TIMEZONE_MAX = CampaignContact.__table__.c.timezone.type.length
MAX_VARIABLES = 50
MAX_KEY_LENGTH = 64
MAX_VALUE_LENGTH = 2000
REPORTED_REJECTIONS = 1000  # a report lists this many bad rows; the count covers all


class TooManyContacts(ValueError):
    pass


def scenario_needs(scenarios_dir: str, scenario: str) -> tuple[str, ...]:
    """The variables the scenario's flow marks `required:` (none for an unknown scenario: the campaign
    checks refuse that one with their own message)."""
    library = cached_library(scenarios_dir)
    return library.get(scenario).required if scenario in library.flows else ()


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
        """Keep the contact unless its phone came earlier: a number is dialled once per campaign."""
        first = self._lines_by_phone.get(contact.phone)
        if first is not None:
            self.reject(line, f"телефон {contact.phone} уже есть в строке {first}")
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


def _cells(row: Mapping[str, Any]) -> dict[str, str]:
    cells = {
        str(k).strip().lower(): str(v).strip() for k, v in row.items() if k is not None and v is not None
    }
    cells = {k: v for k, v in cells.items() if k and v}
    if len(cells) > MAX_VARIABLES:
        raise ValueError(f"больше {MAX_VARIABLES} столбцов со значениями")
    for key, value in cells.items():
        if len(key) > MAX_KEY_LENGTH:
            raise ValueError(f"имя столбца {key[:40]!r}… длиннее {MAX_KEY_LENGTH} символов")
        if len(value) > MAX_VALUE_LENGTH:
            raise ValueError(f"значение в столбце {key!r} длиннее {MAX_VALUE_LENGTH} символов")
    return cells


def validate_contact(row: Mapping[str, Any], needs: Collection[str], default_timezone: str) -> Contact:
    """One contact, or ValueError with the reason."""
    cells = _cells(row)
    if "phone" not in cells:
        raise ValueError("нет телефона")
    phone = parse_phone(cells.pop("phone"))
    refused = dialling.refusal(phone)  # toll fraud: no premium-rate or foreign numbers, whoever uploads
    if refused:
        raise ValueError(f"{phone}: {refused}")
    zone = cells.pop("timezone", "")
    if len(zone) > TIMEZONE_MAX:
        raise ValueError(f"часовой пояс длиннее {TIMEZONE_MAX} символов")
    timezone = parse_timezone(zone, default_timezone)
    account = cells.pop("account_number", None) or cells.get("account")
    if account:
        if len(account) > ACCOUNT_MAX:
            raise ValueError(f"лицевой счёт {account[:40]!r}… длиннее {ACCOUNT_MAX} символов")
        cells["account"] = account  # the scenarios' name for it
    if "amount" in cells:
        cells["amount"] = str(parse_amount(cells["amount"]))
    if "visit_date" in cells:
        cells["visit_date"] = parse_date(cells["visit_date"], "дата визита").isoformat()
    missing = [name for name in needs if name not in cells]
    if missing:
        raise ValueError(f"сценарию нужны столбцы: {', '.join(missing)}")
    return Contact(phone, timezone, account, cells)


def _check(
    report: ContactReport, numbered: Iterable[tuple[int, Mapping[str, Any] | str]], needs, zone
) -> None:  # noqa: ANN001
    for line, row in numbered:
        report.read += 1
        if isinstance(row, str):  # the reader's or the shape check's reason for a broken record
            report.reject(line, row)
            continue
        try:
            contact = validate_contact(row, needs, zone)
        except ValueError as exc:
            report.reject(line, str(exc))
            continue
        report.add(line, contact)


def _csv_records(rows: Iterator[CsvRow], max_contacts: int) -> Iterator[tuple[int, Mapping[str, Any] | str]]:
    for count, row in enumerate(rows, start=1):
        if count > max_contacts:
            raise TooManyContacts(f"больше {max_contacts} контактов в одном обзвоне")
        yield row.line, row.error or row.values


def contacts_from_csv(
    data: bytes | str, needs: Collection[str], default_timezone: str, *, max_contacts: int = 1_000_000
) -> ContactReport:
    """Raises CsvFormatError for a file that cannot be read at all, TooManyContacts past the limit."""
    text = decode(data) if isinstance(data, bytes) else data
    report = ContactReport()
    _check(report, _csv_records(read_rows(text, required=("phone",)), max_contacts), needs, default_timezone)
    return report


def _json_row(item: Any) -> Mapping[str, Any] | str:
    """A JSON contact {phone, timezone?, account_number?, variables?} as a flat row like a CSV line."""
    if not isinstance(item, dict):
        return "контакт должен быть объектом"
    if not isinstance(item.get("phone"), str):
        return "нет телефона (строка в формате +79161234567)"
    fixed = {k: item.get(k) for k in ("phone", "timezone", "account_number")}
    for key in ("timezone", "account_number"):
        if fixed[key] is not None and not isinstance(fixed[key], str | int):
            return f"{key}: нужна строка"
    variables = item.get("variables") if item.get("variables") is not None else {}
    if not isinstance(variables, dict):
        return "variables: нужен объект «имя: значение»"
    for key, value in variables.items():
        if value is not None and not isinstance(value, str | int | float | bool):
            return f"переменная {str(key)[:40]!r}: значение должно быть текстом, числом или да/нет"
    return {**variables, **{k: str(v) for k, v in fixed.items() if v is not None}}


def contacts_from_json(items: list[Any], needs: Collection[str], default_timezone: str) -> ContactReport:
    """Lines of JSON contacts are their 1-based positions in the list."""
    report = ContactReport()
    _check(report, ((i, _json_row(item)) for i, item in enumerate(items, start=1)), needs, default_timezone)
    return report


def contacts_from_rows(
    rows: Iterable[Mapping[str, Any]], needs: Collection[str], default_timezone: str
) -> ContactReport:
    """Rows already split into columns (programs and tests); lines count as in a CSV with a header."""
    report = ContactReport()
    _check(report, enumerate(rows, start=2), needs, default_timezone)
    return report
