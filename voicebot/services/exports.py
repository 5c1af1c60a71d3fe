"""Tables for people: CSV that Excel opens right (UTF-8 with a BOM, Russian headers) and XLSX.

Every text cell goes through `neutralise`, so a value a caller or a CSV author controls (a name, a
transcript) can never run as a spreadsheet formula when the file is opened.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from voicebot.security.cells import neutralise  # the one formula guard (re-exported for the edges)

BOM = "\ufeff"
CSV_MEDIA = "text/csv; charset=utf-8"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    key: str
    title: str


def _cells(row: dict[str, Any], columns: Sequence[Column]) -> list[Any]:
    return [neutralise("" if row.get(c.key) is None else row.get(c.key)) for c in columns]


async def csv_chunks(rows: AsyncIterator[dict[str, Any]], columns: Sequence[Column]) -> AsyncIterator[str]:
    """The CSV in pieces of about 64 KB: BOM, the Russian header line, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([c.title for c in columns])
    async for row in rows:
        writer.writerow(_cells(row, columns))
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def xlsx_bytes(rows: AsyncIterator[dict[str, Any]], columns: Sequence[Column], title: str) -> bytes:
    """One sheet, written row by row (openpyxl's write-only mode keeps memory flat)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "Лист1")
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    async for row in rows:
        sheet.append([_xlsx_value(v) for v in _cells(row, columns)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return str(value)
    return value


async def from_list(rows: Iterable[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for row in rows:
        yield row
