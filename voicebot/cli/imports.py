"""`voicebot import accounts|meters|tickets FILE.csv`."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path

import typer

from voicebot.cli.common import run_with_database, setup
from voicebot.importers import registry
from voicebot.importers.csvfile import CsvFormatError, ImportReport, read_file

app = typer.Typer(no_args_is_help=True)


class Kind(enum.StrEnum):
    accounts = "accounts"
    meters = "meters"
    tickets = "tickets"


async def _import(kind: Kind, text: str, db, settings) -> ImportReport:
    if kind is Kind.accounts:
        return await registry.import_accounts(db, text, default_tz=settings.default_timezone)
    if kind is Kind.meters:
        return await registry.import_meters(db, text)
    return await registry.import_tickets(db, text, default_tz=settings.default_timezone)


def run_import(kind: Kind, path: Path, as_json: bool) -> None:
    setup(log_format="text")
    try:
        text = read_file(path)
        report = run_with_database(lambda db, settings: _import(kind, text, db, settings))
    except CsvFormatError as exc:
        typer.echo(f"{path}: rejected: {exc}", err=True)
        raise typer.Exit(2) from None
    for rejection in report.rejected:
        typer.echo(f"{path}:{rejection.line}: rejected: {rejection.reason}", err=True)
    if as_json:
        json.dump(report.to_dict(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    typer.echo(report.summary())
    raise typer.Exit(0 if report.ok else 1)


def _command(kind: Kind):
    def command(
        file: Path = typer.Argument(..., help="UTF-8 CSV with a header row"),
        as_json: bool = typer.Option(False, "--json", help="Also print the report as one JSON object"),
    ) -> None:
        run_import(kind, file, as_json)

    command.__doc__ = f"Import {kind.value} from a CSV file (columns: {', '.join(_COLUMNS[kind])})."
    return command


_COLUMNS = {
    Kind.accounts: registry.ACCOUNT_COLUMNS,
    Kind.meters: registry.METER_COLUMNS,
    Kind.tickets: registry.TICKET_COLUMNS,
}

for _kind in Kind:
    app.command(name=_kind.value)(_command(_kind))
