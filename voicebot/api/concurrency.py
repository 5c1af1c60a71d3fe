"""Bounded HTTP concurrency: a burst of requests is refused at once (503 + Retry-After), never queued
behind the database pool, so it cannot pile up work on the event loop the live calls share.

Two budgets: heavy requests (exports, uploads: long and database-hungry) get a small one of their own,
everything else the general one. Health, metrics and the browser voice channel are never counted or
refused: an operator must see the trouble and a caller must be heard while it lasts.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from voicebot.api.errors import error_body
from voicebot.metrics import HTTP_REJECTED

EXEMPT = ("/healthz", "/metrics", "/ws/", "/static/")
HEAVY_READS = re.compile(r"(/results(\.csv|\.xlsx)?|/export[^/]*|\.csv|\.xlsx)$")  # exports
HEAVY_WRITES = re.compile(r"/campaigns(/csv|/new)?$")  # contact uploads


class ConcurrencyLimit:
    """Pure ASGI middleware counting requests in flight per class; over the limit: 503 immediately."""

    def __init__(self, app: ASGIApp, *, general: int, heavy: int, retry_after: int = 1) -> None:
        self.app = app
        self.limits = {"general": general, "heavy": heavy}
        self.in_flight = {"general": 0, "heavy": 0}
        self.retry_after = retry_after

    def route_class(self, scope: Scope) -> str | None:
        path: str = scope["path"]
        if path.startswith(EXEMPT):
            return None
        path = path.rstrip("/")
        heavy = HEAVY_WRITES if scope.get("method") == "POST" else HEAVY_READS
        return "heavy" if heavy.search(path) else "general"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = self.route_class(scope) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        if self.in_flight[kind] >= self.limits[kind]:
            HTTP_REJECTED.labels(kind).inc()
            await self._refuse(send, kind)
            return
        self.in_flight[kind] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[kind] -= 1

    async def _refuse(self, send: Send, kind: str) -> None:
        reason = f"at most {self.limits[kind]} {kind} requests at once"
        item = {"location": "request", "field": "", "reason": reason, "code": "busy"}
        body = json.dumps(
            error_body(503, "too many requests in progress; retry shortly", code="busy", details=[item])
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"retry-after", str(self.retry_after).encode())]  # fmt: skip
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
