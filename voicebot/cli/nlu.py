"""`voicebot nlu`: parse text, evaluate on the test set, export a Rasa project."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from voicebot.settings import PROJECT_ROOT, get_settings

app = typer.Typer(help="Russian NLU: parse, evaluate, export to Rasa", no_args_is_help=True)

DEFAULT_TESTSETS = [
    PROJECT_ROOT / "tests" / "nlu" / "testset.yml",
    PROJECT_ROOT / "tests" / "nlu" / "testset_colloquial.yml",
]
PASS_BAR = 0.97


def _now(value: str | None) -> datetime:
    zone = ZoneInfo(get_settings().default_timezone)
    if value is None:
        return datetime.now(zone)
    try:
        now = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"--now must be ISO 8601, got {value!r}") from exc
    return now if now.tzinfo else now.replace(tzinfo=zone)


def _lines(text: str | None, file: Path | None) -> Iterable[str]:
    if text is not None:
        yield text
    elif file is not None:
        with file.open(encoding="utf-8") as fh:
            for line in fh:
                yield line.rstrip("\n")
    else:
        for line in sys.stdin:
            yield line.rstrip("\n")


def _embedded():  # noqa: ANN202 - EmbeddedNLU, imported lazily to keep `voicebot --help` fast
    from voicebot.nlu.embedded import EmbeddedNLU

    settings = get_settings()
    return EmbeddedNLU(
        settings.scenarios_dir, cache_dir=settings.nlu_cache_path, threshold=settings.nlu_threshold
    )


@app.command()
def parse(
    text: str | None = typer.Argument(None, help="Text to parse; without it, --file or stdin lines."),
    file: Path | None = typer.Option(
        None, "--file", exists=True, dir_okay=False, help="One utterance a line."
    ),
    now: str | None = typer.Option(None, "--now", help="ISO 8601 time of the call (default: now)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Parse utterances and print intent and entities."""
    moment = _now(now)
    nlu = _embedded()
    for line in _lines(text, file):
        result = nlu.parse_sync(line, now=moment)
        if as_json:
            print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
            continue
        entities = ", ".join(
            f"{e['entity']}{'/' + e['role'] if 'role' in e else ''}={json.dumps(e['value'], ensure_ascii=False)}"
            for e in result.to_json()["entities"]
        )
        print(f"{result.intent or '-'} ({result.confidence:.2f}) {entities} | {line}", flush=True)


@app.command()
def evaluate(
    files: list[Path] = typer.Option(
        DEFAULT_TESTSETS, "--file", exists=True, dir_okay=False, help="Test set YAML (repeatable)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Score the embedded NLU on test sets; exit 1 below 97 % intent accuracy or entity exact match."""
    from voicebot.nlu.evaluation import evaluate as run_evaluation

    report = run_evaluation(_embedded(), *files)
    data = report.to_json()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _print_report(data)
    if report.intent_accuracy < PASS_BAR or report.entity_accuracy < PASS_BAR:
        print(f"\nFAILED: below the bar of {PASS_BAR:.2f}", file=sys.stderr)
        raise typer.Exit(1)


def _print_report(data: dict) -> None:
    print(f"cases: {data['cases']}")
    print(f"intent accuracy:    {data['intent_accuracy']:.3f}")
    print(f"entity exact match: {data['entity_exact_match']:.3f}")
    print(f"\n{'intent':<20}{'support':>8}{'recall':>8}{'precision':>10}")
    for name, row in data["per_intent"].items():
        print(f"{name:<20}{row['support']:>8}{row['recall']:>8.2f}{row['precision']:>10.2f}")
    print(f"\n{'entity':<14}{'support':>8}{'exact':>7}{'wrong':>7}{'missed':>8}{'spurious':>10}{'rate':>7}")
    for name, row in data["per_entity"].items():
        print(
            f"{name:<14}{row['support']:>8}{row['exact']:>7}{row['wrong']:>7}{row['missed']:>8}"
            f"{row['spurious']:>10}{row['exact_rate']:>7.2f}"
        )
    if data["confusions"]:
        print("\nintent confusions (expected -> got):")
        for row in data["confusions"]:
            print(f"  {row['count']:>3}  {row['expected']} -> {row['got']}")
    if data["intent_errors"]:
        print("\nmisclassified:")
        for err in data["intent_errors"]:
            print(f"  {err['expected']} -> {err['got']}: {err['text']}")
    if data["entity_errors"]:
        print("\nentity mismatches:")
        for err in data["entity_errors"]:
            got, expected = (
                json.dumps(err["got"], ensure_ascii=False),
                json.dumps(err["expected"], ensure_ascii=False),
            )
            print(f"  {err['text']}\n    expected {expected}\n    got      {got}")


@app.command()
def train() -> None:
    """Train the intent classifier now (or find it cached) so no call or command waits for it."""
    nlu = _embedded()
    nlu.warm_up()
    print(f"intent classifier ready in {get_settings().nlu_cache_path}")


@app.command("export-rasa")
def export_rasa(directory: Path = typer.Argument(..., help="Folder for the Rasa project.")) -> None:
    """Write the scenarios' examples as a Rasa 3 project (data/nlu.yml, domain.yml, config.yml)."""
    from voicebot.nlu.rasa import export_rasa as run_export

    for path in run_export(directory, get_settings().scenarios_dir):
        print(path)


if __name__ == "__main__":
    app()
