"""Prometheus metrics of the whole process: one place that defines every metric object.

Modules import the object they feed (`from voicebot.metrics import FRAME_LATENESS`) and update it; they
never create metrics of their own, so names, labels and buckets stay consistent and documented here.
Values that are cheaper to read than to push (pool use, free disk space, journal backlog) are sampled
by callables registered with `on_scrape`, run right before each scrape.

Who may read `/metrics` is decided in `voicebot.api.metrics_route` (a bearer token, or loopback only).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

# Audio frames are due every 20 ms; a frame later than ~40 ms is audible, past 200 ms it is a gap.
_LATENESS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.2, 0.5, 1.0, 2.0)
_SPEECH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# --- calls -------------------------------------------------------------------------------------------
CALLS_IN_PROGRESS = Gauge(
    "voicebot_calls_in_progress",
    "Calls running now, by channel (voice, websocket, text) and scenario.",
    ["channel", "scenario"],
    registry=REGISTRY,
)
CALLS_ENDED = Counter(
    "voicebot_calls_ended_total",
    "Calls ended, by channel and outcome.",
    ["channel", "outcome"],
    registry=REGISTRY,
)
ADMISSION_REFUSALS = Counter(
    "voicebot_admission_refusals_total",
    "Calls answered with the overflow message instead of a dialogue, by reason (full, no_asr, database).",
    ["reason"],
    registry=REGISTRY,
)
CALLS_REAPED = Counter(
    "voicebot_calls_reaped_total",
    "Calls found 'active' with nobody running them (crash, outage) and closed as interrupted.",
    registry=REGISTRY,
)

# --- media and speech ----------------------------------------------------------------------------------
FRAME_LATENESS = Histogram(
    "voicebot_audio_frame_lateness_seconds",
    "How late each outgoing 20 ms audio frame left against its deadline.",
    buckets=_LATENESS_BUCKETS,
    registry=REGISTRY,
)
AUDIO_GAPS = Counter(
    "voicebot_audio_gaps_total",
    "Outgoing audio frames sent more than 200 ms late: the caller heard a gap.",
    registry=REGISTRY,
)
ASR_QUEUE_WAIT = Histogram(
    "voicebot_asr_queue_wait_seconds",
    "Time an audio chunk waited for a speech recognition thread.",
    buckets=_SPEECH_BUCKETS,
    registry=REGISTRY,
)
ASR_DECODE = Histogram(
    "voicebot_asr_decode_seconds",
    "Time the recogniser spent decoding one audio chunk.",
    buckets=_SPEECH_BUCKETS,
    registry=REGISTRY,
)

# --- storage -----------------------------------------------------------------------------------------
DB_POOL = Gauge(
    "voicebot_db_pool_connections",
    "Database connections per pool (voice, api) and state (in_use, idle, size).",
    ["pool", "state"],
    registry=REGISTRY,
)
JOURNAL_BACKLOG = Gauge(
    "voicebot_journal_backlog",
    "Call records kept in the local journal and not yet written to PostgreSQL.",
    registry=REGISTRY,
)
JOURNAL_OLDEST_AGE = Gauge(
    "voicebot_journal_oldest_age_seconds",
    "Age of the oldest call record waiting in the local journal (0: none waiting).",
    registry=REGISTRY,
)
JOURNAL_REPLAYED = Counter(
    "voicebot_journal_replayed_total", "Journal entries written to PostgreSQL.", registry=REGISTRY
)
JOURNAL_FAILED = Counter(
    "voicebot_journal_failed_total",
    "Journal entries PostgreSQL refused for good (kept in the journal as 'failed' for inspection).",
    registry=REGISTRY,
)
RECORDINGS_FREE = Gauge(
    "voicebot_recordings_free_bytes", "Free space on the recordings file system.", registry=REGISTRY
)
RECORDINGS_SKIPPED = Counter(
    "voicebot_recordings_skipped_total",
    "Calls (or the rest of a call) not recorded, by reason (disk_full, error).",
    ["reason"],
    registry=REGISTRY,
)

# --- dependencies and obligations -------------------------------------------------------------------
DEPENDENCY_UP = Gauge(
    "voicebot_dependency_up",
    "1 when a dependency answers (database, ami, fastagi, audiosocket, journal), else 0.",
    ["dependency"],
    registry=REGISTRY,
)
OPEN_OBLIGATIONS = Gauge(
    "voicebot_open_obligations",
    "Open legal obligations: callbacks not placed, voice messages not reviewed.",
    ["kind"],
    registry=REGISTRY,
)
OBLIGATION_OLDEST_AGE = Gauge(
    "voicebot_open_obligation_oldest_age_seconds",
    "Age of the oldest open obligation of each kind (0: none open).",
    ["kind"],
    registry=REGISTRY,
)
HTTP_REJECTED = Counter(
    "voicebot_http_rejected_total",
    "HTTP requests refused at once because the API was at its concurrency limit, by route class.",
    ["route_class"],
    registry=REGISTRY,
)

_SAMPLERS: list[Callable[[], None]] = []


def on_scrape(sampler: Callable[[], None]) -> Callable[[], None]:
    """Run `sampler` before every scrape (cheap, synchronous reads only); returns a function removing it."""
    _SAMPLERS.append(sampler)

    def remove() -> None:
        if sampler in _SAMPLERS:
            _SAMPLERS.remove(sampler)

    return remove


def observe_frame(lateness: float) -> None:
    """One outgoing audio frame left `lateness` seconds after its deadline (negative: early)."""
    late = max(0.0, lateness)
    FRAME_LATENESS.observe(late)
    if late > 0.2:
        AUDIO_GAPS.inc()


def sample_pool(name: str, pool: object) -> None:
    """Connections of a SQLAlchemy pool: in use, idle, configured size."""
    DB_POOL.labels(name, "in_use").set(getattr(pool, "checkedout", lambda: 0)())
    DB_POOL.labels(name, "idle").set(getattr(pool, "checkedin", lambda: 0)())
    DB_POOL.labels(name, "size").set(getattr(pool, "size", lambda: 0)())


def _sample() -> None:
    for sampler in list(_SAMPLERS):
        try:
            sampler()
        except Exception:  # one broken sampler must not hide every other metric
            log.exception("metrics sampler failed", extra={"sampler": getattr(sampler, "__name__", "?")})


def sample_links(ami: bool, fastagi: bool) -> None:
    """The telephony links' state: AMI logged in, the FastAGI server listening."""
    DEPENDENCY_UP.labels("ami").set(1 if ami else 0)
    DEPENDENCY_UP.labels("fastagi").set(1 if fastagi else 0)


def render() -> bytes:
    """The Prometheus text exposition of every metric, samplers run first."""
    _sample()
    return generate_latest(REGISTRY)


class _Families:
    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


def render_merged(own: str, others: dict[str, str]) -> bytes:
    """This process's metrics and other processes' (their Prometheus text) as one exposition, every sample
    labelled `process` with whose it is: `/metrics` of the HTTP process when `serve` runs the voice path in
    a process of its own (voicebot.services.voicelink)."""
    _sample()
    merged: dict[str, Metric] = {}

    def add(process: str, families: Iterable[Metric]) -> None:
        for family in families:
            # `_created` timestamps are left out: in the text format they come apart from their counter
            # and would be announced twice
            samples = [s for s in family.samples if not s.name.endswith("_created")]
            if not samples:
                continue
            into = merged.get(family.name)
            if into is None:
                into = merged[family.name] = Metric(family.name, family.documentation, family.type)
            into.samples += [s._replace(labels={**s.labels, "process": process}) for s in samples]

    add(own, REGISTRY.collect())
    for process, text in others.items():
        add(process, text_string_to_metric_families(text))
    return generate_latest(_Families(merged.values()))  # type: ignore[arg-type]
