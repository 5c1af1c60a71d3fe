"""Free space for recordings: checked before each call records, sampled for `/metrics` and `/healthz`.

Below `VOICEBOT_RECORDINGS_MIN_FREE_MB` new calls are not recorded at all (and say so in the metric
`voicebot_recordings_skipped_total{reason="disk_full"}`): a full disk must cost recordings, never calls.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from voicebot.health import Probe
from voicebot.metrics import RECORDINGS_FREE, RECORDINGS_SKIPPED


def free_bytes(root: Path) -> int | None:
    """Free bytes on the file system that holds (or will hold) `root`; None if none of it exists."""
    for candidate in (root, *root.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None


def may_record(root: Path, min_free: int) -> bool:
    free = free_bytes(root)
    if free is not None:
        RECORDINGS_FREE.set(free)
    if free is not None and free < min_free:
        RECORDINGS_SKIPPED.labels("disk_full").inc()
        return False
    return True


def sample_free(root: Path) -> None:
    free = free_bytes(root)
    if free is not None:
        RECORDINGS_FREE.set(free)


def space_probe(root: Path, min_free: int):  # noqa: ANN201 (a probe)
    async def probe() -> Probe:
        free = free_bytes(root)
        if free is None:
            return Probe(False, {"error": f"{root} is not reachable"})
        return Probe(
            free >= min_free, {"free_mb": round(free / 1e6, 1), "min_free_mb": round(min_free / 1e6, 1)}
        )

    return probe
