"""The composition root of one `voicebot serve` process: every long-lived part built once, with its
dependencies passed in by name, started in a declared order and stopped in the reverse one.

    settings ─► database ─► call records (own pool, local journal, replayer, call ledger)
             ─► voice engine (NLU, recognisers, bot voice)
             ─► office work: outbox workers (webhooks, SMS), MAX bot, reminders, recording purge
             ─► telephony: AudioSocket server ─► inbound router + FastAGI ─► AMI + missed-call watcher ─► dialer
             ─► voice link: its server (voice process) or its follower (HTTP process)
             ─► HTTP (uvicorn, beside the telephony servers, never inside the FastAPI lifespan)

By default `voicebot serve` is a supervisor (voicebot.cli.supervisor) running this twice, as two OS
processes: `serve --no-http` (the voice and telephony side) and `serve --no-telephony` (HTTP, with the
browser voice channel and the office work), joined by the voice link (voicebot.services.voicelink), so an
API burst cannot delay an audio frame. `serve --single-process` runs everything here, in one process.

Nothing here may keep the HTTP API from starting: the FastAGI port failing to bind is logged, and an
unreachable Asterisk is retried with backoff in the background while the dialer claims no work.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import uvicorn

from voicebot.asterisk.ami import AMIClient
from voicebot.asterisk.audiosocket import AudioSocketServer
from voicebot.asterisk.channels import ChannelBook
from voicebot.asterisk.fastagi import FastAGIServer
from voicebot.calls.disk import sample_free, space_probe
from voicebot.calls.engine import VoiceEngine
from voicebot.calls.reaper import Reaper
from voicebot.calls.records import CallRecords
from voicebot.calls.retention import daily_purge
from voicebot.calls.service import create_voice_engine, open_call_records, warm_up
from voicebot.campaigns.claims import ContactFilter
from voicebot.campaigns.dialer import Dialer, worker_id
from voicebot.campaigns.placing import AMIPlacer, HangupCauses, MachineWatcher
from voicebot.db.lifecycle import open_database
from voicebot.db.session import Database
from voicebot.dialogue.library import cached_library
from voicebot.health import Health
from voicebot.max.service import MaxService
from voicebot.metrics import on_scrape, sample_links, sample_pool
from voicebot.retry import Backoff
from voicebot.security.networks import telephony_networks
from voicebot.services.appointments import Schedule
from voicebot.services.callcard import CardHub
from voicebot.services.doctor import TelephonyHealth
from voicebot.services.live import publish_obligations
from voicebot.services.outbox import OutboxWorkers
from voicebot.services.transfer import TransferDesk
from voicebot.services.voicelink import VoiceLink, VoiceSide, link_app
from voicebot.settings import Settings
from voicebot.sla.callbacks import CallbackQueue
from voicebot.sla.inbound import DialogueCapacity, InboundRouter, parse_scenario_map
from voicebot.sla.missed import MissedCallWatcher

log = logging.getLogger(__name__)

MAX_CONNECT_DELAY = 60.0
REMINDER_SECONDS = 600.0
OBLIGATIONS_SECONDS = 30.0
REMINDER_HOURS = (10, 20)  # company time: reminders go out in the day, never at night


@dataclass
class Runtime:
    """What a running `voicebot serve` holds; a part is None when its settings or mode leave it out."""

    settings: Settings
    db: Database
    probes: Health = field(default_factory=Health)  # dependency probes behind /healthz
    records: CallRecords | None = None
    voice: VoiceEngine | None = None
    audiosocket: AudioSocketServer | None = None
    router: InboundRouter | None = None
    fastagi: FastAGIServer | None = None
    ami: AMIClient | None = None
    dialer: Dialer | None = None
    health: TelephonyHealth | None = None  # doctor's report for /healthz and the web UI banner
    channels: ChannelBook = field(default_factory=ChannelBook)  # call id -> the caller's channel
    cards: CardHub = field(default_factory=CardHub)  # call cards for operators (web UI, SSE)
    transfers: TransferDesk | None = None
    max: MaxService | None = None
    link: VoiceLink | None = None  # the voice process, seen from the HTTP process (voice link)
    link_role: str | None = None  # this process's side of the voice link: "server", "follower" or None


# --- builders: plain objects from settings and the parts they need -----------------------------------------


def build_audiosocket(settings: Settings, voice: VoiceEngine) -> AudioSocketServer:
    return AudioSocketServer(
        voice.handle_audiosocket,
        settings.audiosocket_host,
        settings.audiosocket_port,
        telephony_networks(settings.audiosocket_allowed_networks, settings.ami_host),
        unknown_uuid=settings.audiosocket_unknown_uuid,
        announced=voice.registry.is_announced,
    )


def build_fastagi(settings: Settings, router: InboundRouter) -> FastAGIServer:
    """Only Asterisk may route calls: its networks, and the shared secret the dialplan passes."""
    return FastAGIServer(
        {"inbound": router},
        host=settings.fastagi_host,
        port=settings.fastagi_port,
        allowed_networks=telephony_networks(settings.fastagi_allowed_networks, settings.ami_host),
        secret=settings.agi_secret,
    )


def dialogue_capacity(voice: VoiceEngine | None) -> DialogueCapacity:
    """One dialogue limit for the process: running dialogues plus calls announced for a dialogue but not yet
    connected (outage announcements take no slot). Without a voice engine no dialogue can run here, so every inbound call overflows."""
    if voice is None:
        return DialogueCapacity(0, lambda: 0)
    admission, registry = voice.admission, voice.registry
    return DialogueCapacity(admission.limit, lambda: admission.active + registry.pending_dialogues())


def build_router(
    settings: Settings,
    db: Database,
    voice: VoiceEngine | None,
    channels: ChannelBook | None = None,
    records: CallRecords | None = None,
) -> InboundRouter:
    return InboundRouter(
        db,
        dialogue_capacity(voice),
        registry=voice.registry if voice is not None else None,
        scenarios=parse_scenario_map(settings.inbound_scenarios),
        callback_delay=timedelta(seconds=settings.callback_delay_seconds),
        offer_ttl=settings.voice_announce_ttl,
        audiosocket_target=settings.audiosocket_advertise,
        channels=channels,
        callback_max_per_hour=settings.callback_max_per_hour,
        records=records,
    )


def build_ami(settings: Settings) -> AMIClient:
    return AMIClient(settings.ami_host, settings.ami_port, settings.ami_username, settings.ami_secret)


def build_transfers(settings: Settings, rt: Runtime) -> TransferDesk:
    assert rt.ami is not None
    desk = TransferDesk(
        rt.db,
        rt.ami,
        rt.channels,
        rt.cards,
        operator_queue=settings.operator_queue,
        dispatcher=settings.duty_dispatcher,
        wait_seconds=settings.transfer_wait_seconds,
    )
    desk.attach()
    return desk


def build_dialer(
    settings: Settings,
    db: Database,
    ami: AMIClient,
    voice: VoiceEngine | None,
    channels: ChannelBook | None = None,
) -> Dialer:
    causes = HangupCauses()
    causes.attach(ami)
    worker = worker_id()
    lease = timedelta(seconds=settings.dialer_lease_seconds)
    queue = CallbackQueue(
        db,
        worker=worker,
        timezone=settings.default_timezone,
        max_attempts=settings.callback_max_attempts,
        retry_delay=timedelta(seconds=settings.callback_retry_seconds),
        lease=lease,
    )
    placer = AMIPlacer(
        ami,
        voice.registry if voice is not None else None,
        channel_template=settings.dialer_channel,
        ring_seconds=settings.dialer_ring_seconds,
        caller_id=settings.dialer_caller_id,
        audiosocket_target=settings.audiosocket_advertise,
        channels=channels,
        causes=causes,
    )
    return Dialer(
        db,
        placer,
        worker=worker,
        max_calls=settings.dialer_max_calls,
        lease=lease,
        poll_seconds=settings.dialer_poll_seconds,
        callbacks=queue,
        callback_scenario=settings.callback_scenario,
        ready=lambda: ami.connected,
        callback_reserve=max(1, settings.dialer_max_calls // 5),
        # Only with a voice channel here: without one the calls are served by another process's bot.
        dialogue_slots=dialogue_capacity(voice).free if voice is not None else None,
        # contacts who prefer MAX are the MAX bot's dialer's when the MAX channel runs (in whichever process)
        contacts=ContactFilter(dialer="voice", skip_max=settings.max_mode != "off"),
    )


async def connect_forever(ami: AMIClient, settings: Settings) -> None:
    """First connection with backoff (the client reconnects by itself once it has logged in)."""
    schedule = Backoff(initial=1.0, maximum=MAX_CONNECT_DELAY)
    while True:
        try:
            await ami.connect()
            log.info("AMI connected", extra={"host": settings.ami_host, "port": settings.ami_port})
            return
        except Exception as exc:  # unreachable, refused, bad secret: keep trying, never block serve
            delay = schedule.next_delay()
            log.warning("AMI unavailable; retrying", extra={"error": repr(exc), "retry_in": round(delay, 1)})
            await asyncio.sleep(delay)


# --- lifetimes: each starts its part on enter and stops it on exit ------------------------------------------


@asynccontextmanager
async def background(coro_factory: Callable[[], object], name: str) -> AsyncIterator[asyncio.Task]:
    task = asyncio.create_task(coro_factory(), name=name)  # type: ignore[arg-type]
    try:
        yield task
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):  # the cancellation asked for just above
            await task


@asynccontextmanager
async def running_records(rt: Runtime) -> AsyncIterator[None]:
    """Call records: the voice path's own pool, the local journal and its replayer, the call ledger."""
    rt.records = records = await open_call_records(rt.settings, rt.db)
    rt.probes.register("journal", records.journal_probe)
    recordings, min_free = rt.settings.recordings_path, rt.settings.recordings_min_free_mb * 1_000_000
    rt.probes.register("recordings_disk", space_probe(recordings, min_free))
    unsample_disk = on_scrape(lambda: sample_free(recordings))
    unsample = on_scrape(lambda: sample_pool("api", rt.db.engine.pool))
    reaper = Reaper(records, node=rt.settings.node, stale_after=timedelta(seconds=rt.settings.stale_call_seconds),
                    callback_delay=timedelta(seconds=rt.settings.callback_delay_seconds))  # fmt: skip
    try:
        async with background(reaper.run, "call-reaper"):
            yield
    finally:
        unsample()
        unsample_disk()
        await records.close()


@asynccontextmanager
async def running_voice(rt: Runtime) -> AsyncIterator[None]:
    """The voice engine, warmed in the background. Beside a voice process (the HTTP process of `serve`)
    it serves only the browser's «Проверить бота» calls: the speech model loads on the first of them
    instead of taking a second copy of its memory at start."""
    if not rt.settings.voice_enabled:
        log.info("voice channel disabled (VOICEBOT_VOICE_ENABLED=false)")
        yield
        return
    browser_only = rt.link_role == "follower"
    rt.voice = await create_voice_engine(rt.settings, rt.db, records=rt.records, preload_asr=not browser_only)
    voice = rt.voice
    async with background(lambda: warm_up(voice, recognizers=not browser_only), "voice-prewarm"):
        yield


@asynccontextmanager
async def running_purge(rt: Runtime) -> AsyncIterator[None]:
    """The daily recording purge (retention), sooner when the recordings disk runs low."""
    if not rt.settings.voice_enabled:
        yield
        return
    settings = rt.settings
    async with daily_purge(rt.db, settings.recording_retention_days, root=settings.recordings_path,
                           min_free=settings.recordings_min_free_mb * 1_000_000):  # fmt: skip
        yield


@asynccontextmanager
async def running_audiosocket(rt: Runtime) -> AsyncIterator[None]:
    if rt.voice is None:
        yield
        return
    rt.audiosocket = build_audiosocket(rt.settings, rt.voice)
    await rt.audiosocket.start()
    try:
        yield
    finally:
        await rt.audiosocket.stop()


@asynccontextmanager
async def running_call_control(rt: Runtime) -> AsyncIterator[None]:
    """FastAGI inbound routing, the AMI link with its missed-call watcher, and the dialer."""
    settings = rt.settings
    if not settings.dialer_enabled:
        log.info("dialer, callbacks and FastAGI routing disabled (VOICEBOT_DIALER_ENABLED=false)")
        yield
        return
    rt.router = build_router(settings, rt.db, rt.voice, rt.channels, rt.records)
    rt.fastagi = build_fastagi(settings, rt.router)
    try:
        await rt.fastagi.start()
    except OSError:
        log.exception("FastAGI could not listen; inbound calls will take the dialplan's overflow path")
    rt.ami = build_ami(settings)
    MissedCallWatcher(
        rt.db, clock=rt.router.clock, callback_delay=rt.router.callback_delay, writer=rt.records.writer
    ).attach(rt.ami)
    rt.dialer = build_dialer(settings, rt.db, rt.ami, rt.voice, rt.channels)
    MachineWatcher(rt.dialer.machine).attach(rt.ami)
    rt.transfers = build_transfers(settings, rt)
    if rt.voice is not None:
        rt.voice.on_leave = rt.transfers.leave
    ami, dialer, fastagi = rt.ami, rt.dialer, rt.fastagi
    rt.health = health = TelephonyHealth(settings, ami)
    unsample = on_scrape(lambda: sample_links(ami.connected, fastagi.listening))
    try:
        async with (
            background(lambda: connect_forever(ami, settings), "ami-connect"),
            background(dialer.run, "dialer"),
            background(health.watch, "telephony-health"),
        ):
            try:
                yield
            finally:
                await dialer.stop()
    finally:
        unsample()
        await rt.fastagi.close()
        await rt.router.close()
        await ami.close()


@asynccontextmanager
async def running_max(rt: Runtime) -> AsyncIterator[None]:
    """The MAX messenger bot (long polling or webhook) when VOICEBOT_MAX_MODE is not `off`."""
    settings = rt.settings
    if settings.max_mode == "off":
        yield
        return
    from voicebot.nlu import create_nlu

    nlu = rt.voice.nlu if rt.voice is not None else create_nlu(settings)
    rt.max = MaxService(settings, rt.db, nlu=nlu, library=cached_library(str(settings.scenarios_dir)))
    await rt.max.start()
    try:
        yield
    finally:
        await rt.max.stop()


async def remind_appointments(rt: Runtime, every: float = REMINDER_SECONDS) -> None:
    """Remind tomorrow's office appointments, in MAX when the resident is there, otherwise by SMS."""
    schedule = Schedule(rt.db, rt.settings.default_timezone)
    while True:
        try:
            now = datetime.now(UTC)
            if REMINDER_HOURS[0] <= now.astimezone(schedule.zone).hour < REMINDER_HOURS[1]:
                await schedule.send_reminders(now, rt.max.channel if rt.max is not None else None)
        except Exception:  # a bad round must not stop the reminders of the next one
            log.exception("appointment reminders failed")
        await asyncio.sleep(every)


@asynccontextmanager
async def running_reminders(rt: Runtime) -> AsyncIterator[None]:
    async with background(lambda: remind_appointments(rt), "appointment-reminders"):
        yield


async def watch_obligations(db: Database, every: float = OBLIGATIONS_SECONDS) -> None:
    """Keep the open-obligations gauges of /metrics current (a database read every `every` seconds)."""
    while True:
        try:
            await publish_obligations(db, datetime.now(UTC))
        except Exception as exc:  # the database away: the gauges keep their last values
            log.debug("open obligations not read", extra={"error": repr(exc)})
        await asyncio.sleep(every)


@asynccontextmanager
async def running_obligations(rt: Runtime) -> AsyncIterator[None]:
    async with background(lambda: watch_obligations(rt.db), "open-obligations"):
        yield


@asynccontextmanager
async def running_outbox(rt: Runtime) -> AsyncIterator[None]:
    async with OutboxWorkers(rt.db, rt.settings):
        yield


@asynccontextmanager
async def running_link_server(rt: Runtime) -> AsyncIterator[None]:
    """The voice process's side of the voice link: state, metrics and call cards on a loopback port."""
    settings = rt.settings
    side = VoiceSide(rt.probes, rt.cards, telephony=rt.health, voice=rt.voice)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", settings.voice_link_port))  # a port taken: this process fails and is restarted
    config = uvicorn.Config(link_app(side, settings.voice_link_token), log_config=None, access_log=False,
                            lifespan="off", server_header=False)  # fmt: skip
    server = HTTPServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="voice-link")
    try:
        yield
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def running_link_follower(rt: Runtime) -> AsyncIterator[None]:
    """The HTTP process's side: the voice process as the `voice` dependency of /healthz, its metrics,
    telephony report and line use, and its call cards republished into this process's CardHub."""
    settings = rt.settings
    rt.link = link = VoiceLink(settings.voice_link_port, settings.voice_link_token, rt.cards)
    rt.probes.register("voice", link.probe, critical=True)  # no voice process: calls are not served
    try:
        async with background(link.run, "voice-link"):
            yield
    finally:
        await link.close()


def voice_link_role(settings: Settings, *, http: bool, telephony: bool) -> str | None:
    """ "server" in the voice process and "follower" in the HTTP process when the two run apart with a
    voice link configured (`serve` configures one for its children); None otherwise."""
    if not (settings.voice_link_port and settings.voice_link_token) or http == telephony:
        return None
    return "server" if telephony else "follower"


@asynccontextmanager
async def started(
    settings: Settings,
    db: Database,
    *,
    telephony: bool = True,
    voice: bool = True,
    office: bool = True,
    link: str | None = None,
) -> AsyncIterator[Runtime]:
    """Start the parts in their declared order (each may use those before it); stop them in reverse.
    `office`: outbox workers, the MAX bot, reminders and the recording purge (one process of a pair runs
    them); `link`: this process's side of the voice link ("server", "follower" or None)."""
    rt = Runtime(settings, db, link_role=link)
    parts = [("call records", running_records)]
    parts += [("voice engine", running_voice)] if voice else []
    if office:
        parts.append(("outbox workers", running_outbox))
        parts.append(("MAX bot", running_max))
        parts.append(("appointment reminders", running_reminders))
        parts.append(("recording purge", running_purge))
        parts.append(("open obligations", running_obligations))
    if telephony:
        parts += [("AudioSocket", running_audiosocket), ("call control", running_call_control)]
    if link == "server":
        parts.append(("voice link", running_link_server))
    elif link == "follower":
        parts.append(("voice link", running_link_follower))
    async with AsyncExitStack() as stack:
        for name, part in parts:
            await stack.enter_async_context(part(rt))
            log.info("service started", extra={"service": name})
        yield rt


# --- `voicebot serve` -------------------------------------------------------------------------------------


class HTTPServer(uvicorn.Server):
    """uvicorn serving the API and web UI beside the telephony servers; the runtime owns the signals."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    @classmethod
    def for_app(
        cls,
        settings: Settings,
        db: Database,
        voice: VoiceEngine | None,
        health: TelephonyHealth | None = None,
        cards: CardHub | None = None,
        max_service: MaxService | None = None,
        probes: Health | None = None,
        link: VoiceLink | None = None,
    ) -> HTTPServer:
        from voicebot.api.app import create_app

        app = create_app(
            settings,
            database=db,
            voice_engine=voice,
            telephony_health=link.telephony if link is not None else health,
            call_cards=cards,
            max_service=max_service,
            health=probes,
            voice_link=link,
        )
        return cls(http_config(app, settings.http_host, settings.http_port))


def http_config(app: object, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        # uvicorn would believe X-Forwarded-For from 127.0.0.1; only VOICEBOT_TRUSTED_PROXIES may set it
        proxy_headers=False,
        server_header=False,
    )


def stop_event() -> asyncio.Event:
    """Set by SIGINT or SIGTERM: a service stopped on request shuts down cleanly and exits 0."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(settings: Settings, *, http: bool = True, telephony: bool = True) -> None:
    """Run one process until SIGINT/SIGTERM, or until the HTTP server stops by itself. With a voice link
    configured (a pair of processes), the voice process leaves the office work to the HTTP process."""
    stop = stop_event()
    link = voice_link_role(settings, http=http, telephony=telephony)
    office = link != "server"
    async with (
        open_database(settings) as db,
        started(settings, db, telephony=telephony, office=office, link=link) as rt,
    ):
        if not http:
            await stop.wait()
            return
        server = HTTPServer.for_app(settings, db, rt.voice, rt.health, rt.cards, rt.max, rt.probes, rt.link)
        http_task = asyncio.create_task(server.serve(), name="http")
        stopping = asyncio.create_task(stop.wait(), name="stop-signal")
        await asyncio.wait({http_task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        stopping.cancel()
        await http_task
