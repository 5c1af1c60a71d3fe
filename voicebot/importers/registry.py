"""Import of the registry a company exports: accounts, meters, tickets.

Each row is validated on its own; a bad row is reported with its line and reason and the good rows are
still written. Keys (account number, account + meter id, ticket number) make a second import of the same
file an update, never a duplicate. Rows are written in batches inside one transaction per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot.db.models import RESOURCES, TICKET_STATUSES, Account, AccountPhone, Meter, Ticket, TicketEvent
from voicebot.db.session import Database
from voicebot.importers.csvfile import CsvRow, ImportReport, read_rows
from voicebot.values import (
    MAX_AMOUNT,
    parse_address,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_money,
    parse_phones,
    parse_timezone,
)

BATCH = 1000

ACCOUNT_COLUMNS = ("account", "address", "owner", "phones", "timezone", "debt", "debt_period")
METER_COLUMNS = (
    "account",
    "meter_id",
    "resource",
    "location",
    "serial",
    "last_value",
    "last_date",
    "verification_due",
)
TICKET_COLUMNS = (
    "number",
    "account",
    "address",
    "category",
    "description",
    "status",
    "created_at",
    "due_at",
    "responsible",
)
REQUIRED = {
    "accounts": ("account", "address"),
    "meters": ("account", "meter_id", "resource"),
    "tickets": ("number", "category"),
}

# Categories whose requests are emergencies by default; the dialogue's category table can say more.
EMERGENCY_CATEGORIES = {
    "leak", "no_water", "no_hot_water", "no_heating", "no_power", "sewer_blockage", "gas_smell", "lift_stuck",
}  # fmt: skip


@dataclass
class Parsed:
    line: int
    key: Any
    data: dict[str, Any]


def _required(row: CsvRow, column: str) -> str:
    value = row.get(column)
    if not value:
        raise ValueError(f"{column} is empty")
    return value


def _optional(row: CsvRow, column: str, parse: Callable[[str], Any]) -> Any:
    value = row.get(column)
    return parse(value) if value else None


def _account_number(row: CsvRow) -> str:
    number = _required(row, "account")
    if len(number) > 32:
        raise ValueError(f"account {number[:40]!r} is longer than 32 characters")
    return number


def parse_account(row: CsvRow, default_tz: str) -> Parsed:
    number = _account_number(row)
    address = _required(row, "address")
    parts = parse_address(address)
    data = {
        "number": number,
        "address": address,
        "street": parts.street,
        "house": parts.house,
        "building": parts.building,
        "flat": parts.flat,
        "owner": row.get("owner"),
        "timezone": parse_timezone(row.get("timezone"), default_tz),
        "debt": _debt(row.get("debt")),
        "debt_period": row.get("debt_period") or None,
        "phones": parse_phones(row.get("phones")),
    }
    return Parsed(row.line, number, data)


def parse_meter(row: CsvRow) -> Parsed:
    number = _account_number(row)
    meter_id = _required(row, "meter_id")
    resource = _required(row, "resource").lower()
    if resource not in RESOURCES:
        raise ValueError(f"unknown resource {resource!r} (expected one of {', '.join(RESOURCES)})")
    data = {
        "meter_id": meter_id,
        "resource": resource,
        "location": row.get("location") or None,
        "serial": row.get("serial") or None,
        "last_value": _optional(row, "last_value", lambda v: parse_decimal(v, "last_value")),
        "last_date": _optional(row, "last_date", lambda v: parse_date(v, "last_date")),
        "verification_due": _optional(row, "verification_due", lambda v: parse_date(v, "verification_due")),
    }
    return Parsed(row.line, (number, meter_id), data)


def parse_ticket(row: CsvRow, default_tz: str) -> Parsed:
    number = _required(row, "number")
    if len(number) > 32:
        raise ValueError(f"ticket number {number[:40]!r} is longer than 32 characters")
    status = (row.get("status") or "new").lower()
    if status not in TICKET_STATUSES:
        raise ValueError(f"unknown status {status!r} (expected one of {', '.join(TICKET_STATUSES)})")
    category = _required(row, "category")
    created = _optional(row, "created_at", lambda v: parse_datetime(v, default_tz, "created_at"))
    due = _optional(row, "due_at", lambda v: parse_datetime(v, default_tz, "due_at"))
    if created and due and due < created:
        raise ValueError("due_at is before created_at")
    data = {
        "number": number,
        "account": row.get("account") or None,
        "address": row.get("address"),
        "category": category,
        "priority": "emergency" if category in EMERGENCY_CATEGORIES else "routine",
        "description": row.get("description"),
        "status": status,
        "created_at": created,
        "due_at": due,
        "responsible": row.get("responsible") or None,
    }
    return Parsed(row.line, number, data)


def _validated(
    rows: Iterable[CsvRow], parse: Callable[[CsvRow], Parsed], report: ImportReport
) -> list[Parsed]:
    """Parse every row; reject bad ones and repeated keys (the first occurrence wins)."""
    seen: dict[Any, int] = {}
    good: list[Parsed] = []
    for row in rows:
        report.read += 1
        if row.error:
            report.reject(row.line, row.error)
            continue
        try:
            parsed = parse(row)
        except ValueError as exc:
            report.reject(row.line, str(exc))
            continue
        if parsed.key in seen:
            report.reject(row.line, f"duplicate of line {seen[parsed.key]} (same key {parsed.key!r})")
            continue
        seen[parsed.key] = row.line
        good.append(parsed)
    return good


def _batches(items: list[Parsed]) -> Iterable[list[Parsed]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


async def _account_ids(session: AsyncSession, numbers: Iterable[str]) -> dict[str, int]:
    result = await session.execute(select(Account.number, Account.id).where(Account.number.in_(set(numbers))))
    return {number: pk for number, pk in result}


def _count(report: ImportReport, inserted_flags: Iterable[bool]) -> None:
    for inserted in inserted_flags:
        if inserted:
            report.inserted += 1
        else:
            report.updated += 1


# The xmax system column is 0 for a row this statement inserted and non-zero for one it updated.
_INSERTED = "(xmax = 0)"


async def import_accounts(db: Database, text: str, *, default_tz: str) -> ImportReport:
    report = ImportReport("accounts")
    good = _validated(read_rows(text, REQUIRED["accounts"]), lambda r: parse_account(r, default_tz), report)
    for batch in _batches(good):
        async with db.transaction() as session:
            rows = [{k: v for k, v in p.data.items() if k != "phones"} for p in batch]
            stmt = insert(Account).values(rows)
            stmt = stmt.on_conflict_do_update(
                index_elements=[Account.number],
                set_={c: stmt.excluded[c] for c in rows[0] if c != "number"},
            ).returning(Account.number, Account.id, literal_column(_INSERTED))
            result = (await session.execute(stmt)).all()
            _count(report, (r[2] for r in result))
            ids = {r[0]: r[1] for r in result}
            await session.execute(delete(AccountPhone).where(AccountPhone.account_id.in_(ids.values())))
            phones = [{"account_id": ids[p.key], "phone": ph} for p in batch for ph in p.data["phones"]]
            if phones:
                await session.execute(insert(AccountPhone).values(phones))
    return report


async def import_meters(db: Database, text: str) -> ImportReport:
    report = ImportReport("meters")
    good = _validated(read_rows(text, REQUIRED["meters"]), parse_meter, report)
    positions: dict[str, int] = {}
    for batch in _batches(good):
        async with db.transaction() as session:
            ids = await _account_ids(session, (p.key[0] for p in batch))
            rows = []
            for p in batch:
                account = p.key[0]
                if account not in ids:
                    report.reject(p.line, f"unknown account {account!r} (import accounts first)")
                    continue
                # The file's order of an account's meters is the order the bot asks for them.
                positions[account] = positions.get(account, -1) + 1
                rows.append({**p.data, "account_id": ids[account], "position": positions[account]})
            if not rows:
                continue
            stmt = insert(Meter).values(rows)
            stmt = stmt.on_conflict_do_update(
                index_elements=[Meter.account_id, Meter.meter_id],
                set_={c: stmt.excluded[c] for c in rows[0] if c not in ("account_id", "meter_id")},
            ).returning(literal_column(_INSERTED))
            _count(report, (await session.execute(stmt)).scalars())
    report.rejected.sort(key=lambda r: r.line)
    return report


async def import_tickets(db: Database, text: str, *, default_tz: str) -> ImportReport:
    report = ImportReport("tickets")
    good = _validated(read_rows(text, REQUIRED["tickets"]), lambda r: parse_ticket(r, default_tz), report)
    for batch in _batches(good):
        async with db.transaction() as session:
            accounts = await session.execute(
                select(Account.number, Account.id, Account.address).where(
                    Account.number.in_({p.data["account"] for p in batch if p.data["account"]})
                )
            )
            known = {number: (pk, address) for number, pk, address in accounts}
            before = dict(
                (
                    await session.execute(
                        select(Ticket.number, Ticket.status).where(Ticket.number.in_([p.key for p in batch]))
                    )
                ).all()
            )
            rows = []
            for p in batch:
                data = dict(p.data)
                account = data.pop("account")
                if account and account not in known:
                    report.reject(p.line, f"unknown account {account!r} (import accounts first)")
                    continue
                data["account_id"] = known[account][0] if account else None
                data["address"] = data["address"] or (known[account][1] if account else "")
                data["created_at"] = data["created_at"] or func.now()
                data["closed_at"] = data["created_at"] if data["status"] in ("done", "cancelled") else None
                rows.append(data)
            if not rows:
                continue
            stmt = insert(Ticket).values(rows)
            update = {c: stmt.excluded[c] for c in rows[0] if c not in ("number", "closed_at")}
            stmt = stmt.on_conflict_do_update(index_elements=[Ticket.number], set_=update).returning(
                Ticket.id, Ticket.number, Ticket.status, literal_column(_INSERTED)
            )
            result = (await session.execute(stmt)).all()
            _count(report, (r[3] for r in result))
            events = [
                {"ticket_id": tid, "status": status, "actor": "import", "comment": "imported"}
                for tid, number, status, _ in result
                if before.get(number) != status
            ]
            if events:
                await session.execute(insert(TicketEvent).values(events))
    report.rejected.sort(key=lambda r: r.line)
    return report


def _debt(raw: str | None) -> Decimal:
    """What the account owes: 0 or more (never read out as a debt when 0), at most MAX_AMOUNT."""
    value = parse_money(raw or "")
    if value < 0:
        raise ValueError(f"долг {raw!r} отрицательный: переплату загружайте как 0")
    if value > MAX_AMOUNT:
        raise ValueError(f"долг {raw!r} больше {MAX_AMOUNT} руб. — похоже на ошибку")
    return value
