"""`voicebot models ...`: list and download the speech models named in models/manifest.yml."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from voicebot import models_download as md
from voicebot.cli.common import setup

app = typer.Typer(no_args_is_help=True)

ManifestOption = typer.Option(None, "--manifest", help="Manifest file (default: models/manifest.yml)")
DirOption = typer.Option(None, "--models-dir", help="Where models go (default: VOICEBOT_MODELS_DIR)")


@app.command("list")
def list_models(manifest: Path | None = ManifestOption, models_dir: Path | None = DirOption) -> None:
    """Show every model in the manifest, its licence and whether it is installed."""
    settings = setup(log_format="text")
    folder = models_dir or settings.models_dir
    entries = _load(manifest)
    typer.echo(f"{'name':28} {'kind':4} {'lang':4} {'size':8} {'licence':16} {'default':7} installed")
    for e in entries:
        installed = "yes" if md.is_installed(e, folder) else "no"
        default = "yes" if e.default else ""
        typer.echo(f"{e.name:28} {e.kind:4} {e.lang:4} {e.size:8} {e.licence:16} {default:7} {installed}")


@app.command()
def download(
    lang: str = typer.Option("ru", "--lang", help="Language of the default models to fetch"),
    name: str | None = typer.Option(None, "--name", help="Fetch this model only (see `models list`)"),
    kind: str | None = typer.Option(None, "--kind", help="Fetch every asr or tts model of the language"),
    force: bool = typer.Option(False, "--force", help="Download again even if installed and verified"),
    manifest: Path | None = ManifestOption,
    models_dir: Path | None = DirOption,
) -> None:
    """Download, verify and unpack models (resumes an interrupted download; skips installed ones)."""
    settings = setup(log_format="text")
    folder = models_dir or settings.models_dir
    entries = _load(manifest)
    try:
        chosen = md.select(entries, name=name, lang=lang, kind=kind)
    except md.ManifestError as exc:
        _fail(str(exc))
    if not chosen:
        _fail(f"no default model for language {lang!r} in the manifest")
    for entry in chosen:
        if entry.licence.upper().startswith("CC-BY-NC"):
            typer.secho(
                f"note: {entry.name} is licensed {entry.licence} (non-commercial)", err=True, fg="yellow"
            )
        try:
            path = md.download(entry, folder, force=force)
        except md.DownloadError as exc:
            _fail(str(exc))
        typer.echo(f"{entry.name}: {path}")


def _load(manifest: Path | None) -> list[md.ModelEntry]:
    try:
        return md.load_manifest(manifest or md.DEFAULT_MANIFEST)
    except md.ManifestError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg="red")
    raise typer.Exit(1)
