"""The one CSV reader: a company's registry exports and campaign contact lists alike.

UTF-8 or Windows-1251, separated by `,`, `;` or tab (what Russian Excel writes), a header row whose
columns must be unique, and every record with the physical line it starts on, so a report can say
"line 7: …" about exactly the line a person sees in their editor.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Rejection:
    line: int
    reason: str


@dataclass
class ImportReport:
    kind: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append(Rejection(line, reason))

    def summary(self) -> str:
        return (
            f"{self.kind}: {self.read} rows read, {self.inserted + self.updated} imported "
            f"({self.inserted} new, {self.updated} updated), {len(self.rejected)} rejected"
        )

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "rejected": [{"line": r.line, "reason": r.reason} for r in self.rejected],
        }


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (encoding, header); the message is for the user, in Russian."""


@dataclass(frozen=True)
class CsvRow:
    line: int  # the physical line the record starts on (the header is line 1)
    values: dict[str, str]
    error: str | None = None  # the record itself is broken (quoting, field count); values are empty

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()


DELIMITERS = (",", ";", "\t")
ENCODINGS = ("utf-8", "cp1251")  # UTF-8 (with or without BOM), else what Russian Excel saves


def decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (a BOM is dropped), else Windows-1251 (Russian Excel's "CSV")."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvFormatError("файл не в кодировке UTF-8 и не в Windows-1251; сохраните его как «CSV UTF-8»")


def sniff_delimiter(header_line: str) -> str:
    """The separator the header uses most: `,`, `;` (Russian Excel) or tab; `,` when none."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header(reader: Iterator[list[str]], required: tuple[str, ...]) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFormatError("файл пуст: нужна строка заголовка") from None
    except csv.Error as exc:
        raise CsvFormatError(f"строка 1: заголовок не читается ({exc})") from None
    columns = [h.strip().lower() for h in header]
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        raise CsvFormatError(f"столбцы повторяются в заголовке: {', '.join(repeated)}")
    missing = [c for c in required if c not in columns]
    if missing:
        raise CsvFormatError(
            f"нет столбцов: {', '.join(missing)}; в заголовке должны быть {', '.join(required)}"
        )
    return columns


def read_rows(text: str, required: tuple[str, ...]) -> Iterator[CsvRow]:
    """Records of a CSV text keyed by lower-case column name. A record that cannot be trusted (a stray or
    unclosed quote, a line break inside a field, more fields than the header) comes back with `error`
    set and its line number, so the caller rejects that record alone and keeps the others."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=sniff_delimiter(text.split("\n", 1)[0]), strict=True
    )
    columns = _header(reader, required)
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error:
            end = reader.line_num
            lost = f"; строки {start}–{end} не прочитаны" if end > start else ""
            yield CsvRow(start, {}, f"ошибка в кавычках: кавычка не закрыта или стоит внутри значения{lost}")
            continue
        if reader.line_num > start:  # a quoted field ran over line breaks: almost always a lost quote
            yield CsvRow(start, {}, f"кавычка не закрыта: запись заняла строки {start}–{reader.line_num}")
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(columns) and any(v.strip() for v in values[len(columns) :]):
            yield CsvRow(start, {}, f"полей {len(values)}, а в заголовке {len(columns)}")
            continue
        yield CsvRow(start, dict(zip(columns, values, strict=False)))


def read_file(path: Path) -> str:
    try:
        return decode(path.read_bytes())
    except CsvFormatError as exc:
        raise CsvFormatError(f"{path}: {exc}") from None
    except OSError as exc:
        raise CsvFormatError(f"{path}: {exc.strerror}") from None
