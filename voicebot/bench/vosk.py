"""`voicebot bench vosk`: raw Vosk throughput on this machine, the physical limit the voice channel meets.

Every decoding thread gets a recogniser warmed on the caller phrase once, then decodes that phrase over and
over (in 0.4 s chunks, as the voice channel feeds it, with a final result and a reset after each), for the
given time. Prints seconds of audio decoded per second of wall time, the CPU it took, and what that allows:
with callers speaking `--speech-share` of a call, at most `throughput / share` simultaneous calls could be
decoded if nothing else ran. `bench calls` results are meant to be read next to this number.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import psutil

from voicebot.settings import Settings

CHUNK_BYTES = 16000 * 2 * 400 // 1000


def _decode_for(
    model: Any,
    speech: bytes,
    seconds: float,
    start: threading.Barrier,
    totals: list[tuple[float, float, float]],
) -> None:
    """Appends (audio seconds, thread CPU seconds, wall seconds) of the timed part."""
    import vosk

    rec = vosk.KaldiRecognizer(model, 16000)
    rec.SetWords(True)
    rec.AcceptWaveform(speech)  # warm: the voice channel's pool hands out recognisers like this one
    rec.FinalResult()
    rec.Reset()
    start.wait()  # every thread warm before the clock starts
    audio, cpu0, wall0 = 0.0, time.thread_time(), time.monotonic()
    while time.monotonic() < wall0 + seconds:
        for i in range(0, len(speech), CHUNK_BYTES):
            rec.AcceptWaveform(speech[i : i + CHUNK_BYTES])
        rec.FinalResult()
        rec.Reset()
        audio += len(speech) / 32000
    totals.append((audio, time.thread_time() - cpu0, time.monotonic() - wall0))


async def bench_vosk(
    settings: Settings, seconds: float, threads: int, share: float, say: Any
) -> dict[str, Any]:
    import vosk

    from voicebot.asr import decoder_tuning
    from voicebot.asr.decoder import tuned_model_dir
    from voicebot.bench.calls import caller_speech, model_path
    from voicebot.bench.calls_peer import trim

    path, _grammar = model_path(settings, say)
    tuning = decoder_tuning(settings)
    if tuning.active:
        path = tuned_model_dir(path, tuning, settings.cache_dir)
    vosk.SetLogLevel(-1)
    model = await asyncio.to_thread(vosk.Model, str(path))
    speech = trim((await caller_speech(settings)).read_bytes())
    totals: list[tuple[float, float, float]] = []
    barrier = threading.Barrier(threads)
    load_before = [round(x, 2) for x in os.getloadavg()]
    workers = [
        threading.Thread(target=_decode_for, args=(model, speech, seconds, barrier, totals))
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    await asyncio.to_thread(lambda: [w.join() for w in workers])
    audio = sum(t[0] for t in totals)
    cpu = sum(t[1] for t in totals)
    wall = max(t[2] for t in totals)
    throughput = audio / wall
    return {
        "threads": threads,
        "decoder": tuning.describe(),
        "model": path.name,
        "audio_seconds_per_second": round(throughput, 2),
        "cpu_cores": round(cpu / wall, 2),
        "rtf_per_core": round(cpu / audio, 3) if audio else None,
        "speech_share": share,
        "calls_limit_at_share": int(throughput / share),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine_cores": psutil.cpu_count(),
    }
