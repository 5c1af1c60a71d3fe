"""The voice link: how the HTTP process sees the voice process when `serve` runs them apart.

`voicebot serve` runs the voice and telephony side (`--no-http`) and the HTTP side (`--no-telephony`) as
two OS processes, so an API burst never delays an audio frame. What used to cross between them inside one
process crosses this link: a small HTTP server of the voice process on a loopback port, guarded by a
shared bearer token (both given by `serve`: VOICEBOT_VOICE_LINK_PORT / VOICEBOT_VOICE_LINK_TOKEN).

    GET /state    its dependency probes, the telephony doctor's report, AMI and ASR state, line use
    GET /metrics  its Prometheus metrics (calls in progress, frame lateness, ASR, journal backlog…)
    GET /cards    call cards, one JSON object a line: the recent ones, then each new one as published

Deliberately not the database (LISTEN/NOTIFY): `/healthz` and `/metrics` must tell what the voice process
is doing exactly when PostgreSQL is away. The HTTP side (`VoiceLink`) polls the state every two seconds
for the web UI's banner and the dispatcher's live view, asks afresh for `/healthz` and `/metrics`, and
follows the card stream into its own `CardHub`, which the operator page's SSE stream reads as before.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from voicebot import metrics
from voicebot.health import Health, Probe
from voicebot.retry import Backoff
from voicebot.services.callcard import CardHub

log = logging.getLogger(__name__)

STATE_EVERY = 2.0  # seconds between state polls of the HTTP side
TIMEOUT = 1.0  # a voice process that does not answer in this long counts as down
KEEPALIVE = 10.0  # an empty line this often keeps the card stream (and its reader's timeout) alive
UNREACHABLE = "voice process: not answering on the voice link (starting, or restarting after a crash)"


# --- the voice process's side --------------------------------------------------------------------------


@dataclass
class VoiceSide:
    """What the voice process shows the HTTP process (parts absent in its mode stay None)."""

    probes: Health
    cards: CardHub
    telephony: Any = None  # voicebot.services.doctor.TelephonyHealth
    voice: Any = None  # voicebot.calls.engine.VoiceEngine

    async def state(self) -> dict[str, Any]:
        status, report = await self.probes.check()
        doctor, engine = self.telephony, self.voice
        admission = getattr(engine, "admission", None)
        ami = getattr(doctor, "ami", None)
        return {
            "status": status,
            "probes": report,
            "telephony": doctor.as_dict() if doctor is not None else None,
            "problems": list(doctor.problems) if doctor is not None else [],
            "ami_connected": bool(ami.connected) if ami is not None else None,
            "asr_ok": bool(engine.recognizers) if engine is not None else None,
            "lines": None
            if admission is None
            else {"busy": int(admission.active), "limit": int(admission.limit)},
        }


def link_app(side: VoiceSide, token: str) -> Starlette:
    """The voice process's link server; every route wants `Authorization: Bearer <token>`."""

    def allowed(request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return (
            bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), token.encode())
        )

    def refused() -> Response:
        return JSONResponse({"detail": "voice link token required"}, status_code=403)

    async def state(request: Request) -> Response:
        return JSONResponse(await side.state()) if allowed(request) else refused()

    async def metrics_text(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST) if allowed(request) else refused()

    async def cards(request: Request) -> Response:
        if not allowed(request):
            return refused()

        async def lines() -> AsyncIterator[str]:
            async with side.cards.subscribe() as queue:
                for card in list(side.cards.recent):
                    yield json.dumps(card, default=str) + "\n"
                while True:
                    try:
                        card = await asyncio.wait_for(queue.get(), KEEPALIVE)
                    except TimeoutError:
                        yield "\n"
                        continue
                    yield json.dumps(card, default=str) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    routes = [Route("/state", state), Route("/metrics", metrics_text), Route("/cards", cards)]
    return Starlette(routes=routes)


# --- the HTTP process's side ---------------------------------------------------------------------------


class RemoteAMI:
    def __init__(self, link: VoiceLink) -> None:
        self._link = link

    @property
    def connected(self) -> bool:
        state = self._link.state
        return bool(state and state.get("ami_connected"))


class RemoteTelephony:
    """The voice process's telephony doctor as the web UI and /healthz read it (`TelephonyHealth`'s face)."""

    def __init__(self, link: VoiceLink) -> None:
        self._link = link
        self.ami = RemoteAMI(link)

    @property
    def problems(self) -> list[str]:
        state = self._link.state
        return [UNREACHABLE] if state is None else list(state.get("problems") or [])

    def as_dict(self) -> dict[str, object]:
        state = self._link.state
        if state is None:
            return {"ok": False, "problems": [UNREACHABLE], "checks": 0, "checked_at": None}
        return state.get("telephony") or {"ok": None, "problems": [], "checks": 0, "checked_at": None}


class VoiceLink:
    """The HTTP process's view of the voice process: the latest state, fresh probes and metrics, cards."""

    def __init__(self, port: int, token: str, cards: CardHub, *, host: str = "127.0.0.1") -> None:
        self.cards = cards
        self.state: dict[str, Any] | None = None  # the latest /state; None while the voice process is away
        self.telephony = RemoteTelephony(self)
        self._client = httpx.AsyncClient(
            base_url=f"http://{host}:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
        )

    async def refresh(self) -> dict[str, Any] | None:
        try:
            response = await self._client.get("/state")
            response.raise_for_status()
            self.state = response.json()
        except (httpx.HTTPError, ValueError):
            self.state = None
        return self.state

    async def probe(self) -> Probe:
        """The voice process as one /healthz dependency: down when unreachable, its own verdict otherwise."""
        state = await self.refresh()
        if state is None:
            return Probe(False, {"error": UNREACHABLE})
        status = state.get("status", "unavailable")
        return Probe(status != "unavailable", {"status": status, **state.get("probes", {})},
                     degraded=status == "degraded")  # fmt: skip

    async def metrics_text(self) -> str | None:
        """The voice process's Prometheus text, or None when it does not answer."""
        try:
            response = await self._client.get("/metrics")
            response.raise_for_status()
            return response.text
        except httpx.HTTPError:
            return None

    def systems(self) -> dict[str, Any]:
        """AMI, speech recognition and line use for the dispatcher's live view (`services.live.systems`)."""
        state = self.state or {}
        return {"ami_connected": state.get("ami_connected"), "asr_ok": state.get("asr_ok"),
                "lines": state.get("lines"), "problems": self.telephony.problems}  # fmt: skip

    async def run(self, every: float = STATE_EVERY) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._poll(every))
            group.create_task(self._follow_cards())

    async def close(self) -> None:
        await self._client.aclose()

    async def _poll(self, every: float) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(every)

    async def _follow_cards(self) -> None:
        """Republish the voice process's call cards here; reconnect (with backoff) when it restarts."""
        backoff = Backoff(initial=0.5, maximum=10.0)
        timeout = httpx.Timeout(TIMEOUT, read=KEEPALIVE * 3)
        while True:
            try:
                async with self._client.stream("GET", "/cards", timeout=timeout) as response:
                    response.raise_for_status()
                    backoff.reset()
                    async for line in response.aiter_lines():
                        if line.strip():
                            self.cards.publish(json.loads(line))
            except httpx.HTTPError:
                pass  # the voice process is (re)starting
            except Exception:  # a card this side cannot read must not end the stream for good
                log.exception("voice link: bad call card; reconnecting")
            await asyncio.sleep(backoff.next_delay())
