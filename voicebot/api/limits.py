"""Request body limits, enforced while reading (a lying or absent Content-Length does not get past)."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voicebot.api.errors import error_body


class _TooLarge(HTTPException):
    # An HTTPException, so FastAPI's body parsing lets it through (other errors there become 400).
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body exceeds {limit} bytes")


class BodyLimit:
    """Pure ASGI middleware: bodies over the limit get 413 in the API's error format."""

    def __init__(self, app: ASGIApp, *, default: int, uploads: int, upload_paths: tuple[str, ...]) -> None:
        self.app = app
        self.default = default
        self.uploads = uploads
        self.upload_paths = upload_paths

    def _limit(self, path: str) -> int:
        return self.uploads if path.rstrip("/") in self.upload_paths else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reject(send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _reject(send, limit)


async def _reject(send: Send, limit: int) -> None:
    item = {"location": "body", "field": "", "reason": f"at most {limit} bytes", "code": "payload_too_large"}
    body = json.dumps(
        error_body(413, f"the body exceeds {limit} bytes", code="payload_too_large", details=[item])
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
