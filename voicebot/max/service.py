"""The MAX bot as a service of `voicebot serve`: long polling or webhook, plus closing idle conversations.

`MaxService` is a plain object (start/stop) that the composition root (voicebot/runtime.py) runs.
In webhook mode the service subscribes `VOICEBOT_MAX_WEBHOOK_URL` with the secret, and the HTTP app's
`/max/webhook` route hands deliveries to `handle_delivery`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from datetime import timedelta
from typing import Any

from voicebot.campaigns.claims import ContactFilter
from voicebot.campaigns.dialer import Dialer
from voicebot.db.session import Database
from voicebot.dialogue.library import FlowLibrary
from voicebot.max.channel import MaxChannel
from voicebot.max.client import MaxClient
from voicebot.max.placing import MaxPlacer
from voicebot.nlu import NLU
from voicebot.settings import Settings

log = logging.getLogger(__name__)

POLL_TIMEOUT = 30  # seconds a long poll waits on the server (the API's limit is 90)
RETRY_SECONDS = 5.0
SWEEP_SECONDS = 60.0
DRAIN_SECONDS = 10.0
MAX_CONVERSATIONS = 1000  # campaign conversations this process keeps open at once  # at stop: time for the updates being answered to finish


class MaxService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        nlu: NLU,
        library: FlowLibrary,
        poll_timeout: int = POLL_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.client = MaxClient(settings.max_bot_token, settings.max_api_url)
        self.channel = MaxChannel(client=self.client, db=db, settings=settings, nlu=nlu, library=library)
        self.poll_timeout = poll_timeout
        self._tasks: list[asyncio.Task[None]] = []
        self._handling: set[asyncio.Task[None]] = set()  # updates being answered (drained at stop)
        self._marker: int | None = None
        self.place = MaxPlacer(self.channel)
        # Campaigns with settings.channel = "max": the dialer's rules, conversations instead of calls.
        self.dialer: Dialer | None = None
        if settings.dialer_enabled:
            self.dialer = Dialer(
                db,
                self.place,
                # conversations are cheap and mostly wait for a reply: the campaigns' max_concurrent bounds them
                max_calls=MAX_CONVERSATIONS,
                lease=timedelta(seconds=settings.dialer_lease_seconds),
                poll_seconds=settings.dialer_poll_seconds,
                contacts=ContactFilter(dialer="max"),
            )

    @property
    def mode(self) -> str:
        return self.settings.max_mode

    async def start(self) -> None:
        if self.mode == "webhook":
            if not self.settings.max_webhook_url:
                raise ValueError("VOICEBOT_MAX_MODE=webhook needs VOICEBOT_MAX_WEBHOOK_URL")
            if not self.settings.max_webhook_secret:
                log.error("VOICEBOT_MAX_WEBHOOK_SECRET is empty: every webhook delivery will be refused")
            await self.client.subscribe(self.settings.max_webhook_url, self.settings.max_webhook_secret)
        elif self.mode == "polling":
            self._tasks.append(asyncio.create_task(self._poll(), name="max-polling"))
        self._tasks.append(asyncio.create_task(self._sweep(), name="max-idle"))
        if self.dialer is not None:
            self._tasks.append(asyncio.create_task(self.dialer.run(), name="max-dialer"))
        log.info("max channel started", extra={"mode": self.mode})

    async def stop(self, grace: float = DRAIN_SECONDS) -> None:
        """Stop taking updates; the ones being answered get `grace` seconds to finish and keep their
        conversation (an update cut off mid-way would leave the conversation a step behind)."""
        if self.dialer is not None:
            await self.dialer.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._handling:
            _, late = await asyncio.wait(set(self._handling), timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        # open conversations stay in the database: the next start continues them
        await self.client.close()

    def secret_ok(self, presented: str | None) -> bool:
        expected = self.settings.max_webhook_secret
        if not expected:  # fail closed: without a secret anyone could post "updates" as any resident
            return False
        return presented is not None and hmac.compare_digest(presented.encode(), expected.encode())

    async def handle_delivery(self, update: dict[str, Any]) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handling.add(task)
        try:
            await self.channel.handle_update(update)
        finally:
            self._handling.discard(task)  # type: ignore[arg-type]

    async def _poll(self) -> None:
        while True:
            try:
                updates, self._marker = await self.client.updates(self._marker, self.poll_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # network or API trouble: wait and poll again, never stop the bot
                log.warning("max polling failed", extra={"error": repr(exc)})
                await asyncio.sleep(RETRY_SECONDS)
                continue
            # Residents are served side by side; one resident's updates keep their order (the channel
            # serialises them per user with a FIFO lock that each task reaches in creation order).
            # Awaited without being owned: stopping the poll lets them finish (see `stop`).
            batch = {asyncio.create_task(self._handle_safely(update)) for update in updates}
            self._handling |= batch
            for task in batch:
                task.add_done_callback(self._handling.discard)
            if batch:
                await asyncio.wait(batch)

    async def _handle_safely(self, update: dict[str, Any]) -> None:
        try:
            await self.channel.handle_update(update)
        except asyncio.CancelledError:
            raise
        except Exception:  # one bad update must not stop the others
            log.exception("max update failed", extra={"update_type": update.get("update_type")})

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.channel.close_idle(self.settings.max_idle_minutes * 60)
            except Exception:
                log.exception("max idle sweep failed")
