"""`voicebot serve`: the HTTP API (and, as they land, the Asterisk listeners) in one process."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

import typer
import uvicorn

from voicebot.api.app import create_app
from voicebot.cli.common import setup


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after a graceful shutdown, so the exit status says "killed".
    A service stopped on request has done its job: exit 0."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(
    host: str = typer.Option(None, help="Listen address (default VOICEBOT_HTTP_HOST)"),
    port: int = typer.Option(None, help="HTTP port (default VOICEBOT_HTTP_PORT)"),
) -> None:
    """Run the service: HTTP API with /healthz; starts the embedded database when DATABASE_URL is unset."""
    settings = setup()
    config = uvicorn.Config(
        create_app(settings),
        host=host or settings.http_host,
        port=port or settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    _Server(config).run()
