"""The single `voicebot` command. Sub-commands live in sibling modules, one concern each.

Sub-commands are imported only when they run: `voicebot --help` must not load the web app, the
database layer or the NLU (the help text of each is listed here instead).
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup


@dataclass(frozen=True)
class Lazy:
    """Where a sub-command lives: `module:attribute`, a `typer.Typer` (a group) or a function."""

    target: str
    help: str
    optional: bool = False  # a module a later part of the product adds; absent → not listed


COMMANDS: dict[str, Lazy] = {
    "db": Lazy("voicebot.cli.db:app", "Database schema migrations"),
    "import": Lazy("voicebot.cli.imports:app", "Import the company's registry from CSV files"),
    "models": Lazy("voicebot.cli.models:app", "Speech models: list and download"),
    "serve": Lazy("voicebot.cli.serve:serve", "Run the HTTP API, the web UI and the telephony servers"),
    "simulate": Lazy("voicebot.cli.simulate:simulate", "Talk to a scenario in the terminal (text channel)"),
    "doctor": Lazy(
        "voicebot.cli.telephony:doctor", "Check the Asterisk side, models and prompts; one line a problem"
    ),
    "demo-data": Lazy("voicebot.cli.demo:demo_data", "Load a small demo housing company to call into"),
    "settings": Lazy("voicebot.cli.demo:show_settings", "Print every setting: variable, default, meaning"),
}

# Sub-command modules added by later parts of the product; each exposes `app` (a typer.Typer) and is
# listed only when it exists.
OPTIONAL_GROUPS = {
    "voicebot.cli.nlu": ("nlu", "Russian NLU: parse, evaluate, export a Rasa project"),
    "voicebot.cli.scenarios": ("scenarios", "Scenario flows: check"),
    "voicebot.cli.keys": ("keys", "API keys: create, list, revoke"),
    "voicebot.cli.campaigns": ("campaign", "Outbound campaigns from CSV: create, start, pause, status"),
    "voicebot.cli.bench": ("bench", "Benchmarks that print numbers"),
    "voicebot.cli.maintenance": ("maintenance", "Housekeeping: recording retention"),
    "voicebot.cli.telephony": ("telephony", "Asterisk side: render the dialplan's prompts"),
}
COMMANDS.update(
    {
        name: Lazy(f"{module}:app", help_text, optional=True)
        for module, (name, help_text) in OPTIONAL_GROUPS.items()
    }
)


def _available(name: str) -> bool:
    spec = COMMANDS[name]
    if not spec.optional:
        return True
    return importlib.util.find_spec(spec.target.split(":")[0]) is not None


def load_command(name: str) -> Any:
    """Import one sub-command and turn it into a click command."""
    module_name, attr = COMMANDS[name].target.split(":")
    obj = getattr(importlib.import_module(module_name), attr)
    if isinstance(obj, typer.Typer):
        group = typer.main.get_group(obj)
        group.help = group.help or COMMANDS[name].help
        return group
    single = typer.Typer(add_completion=False)
    single.command(name)(obj)
    return typer.main.get_command(single)


class LazyGroup(TyperGroup):
    """Lists the sub-commands from COMMANDS and imports one only when it is run or asked for help."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(n for n in COMMANDS if _available(n))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        return load_command(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, COMMANDS[name].help) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    cls=LazyGroup,
    help="voicebot: virtual telephone operator for housing companies",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # rich help would build (and import) every sub-command to list them
)


@app.callback()
def _root() -> None:
    """voicebot: virtual telephone operator for housing companies"""


def main() -> None:
    app()
