"""The single `voicebot` command. Sub-commands live in sibling modules, one concern each."""

from __future__ import annotations

import typer

from voicebot.cli import db as db_cli
from voicebot.cli import imports as imports_cli
from voicebot.cli import models as models_cli
from voicebot.cli.common import run_with_database, setup
from voicebot.cli.serve import serve
from voicebot.cli.simulate import simulate
from voicebot.cli.telephony import doctor

app = typer.Typer(
    help="voicebot: virtual telephone operator for housing companies",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cli.app, name="db", help="Database schema migrations")
app.add_typer(imports_cli.app, name="import", help="Import the company's registry from CSV files")
app.add_typer(models_cli.app, name="models", help="Speech models: list and download")
app.command()(serve)
app.command()(simulate)
app.command()(doctor)


@app.command("demo-data")
def demo_data() -> None:
    """Load a small demo housing company (accounts, meters, tickets) to call into."""
    from voicebot.demo import load_demo_data

    setup(log_format="text")
    reports = run_with_database(lambda db, settings: load_demo_data(db, settings.default_timezone))
    for report in reports:
        typer.echo(report.summary())


@app.command("settings")
def show_settings() -> None:
    """Print the table of every setting (environment variable, default, meaning)."""
    from voicebot.settings import settings_table

    typer.echo(settings_table())


# Sub-command modules added by later parts of the product; each exposes `app` (a typer.Typer).
OPTIONAL_GROUPS = {
    "voicebot.cli.nlu": ("nlu", "Russian NLU: parse, evaluate, export a Rasa project"),
    "voicebot.cli.scenarios": ("scenarios", "Scenario flows: check"),
    "voicebot.cli.keys": ("keys", "API keys: create, list, revoke"),
    "voicebot.cli.campaigns": ("campaign", "Outbound campaigns from CSV: create, start, pause, status"),
    "voicebot.cli.bench": ("bench", "Benchmarks that print numbers"),
    "voicebot.cli.maintenance": ("maintenance", "Housekeeping: recording retention"),
    "voicebot.cli.telephony": ("telephony", "Asterisk side: render the dialplan's prompts"),
}


def _mount_optional() -> None:
    import importlib

    for module_name, (name, help_text) in OPTIONAL_GROUPS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        app.add_typer(module.app, name=name, help=help_text)


_mount_optional()


def main() -> None:
    app()
