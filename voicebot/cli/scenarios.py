"""`voicebot scenarios ...`: list and check the scenario flows."""

from __future__ import annotations

from pathlib import Path

import typer

from voicebot.dialogue.flow import FlowError, load_flow
from voicebot.dialogue.library import FlowLibrary
from voicebot.settings import get_settings

app = typer.Typer(no_args_is_help=True)


def _folder(path: Path | None) -> Path:
    return path or get_settings().scenarios_dir


@app.command()
def check(
    path: Path = typer.Option(None, "--dir", help="Scenarios folder (default VOICEBOT_SCENARIOS_DIR)"),
) -> None:
    """Validate every flow: steps, actions, results, texts and template variables. Exit 1 on any problem."""
    folder = _folder(path)
    flows = {}
    problems: list[str] = []
    for sub in sorted(p for p in folder.iterdir() if (p / "flow.yml").is_file()):
        try:
            flows[sub.name] = load_flow(sub)
        except FlowError as exc:
            problems.append(str(exc))
    problems.extend(FlowLibrary(flows).check())
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    for name, flow in flows.items():
        typer.echo(
            f"{name}: {len(flow.steps)} steps, {len(flow.prompts())} prompts, outcomes {', '.join(flow.outcomes)}"
        )
    typer.echo(f"{len(flows)} scenarios checked, {len(problems)} problems")
    raise typer.Exit(1 if problems else 0)


@app.command("list")
def list_scenarios(path: Path = typer.Option(None, "--dir")) -> None:
    """Scenario names, directions and titles."""
    for name, flow in FlowLibrary.load(_folder(path)).flows.items():
        typer.echo(f"{name:16} {'/'.join(flow.directions):17} {flow.title}")
