"""Audio helpers for the ASR tests."""

from __future__ import annotations


def chunks(pcm: bytes, ms: int = 100, sample_rate: int = 16000) -> list[bytes]:
    size = sample_rate * 2 * ms // 1000
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


def silence(seconds: float, sample_rate: int = 16000) -> bytes:
    return bytes(int(seconds * sample_rate) * 2)


def overlap(a: list[str], b: list[str]) -> float:
    """Share of words two transcripts have in common (Jaccard on word sets)."""
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0
