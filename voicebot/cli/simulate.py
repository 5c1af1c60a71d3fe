"""`voicebot simulate SCENARIO`: talk to a scenario over the text channel (stdin → stdout)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import typer

from voicebot.cli.common import run_with_database, setup
from voicebot.dialogue.flow import FlowError
from voicebot.dialogue.library import cached_library
from voicebot.dialogue.sandbox import Sandbox
from voicebot.dialogue.session import open_dialogue
from voicebot.dialogue.text_channel import converse
from voicebot.nlu import create_nlu
from voicebot.values import parse_phone


def _parse_now(raw: str | None, default_tz: str) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise typer.BadParameter(f"--now {raw!r} is not ISO 8601 (2025-11-18T10:30:00+03:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(default_tz))


def _parse_vars(pairs: list[str]) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"--var {pair!r} must look like KEY=VALUE")
        variables[key.strip()] = value
    return variables


async def _stdin_lines() -> AsyncIterator[str]:
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        yield line.rstrip("\n")


def _printer(as_json: bool):
    def emit(event: dict[str, Any]) -> None:
        if as_json:
            sys.stdout.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        elif "bot" in event:
            if event["display"]:  # a hang-up ends the call with nothing said
                sys.stdout.write(f"БОТ: {event['display']}\n")
            if event.get("end"):
                sys.stdout.write(f"[конец: {event.get('outcome')}]\n")
        else:
            sys.stdout.write(json.dumps(event["records"], ensure_ascii=False, default=str, indent=1) + "\n")
        sys.stdout.flush()

    return emit


def simulate(
    scenario: str = typer.Argument(..., help="Scenario folder name, e.g. meter_readings"),
    phone: str = typer.Option(None, "--phone", help="Caller/callee number, E.164"),
    var: list[str] = typer.Option([], "--var", help="Contact variable KEY=VALUE (repeatable)"),
    now: str = typer.Option(None, "--now", help="The call's start time, ISO 8601"),
    direction: str = typer.Option(
        None, "--direction", help="inbound or outbound (default: the scenario's first)"
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per bot turn, then the outcome"),
) -> None:
    """Run a scenario over the text channel. Caller lines come from stdin: words, <silence>,
    <dtmf:DIGITS>, <hangup>; the end of input hangs up. A sandbox: what the call would save is printed,
    nothing is written."""
    settings = setup(log_format="text")
    try:
        normalized_phone = parse_phone(phone) if phone else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    variables = _parse_vars(var)
    start = _parse_now(now, settings.default_timezone)
    if direction not in (None, "inbound", "outbound"):
        raise typer.BadParameter("--direction is inbound or outbound")
    try:
        library = cached_library(str(settings.scenarios_dir))
    except FlowError as exc:
        typer.echo(f"simulate: {exc}", err=True)
        raise typer.Exit(2) from None
    if scenario not in library.flows:
        raise typer.BadParameter(f"unknown scenario {scenario!r}; known: {', '.join(library.names())}")

    async def work(db, settings_) -> None:
        dialogue = await open_dialogue(
            db=db,
            settings=settings_,
            nlu=create_nlu(settings_),
            library=library,
            scenario=scenario,
            phone=normalized_phone,
            variables=variables,
            now=start,
            direction=direction,  # type: ignore[arg-type]
            sandbox=Sandbox(real_residents=True),  # the console user owns the database anyway; writes nothing
        )
        await converse(dialogue, _stdin_lines(), _printer(as_json))

    try:
        run_with_database(work)
    except ValueError as exc:
        typer.echo(f"simulate: {exc}", err=True)
        raise typer.Exit(2) from None
