"""A call's recording for a listener: the file (never outside the recordings folder), the byte range the
player asked for, and the audit entry every request writes (failures included)."""

from __future__ import annotations

import functools
import mimetypes
import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from voicebot.db.models import AuditEntry
from voicebot.db.session import Database
from voicebot.services.calls import load_call
from voicebot.services.clients import remote_address
from voicebot.services.errors import ServiceError

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_AUDIO_TYPES = {".ogg": "audio/ogg", ".opus": "audio/ogg", ".wav": "audio/wav", ".mp3": "audio/mpeg"}


def _unsatisfiable(message: str, size: int) -> ServiceError:
    """416 naming the Range header, with the size the client may ask within."""
    return ServiceError(
        416,
        message,
        headers={"Content-Range": f"bytes */{size}"},
        details=[{"location": "header", "field": "Range", "reason": f"{message} (size {size} bytes)",
                  "code": "range_not_satisfiable"}],
    )  # fmt: skip


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive byte positions, None for the whole file; ServiceError 416 when unsatisfiable."""
    if not header:
        return None
    first_range = header.split(",", 1)[0].strip()  # several ranges: serve the first, as players ask one
    match = _RANGE.match(first_range)
    if not match or (not match.group(1) and not match.group(2)):
        raise _unsatisfiable(f"bad Range {header[:100]!r}", size)
    start_text, end_text = match.groups()
    if not start_text:  # suffix: the last N bytes
        length = int(end_text)
        if length == 0:
            raise _unsatisfiable("empty suffix range", size)
        return max(0, size - length), size - 1
    start = int(start_text)
    end = min(int(end_text), size - 1) if end_text else size - 1
    if start >= size or end < start:
        raise _unsatisfiable("range outside the recording", size)
    return start, end


def recording_file(recordings_dir: Path, stored: str | None) -> Path:
    """The file, which must lie inside the recordings folder (a stored path never escapes it).

    Stored paths are absolute, relative to the working directory (a relative recordings folder), or
    relative to the recordings folder.
    """
    if not stored:
        raise ServiceError(404, "this call has no recording")
    root = recordings_dir.resolve()
    candidates = [Path(stored).resolve(), (root / stored).resolve()]
    for path in candidates:
        if path.is_relative_to(root) and path.is_file():
            return path
    raise ServiceError(404, "the recording file is not available")


async def _chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        await handle.seek(start)
        remaining = length
        while remaining > 0:
            data = await handle.read(min(CHUNK, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data


@dataclass(frozen=True)
class RecordingSlice:
    path: Path
    start: int
    length: int
    status: int  # 200 whole file, 206 a range
    headers: dict[str, str]
    media_type: str

    def chunks(self) -> AsyncIterator[bytes]:
        return _chunks(self.path, self.start, self.length)


async def audit_recording_request(
    db: Database,
    call_id: object,
    status: int,
    *,
    actor: str,
    remote_addr: str,
    method: str = "GET",
    range_header: str | None = None,
    via: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """One audit row per recording request, whatever came of it: who, from where, which bytes, status."""
    async with db.transaction() as s:
        s.add(
            AuditEntry(
                actor=actor,
                action="recording.listen" if status in (200, 206) else "recording.denied",
                object_type="call",
                object_id=str(call_id)[:100],
                details={
                    "method": method,
                    "range": (range_header or "")[:200] or None,
                    "status": status,
                    "via": via[:200],
                    **(details or {}),
                },
                remote_addr=remote_addr[:64],
            )
        )


async def open_recording(
    db: Database,
    recordings_dir: Path,
    call_id: uuid.UUID,
    range_header: str | None,
    *,
    actor: str,
    remote_addr: str,
    method: str = "GET",
    via: str = "",
) -> RecordingSlice:
    """The bytes to send. Every request is audited with exactly the bytes it gets, before any leaves (any
    Range, HEAD: none), and so is every failure (no such call or file, a bad range)."""
    audit = functools.partial(
        audit_recording_request, db, call_id, actor=actor, remote_addr=remote_addr, method=method,
        range_header=range_header, via=via,
    )  # fmt: skip
    try:
        call = await load_call(db, call_id)
        path = recording_file(recordings_dir, call.recording_path)
        size = os.stat(path).st_size
        span = parse_range(range_header, size) if size else None
    except ServiceError as exc:
        await audit(exc.status, details={"error": exc.message[:200]})
        raise
    start, end = span if span else (0, size - 1)
    status = 206 if span else 200
    await audit(status, details={"bytes": [] if method == "HEAD" or not size else [start, end], "size": size})
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1)}
    if span:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    media = (
        _AUDIO_TYPES.get(path.suffix.lower())
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )
    return RecordingSlice(path, start, end - start + 1, status, headers, media)


async def recording_response(request: Request, call_id: uuid.UUID, actor: str) -> Response:
    """The API's and the web UI's answer to a listener: audited, Range-aware, nothing sent for HEAD."""
    audio = await open_recording(
        request.app.state.db,
        request.app.state.settings.recordings_path,
        call_id,
        request.headers.get("range"),
        actor=actor,
        remote_addr=remote_address(request),
        method=request.method,
        via=request.url.path,
    )
    if request.method == "HEAD":
        return Response(status_code=audio.status, headers=audio.headers, media_type=audio.media_type)
    return StreamingResponse(
        audio.chunks(), status_code=audio.status, headers=audio.headers, media_type=audio.media_type
    )


async def audit_refused_listener(request: Request, status: int, actor: str) -> None:
    """The audit entry of a listener refused before the recording is looked at (no key or session, the
    wrong role, a rate limit): failed listens are not invisible, whichever edge refused them."""
    await audit_recording_request(
        request.app.state.db,
        request.path_params.get("call_id"),
        status,
        actor=actor,
        remote_addr=remote_address(request),
        method=request.method,
        range_header=request.headers.get("range"),
        via=request.url.path,
    )
