"""`voicebot campaign create|start|pause|resume|cancel|status`: outbound campaigns from CSV files."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import typer

from voicebot.campaigns import store
from voicebot.campaigns.contacts import contacts_from_csv, scenario_needs
from voicebot.cli.common import run_with_database, setup
from voicebot.settings import get_settings

app = typer.Typer(no_args_is_help=True)


def _run(work: Callable[..., Awaitable[object]]) -> object:
    setup(log_format="text")
    try:
        return run_with_database(work)
    except store.CampaignNotFound as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except store.CampaignError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def create(
    file: Path = typer.Argument(
        ..., help="CSV (UTF-8 or Windows-1251; `,` `;` or tab) with a header; 'phone' required"
    ),
    name: str = typer.Option(..., "--name", help="Campaign name shown to staff"),
    scenario: str = typer.Option(..., "--scenario", help="Outbound scenario, e.g. debt_reminder"),
    max_concurrent: int = typer.Option(5, "--max-concurrent", help="Calls of this campaign at once"),
    cps: float = typer.Option(1.0, "--cps", help="New calls per second"),
    settings_json: str = typer.Option(
        "", "--settings", help='Campaign settings JSON, e.g. {"windows": {"weekday": ["09:00", "21:00"]}}'
    ),
    start: bool = typer.Option(False, "--start", help="Start dialling at once"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object"),
) -> None:
    """Create a campaign from a CSV of contacts; rejected rows are listed with their reasons."""
    settings = get_settings()
    try:
        extra = json.loads(settings_json) if settings_json else None
        needs = scenario_needs(str(settings.scenarios_dir), scenario)
        contacts = contacts_from_csv(file.read_bytes(), needs, settings.default_timezone)
    except (OSError, ValueError) as exc:  # unreadable file, CsvFormatError, bad --settings JSON
        typer.echo(f"{file}: {getattr(exc, 'strerror', None) or exc}", err=True)
        raise typer.Exit(2) from None
    report = _run(
        lambda db, settings: store.create_campaign(
            db, name=name, scenario=scenario, rows=contacts, max_concurrent=max_concurrent,
            calls_per_second=cps, settings=extra, default_timezone=settings.default_timezone, start=start,
            created_by="cli", allowed_scenarios=store.outbound_scenarios(str(settings.scenarios_dir)),
        )
    )  # fmt: skip
    assert isinstance(report, store.CreateReport)
    for rejected in report.rejected:
        typer.echo(f"{file}:{rejected['line']}: rejected: {rejected['reason']}", err=True)
    if as_json:
        json.dump(report.as_dict(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    if report.campaign_id is None:
        typer.echo("no contact accepted: campaign not created", err=True)
        raise typer.Exit(1)
    typer.echo(f"campaign {report.campaign_id}: {report.accepted} contacts, {len(report.rejected)} rejected")


def _status_command(action: Callable[..., Awaitable[str]], verb: str) -> Callable[[int], None]:
    def command(campaign_id: int = typer.Argument(..., help="Campaign id")) -> None:
        status = _run(lambda db, settings: action(db, campaign_id))
        typer.echo(f"campaign {campaign_id}: {status}")

    command.__doc__ = f"{verb} a campaign."
    return command


app.command("start")(_status_command(store.start_campaign, "Start dialling"))
app.command("pause")(_status_command(store.pause_campaign, "Pause (calls in progress finish)"))
app.command("resume")(_status_command(store.resume_campaign, "Resume"))
app.command("cancel")(_status_command(store.cancel_campaign, "Cancel (pending contacts are dropped)"))


@app.command()
def status(
    campaign_id: int = typer.Argument(..., help="Campaign id"),
    as_json: bool = typer.Option(False, "--json", help="Print progress as one JSON object"),
) -> None:
    """Progress: contacts by state and by outcome."""
    progress = _run(lambda db, settings: store.campaign_progress(db, campaign_id))
    assert isinstance(progress, store.Progress)
    if as_json:
        json.dump(progress.as_dict(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    typer.echo(f"campaign {progress.campaign_id} «{progress.name}» ({progress.scenario}): {progress.status}")
    typer.echo(f"contacts: {progress.total}, attempts: {progress.attempts}")
    for state, count in sorted(progress.by_state.items()):
        typer.echo(f"  {state}: {count}")
    for outcome, count in sorted(progress.by_outcome.items()):
        typer.echo(f"  outcome {outcome}: {count}")
