"""`voicebot serve`: the HTTP API and web UI beside the Asterisk listeners and the dialer, in one process."""

from __future__ import annotations

import asyncio

import typer

from voicebot.cli.common import setup


def serve(
    host: str = typer.Option(None, help="Listen address (default VOICEBOT_HTTP_HOST)"),
    port: int = typer.Option(None, help="HTTP port (default VOICEBOT_HTTP_PORT)"),
    http: bool = typer.Option(True, "--http/--no-http", help="Serve the HTTP API and web UI"),
    telephony: bool = typer.Option(
        True, "--telephony/--no-telephony", help="Run AudioSocket, FastAGI, the AMI link and the dialer"
    ),
) -> None:
    """Run the service (see docs/architecture.md); starts the embedded database when DATABASE_URL is unset."""
    from voicebot.runtime import serve as run

    if not (http or telephony):
        raise typer.BadParameter("--no-http with --no-telephony leaves nothing to run")
    settings = setup()
    overrides = {"http_host": host, "http_port": port}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    asyncio.run(run(settings, http=http, telephony=telephony))
