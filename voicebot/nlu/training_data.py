"""Loads the intent examples: Rasa NLU YAML ("3.1") files, one per scenario folder, merged.

Entity annotations («[двести](number)», «[пятнадцатого]{"entity": "date"}») are reduced to their text:
the embedded extractors are rule-based, the annotations are kept for the Rasa export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_ANNOTATION_RE = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


class TrainingDataError(ValueError):
    """A scenario's nlu.yml is not valid Rasa NLU YAML."""


@dataclass(frozen=True)
class Example:
    text: str  # plain text, annotations removed
    intent: str
    annotated: str  # as written in the file
    source: str


def strip_annotations(text: str) -> str:
    return _ANNOTATION_RE.sub(r"\1", text)


def nlu_files(scenarios_dir: Path) -> list[Path]:
    return sorted(scenarios_dir.glob("*/nlu.yml"))


def load_file(path: Path) -> list[Example]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise TrainingDataError(f"{path}: not valid YAML: {exc}") from exc
    items = data.get("nlu") or []
    if not isinstance(items, list):
        raise TrainingDataError(f"{path}: 'nlu' must be a list")
    examples: list[Example] = []
    for item in items:
        if not isinstance(item, dict) or "intent" not in item:
            continue  # synonyms, regexes and lookups are for Rasa only
        block = item.get("examples") or ""
        if not isinstance(block, str):
            raise TrainingDataError(f"{path}: examples of intent {item['intent']!r} must be a '|' block")
        for line in block.splitlines():
            line = line.strip()
            if not line.startswith("- "):
                continue
            annotated = line[2:].strip()
            if annotated:
                examples.append(
                    Example(strip_annotations(annotated), str(item["intent"]), annotated, str(path))
                )
    return examples


def load_examples(scenarios_dir: Path) -> list[Example]:
    files = nlu_files(scenarios_dir)
    if not files:
        raise TrainingDataError(f"no scenarios/*/nlu.yml under {scenarios_dir}")
    examples: list[Example] = []
    for path in files:
        examples.extend(load_file(path))
    return examples
