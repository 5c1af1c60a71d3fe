"""`voicebot telephony ...`: files the Asterisk side needs from the bot (the dialplan's prompts)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from voicebot.cli.common import setup

app = typer.Typer(no_args_is_help=True)


@app.command()
def sounds(
    out: Path | None = typer.Option(
        None, "--out", help="Asterisk sounds folder of the language (default: VOICEBOT_ASTERISK_SOUNDS_DIR)"
    ),
) -> None:
    """Render every prompt the dialplan plays (scenarios/common/sounds.yml) as 8 kHz WAV under OUT/voicebot/."""
    from voicebot.asterisk.sounds import SoundsError, load_catalog, render
    from voicebot.tts import create_engine
    from voicebot.tts.base import TTSError

    settings = setup(log_format="text")
    folder = out or settings.asterisk_sounds_dir
    try:
        catalog = load_catalog(settings.scenarios_dir)
        engine = create_engine(settings, 8000)
        written = asyncio.run(render(catalog, engine, folder))
    except (SoundsError, TTSError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    for path in written:
        typer.echo(str(path))
    typer.echo(f"{len(written)} sound files written with {engine.name}")


def doctor() -> None:
    """Check the telephony side: AMI, Asterisk modules and dialplan, ports, speech model, sounds, paths."""
    import logging

    from voicebot.services.doctor import diagnose

    settings = setup(log_format="text")
    logging.getLogger("voicebot.asterisk").setLevel(logging.WARNING)  # the report is the output
    report = asyncio.run(diagnose(settings))
    for problem in report.problems:
        typer.echo(problem, err=True)
    if report.problems:
        typer.echo(f"{len(report.problems)} problem(s) in {report.checks} checks", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {report.checks} checks passed")
