"""`voicebot serve`: the HTTP API and web UI beside the Asterisk listeners and the dialer; by default as two
OS processes under a supervisor (voicebot.cli.supervisor), `--single-process` in one."""

from __future__ import annotations

import asyncio
import logging
import os

import typer

from voicebot.cli.common import setup
from voicebot.security.defaults import default_secret_problems
from voicebot.settings import Settings

log = logging.getLogger(__name__)


def refuse_shipped_secrets(settings: Settings) -> None:
    """Exit 2 on a shipped default secret, unless VOICEBOT_DEV_MODE=1 (then warn loudly on every start)."""
    problems = default_secret_problems(settings)
    if not problems:
        return
    if settings.dev_mode:
        for problem in problems:
            log.warning("DEVELOPMENT MODE: %s; never run like this where residents call", problem)
        return
    typer.echo("voicebot serve refuses to start with shipped or missing secrets:", err=True)
    for problem in problems:
        typer.echo(f"  - {problem}", err=True)
    typer.echo("Set real secrets (docs/security.md), or VOICEBOT_DEV_MODE=1 for a lab or demo.", err=True)
    raise typer.Exit(2)


def serve(
    host: str = typer.Option(None, help="Listen address (default VOICEBOT_HTTP_HOST)"),
    port: int = typer.Option(None, help="HTTP port (default VOICEBOT_HTTP_PORT)"),
    http: bool = typer.Option(True, "--http/--no-http", help="Serve the HTTP API and web UI"),
    telephony: bool = typer.Option(
        True, "--telephony/--no-telephony", help="Run AudioSocket, FastAGI, the AMI link and the dialer"
    ),
    single_process: bool = typer.Option(
        False,
        "--single-process",
        help="Run both sides in this one process (by default they run as two, so the API cannot delay audio)",
    ),
    supervised_by: int = typer.Option(0, hidden=True, help="PID of the `serve` supervisor (set by it)"),
) -> None:
    """Run the service (see docs/architecture.md); starts the embedded database when DATABASE_URL is unset."""
    if not (http or telephony):
        raise typer.BadParameter("--no-http with --no-telephony leaves nothing to run")
    settings = setup()
    if not supervised_by:  # a supervised child: its supervisor checked (and warned) already
        refuse_shipped_secrets(settings)
    overrides = {"http_host": host, "http_port": port}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    if http and telephony and not single_process:
        from voicebot.cli.supervisor import supervise

        raise typer.Exit(asyncio.run(supervise(settings)))
    from voicebot.runtime import serve as run

    if supervised_by:
        from voicebot.cli.supervisor import die_with_parent, tag_logs

        die_with_parent(supervised_by)
        tag_logs("voice" if telephony else "http")
        if not telephony and settings.http_nice > 0:
            os.nice(settings.http_nice)  # before any thread starts: they all inherit it
    asyncio.run(run(settings, http=http, telephony=telephony))
