"""`voicebot demo-data` and `voicebot settings`: small commands that need nothing heavy to be listed."""

from __future__ import annotations

import typer


def demo_data() -> None:
    """Load a small demo housing company (accounts, meters, tickets) to call into."""
    from voicebot.cli.common import run_with_database, setup
    from voicebot.demo import load_demo_data

    setup(log_format="text")
    reports = run_with_database(lambda db, settings: load_demo_data(db, settings.default_timezone))
    for report in reports:
        typer.echo(report.summary())


def show_settings() -> None:
    """Print the table of every setting (environment variable, default, meaning)."""
    from voicebot.settings import settings_table

    typer.echo(settings_table())
