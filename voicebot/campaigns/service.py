"""`voicebot serve`'s telephony control: FastAGI inbound routing, the AMI link, the callback queue and
the campaign dialer.

Nothing here may keep the HTTP API from starting: the FastAGI port failing to bind is logged, and an
unreachable Asterisk is retried with backoff in the background while the dialer claims no work.
Runs after `voicebot.calls.service`, whose CallRegistry and Admission it shares (one dialogue limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from voicebot.asterisk.ami import AMIClient
from voicebot.asterisk.fastagi import FastAGIServer
from voicebot.campaigns.dialer import Dialer, worker_id
from voicebot.campaigns.placing import AMIPlacer
from voicebot.services import ServiceContext
from voicebot.settings import Settings
from voicebot.sla.callbacks import CallbackQueue
from voicebot.sla.inbound import DialogueCapacity, InboundRouter, parse_scenario_map
from voicebot.sla.missed import MissedCallWatcher

log = logging.getLogger(__name__)

MAX_CONNECT_DELAY = 60.0


def dialogue_busy(shared: dict[str, Any]) -> tuple[int, Callable[[], int]]:
    """(limit, busy counter) from the voice channel; without one no dialogue can run here."""
    engine = shared.get("voice_engine")
    registry = shared.get("call_registry")
    if engine is None:
        return 0, lambda: 0
    admission = engine.admission
    return admission.limit, lambda: admission.active + (len(registry) if registry is not None else 0)


def build_router(ctx: ServiceContext) -> InboundRouter:
    settings = ctx.settings
    limit, busy = dialogue_busy(ctx.shared)
    return InboundRouter(
        ctx.db,
        DialogueCapacity(limit, busy),
        registry=ctx.shared.get("call_registry"),
        scenarios=parse_scenario_map(settings.inbound_scenarios),
        callback_delay=timedelta(seconds=settings.callback_delay_seconds),
        offer_ttl=settings.voice_announce_ttl,
        audiosocket_target=settings.audiosocket_advertise,
    )


def scenario_direction(scenarios_dir: str) -> Callable[[str], str]:
    """'outbound' for scenarios that take outbound calls, else 'inbound' (e.g. inbound_router)."""
    from voicebot.dialogue.library import cached_library

    def direction(scenario: str) -> str:
        try:
            directions = cached_library(scenarios_dir).get(scenario).directions
        except Exception:  # unknown scenario: the runtime reports it when the call connects
            return "inbound"
        return "outbound" if "outbound" in directions else "inbound"

    return direction


def build_dialer(ctx: ServiceContext, ami: AMIClient) -> Dialer:
    settings = ctx.settings
    worker = worker_id()
    lease = timedelta(seconds=settings.dialer_lease_seconds)
    queue = CallbackQueue(
        ctx.db,
        worker=worker,
        timezone=settings.default_timezone,
        max_attempts=settings.callback_max_attempts,
        retry_delay=timedelta(seconds=settings.callback_retry_seconds),
        lease=lease,
    )
    placer = AMIPlacer(
        ami,
        ctx.shared.get("call_registry"),
        channel_template=settings.dialer_channel,
        ring_seconds=settings.dialer_ring_seconds,
        caller_id=settings.dialer_caller_id,
        audiosocket_target=settings.audiosocket_advertise,
    )
    return Dialer(
        ctx.db,
        placer,
        worker=worker,
        max_calls=settings.dialer_max_calls,
        lease=lease,
        poll_seconds=settings.dialer_poll_seconds,
        callbacks=queue,
        callback_scenario=settings.callback_scenario,
        ready=lambda: ami.connected,
        callback_direction=scenario_direction(str(settings.scenarios_dir)),
        callback_reserve=max(1, settings.dialer_max_calls // 5),
    )


async def connect_forever(ami: AMIClient, settings: Settings) -> None:
    """First connection with backoff (the client reconnects by itself once it has logged in)."""
    delay = 1.0
    while True:
        try:
            await ami.connect()
            log.info("AMI connected", extra={"host": settings.ami_host, "port": settings.ami_port})
            return
        except Exception as exc:  # unreachable, refused, bad secret: keep trying, never block serve
            log.warning("AMI unavailable; retrying", extra={"error": repr(exc), "retry_in": delay})
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_CONNECT_DELAY)


@contextlib.asynccontextmanager
async def start(ctx: ServiceContext) -> AsyncIterator[None]:
    settings = ctx.settings
    if not settings.dialer_enabled:
        log.info("dialer, callbacks and FastAGI routing disabled (VOICEBOT_DIALER_ENABLED=false)")
        yield
        return
    router = build_router(ctx)
    agi = FastAGIServer({"inbound": router}, host=settings.fastagi_host, port=settings.fastagi_port)
    try:
        await agi.start()
    except OSError:
        log.exception("FastAGI could not listen; inbound calls will take the dialplan's overflow path")
    ami = AMIClient.from_settings(settings)
    watcher = MissedCallWatcher(ctx.db, clock=router.clock, callback_delay=router.callback_delay)
    watcher.attach(ami)
    dialer = build_dialer(ctx, ami)
    ctx.shared.update({"inbound_router": router, "ami": ami, "dialer": dialer})
    tasks = [
        asyncio.create_task(connect_forever(ami, settings), name="ami-connect"),
        asyncio.create_task(dialer.run(), name="dialer"),
    ]
    try:
        yield
    finally:
        await dialer.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await agi.close()
        await router.close()
        await ami.close()
