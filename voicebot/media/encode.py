"""Recording encoder: WAV to OGG/Opus by ffmpeg, one at a time, at low CPU priority.

Encoding runs after a call ends, but on the same cores as the calls still talking; with a burst of calls
ending together, unbounded parallel encoders would take the CPU the voice path needs. So there is one
encoder at a time per process (`ENCODERS`), started with `nice` 10, and ffmpeg streams the file instead
of the whole recording being loaded into Python memory.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

ENCODERS = 1
NICENESS = 10

_slots: dict[int, asyncio.Semaphore] = {}


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    key = id(loop)
    if key not in _slots:
        _slots.clear()  # a new event loop (tests, CLI runs): the old semaphores belong to dead loops
        _slots[key] = asyncio.Semaphore(ENCODERS)
    return _slots[key]


def _lower_priority() -> None:
    os.nice(NICENESS)


class EncodeError(RuntimeError):
    pass


async def encode_opus(source: Path, target: Path, bitrate: str = "32k") -> None:
    async with _slot():
        proc = await asyncio.create_subprocess_exec(
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
            "-c:a", "libopus", "-b:a", bitrate, str(target),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, preexec_fn=_lower_priority,
        )  # fmt: skip
        _, err = await proc.communicate()
    if proc.returncode != 0:
        await asyncio.to_thread(target.unlink, missing_ok=True)
        raise EncodeError(f"ffmpeg exit {proc.returncode}: {err.decode(errors='replace').strip()[-300:]}")
