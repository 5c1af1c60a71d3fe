"""`voicebot db ...`: schema migrations."""

from __future__ import annotations

import typer

from voicebot.cli.common import setup
from voicebot.db import migrate
from voicebot.db.server import resolve_database_url

app = typer.Typer(no_args_is_help=True)


def _with_url(action) -> None:
    settings = setup(log_format="text")
    url, embedded = resolve_database_url(settings)
    try:
        action(url)
    finally:
        if embedded is not None:
            embedded.stop()


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    _with_url(lambda url: migrate.upgrade(url, revision))
    typer.echo(f"database upgraded to {revision}")


@app.command()
def downgrade(
    revision: str = typer.Argument("-1", help="Target revision; 'base' removes every table"),
) -> None:
    """Revert migrations down to REVISION (default: one step)."""
    _with_url(lambda url: migrate.downgrade(url, revision))
    typer.echo(f"database downgraded to {revision}")


@app.command()
def current() -> None:
    """Show the revision the database is at."""
    _with_url(migrate.current)
