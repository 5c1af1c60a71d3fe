"""`voicebot keys`: create (the key is printed once), list and revoke API keys."""

from __future__ import annotations

import typer

from voicebot.cli.common import run_with_database, setup
from voicebot.db.models import ROLES
from voicebot.services.keys import create_key, list_keys, revoke_key

app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create(
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}"),
    name: str = typer.Option("", "--name", help="Who or what uses the key"),
) -> None:
    """Create a key and print it; it is stored hashed and cannot be shown again."""
    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    setup(log_format="text")
    new = run_with_database(lambda db, _settings: create_key(db, role, name))
    typer.echo(f"id={new.id} role={new.role} name={new.name}")
    typer.echo(new.key)
    typer.echo("Store it now: it is not shown again.", err=True)


@app.command("list")
def list_() -> None:
    """Every key: id, prefix, role, name, last use, revoked."""
    setup(log_format="text")
    keys = run_with_database(lambda db, _settings: list_keys(db))
    for key in keys:
        revoked = f" revoked={key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else ""
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        typer.echo(f"{key.id}\tvb_{key.prefix}_…\t{key.role}\t{key.name}\tlast used {used}{revoked}")


@app.command("revoke")
def revoke(key_id: int = typer.Argument(..., help="The key's id (see `keys list`)")) -> None:
    """Revoke a key at once; requests with it get 401."""
    setup(log_format="text")
    if not run_with_database(lambda db, _settings: revoke_key(db, key_id)):
        typer.echo(f"no active key with id {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"key {key_id} revoked")
