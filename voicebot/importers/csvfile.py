"""Reading a company's CSV export: header row, line numbers for every row, lenient about dialects."""

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
    """The file as a whole cannot be read (encoding, missing columns)."""


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()


def _dialect(header_line: str) -> str:
    # Russian Excel writes `;`; our own phones column uses `;` inside a comma-separated file.
    return ";" if "," not in header_line and ";" in header_line else ","


def read_rows(text: str, required: tuple[str, ...]) -> Iterator[CsvRow]:
    """Rows of a CSV text as dicts keyed by lower-case column name; extra columns are ignored."""
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFormatError("the file is empty: expected a header row") from None
    columns = [h.strip().lower() for h in header]
    missing = [c for c in required if c not in columns]
    if missing:
        raise CsvFormatError(
            f"missing column(s) {', '.join(missing)}; the header must contain {', '.join(required)}"
        )
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(columns):
            extra = values[len(columns) :]
            if any(v.strip() for v in extra):
                yield CsvRow(line, {"__error__": f"{len(values)} fields but the header has {len(columns)}"})
                continue
        yield CsvRow(line, dict(zip(columns, values, strict=False)))


def read_file(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CsvFormatError(f"{path}: not UTF-8 (byte {exc.start}); save the file as CSV UTF-8") from None
    except OSError as exc:
        raise CsvFormatError(f"{path}: {exc.strerror}") from None
