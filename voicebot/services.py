"""Background services that run inside `voicebot serve` next to the HTTP API.

Each service module exposes `start(ctx: ServiceContext) -> AbstractAsyncContextManager[None]`: it starts
its listeners or workers on enter and stops them cleanly on exit. Modules listed here that are not
installed (or disabled by settings) are skipped, so the HTTP API always comes up.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from voicebot.db.session import Database
from voicebot.settings import Settings

log = logging.getLogger(__name__)

# module path : what it runs
SERVICE_MODULES = {
    "voicebot.calls.service": "telephony listeners (AudioSocket, FastAGI) and the voice dialogue runtime",
    "voicebot.campaigns.service": "campaign dialer and callback queue workers",
    "voicebot.api.outbox": "webhook and SMS delivery workers",
}


@dataclass
class ServiceContext:
    settings: Settings
    db: Database
    shared: dict[str, Any] = field(
        default_factory=dict
    )  # services publish handles here (e.g. the AMI client)


@asynccontextmanager
async def run_services(
    ctx: ServiceContext, *, enabled: set[str] | None = None
) -> AsyncIterator[ServiceContext]:
    async with AsyncExitStack() as stack:
        for module_name, purpose in SERVICE_MODULES.items():
            if enabled is not None and module_name not in enabled:
                continue
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            await stack.enter_async_context(module.start(ctx))
            log.info("service started", extra={"service": module_name, "purpose": purpose})
        yield ctx
