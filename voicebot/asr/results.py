"""Turn Vosk's JSON (library or vosk-server, same format) into our types."""

from __future__ import annotations

import json
from typing import Any

from voicebot.asr.types import ASRError, Transcript, Word


def parse_json(raw: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise ASRError(f"engine sent something that is not JSON: {raw[:200]!r}") from exc
    if not isinstance(data, dict):
        raise ASRError(f"engine sent JSON that is not an object: {raw[:200]!r}")
    return data


def parse_result(data: dict[str, Any], grammar: bool = False) -> Transcript:
    """A Vosk result: {"text", "result": [words]} or, with alternatives, {"alternatives": [...]}."""
    alternatives = data.get("alternatives")
    if isinstance(alternatives, list) and alternatives:
        best = alternatives[0]
        words = _words(best.get("result", []))
        return Transcript(
            text=str(best.get("text", "")).strip(),
            # an alternative's "confidence" is a lattice score, not a probability; use word confs if any
            confidence=_mean_confidence(words, default=1.0 if words else 0.0),
            words=words,
            alternatives=tuple(str(a.get("text", "")).strip() for a in alternatives[1:]),
            grammar=grammar,
        )
    words = _words(data.get("result", []))
    text = str(data.get("text", "")).strip()
    return Transcript(
        text=text,
        confidence=_mean_confidence(words, default=1.0 if text else 0.0),
        words=words,
        grammar=grammar,
    )


def _words(items: Any) -> tuple[Word, ...]:
    if not isinstance(items, list):
        return ()
    words = []
    for item in items:
        if not isinstance(item, dict) or "word" not in item:
            continue
        words.append(
            Word(
                text=str(item["word"]),
                start=float(item.get("start", 0.0)),
                end=float(item.get("end", 0.0)),
                confidence=float(item.get("conf", 1.0)),
            )
        )
    return tuple(words)


def _mean_confidence(words: tuple[Word, ...], default: float) -> float:
    if not words:
        return default
    return sum(w.confidence for w in words) / len(words)
