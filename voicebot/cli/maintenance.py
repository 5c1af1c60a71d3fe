"""`voicebot maintenance`: housekeeping jobs (the service also runs them on its own schedule)."""

from __future__ import annotations

import typer

from voicebot.cli.common import run_with_database, setup

app = typer.Typer(no_args_is_help=True)


@app.command("purge-recordings")
def purge_recordings_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be deleted; delete nothing"),
    days: int = typer.Option(
        None, "--days", help="Retention in days (default VOICEBOT_RECORDING_RETENTION_DAYS)"
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print every recording path"),
) -> None:
    """Delete call recordings older than the retention period (files and their reference on the call)."""
    from voicebot.calls.retention import purge_recordings

    settings = setup(log_format="text")
    retention = settings.recording_retention_days if days is None else days
    if retention < 0:
        raise typer.BadParameter("--days cannot be negative")
    report = run_with_database(lambda db, _settings: purge_recordings(db, retention, dry_run=dry_run))
    if verbose:
        for path in report.paths:
            typer.echo(path)
    typer.echo(report.summary())
