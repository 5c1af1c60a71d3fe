"""/api/v1/calls/{id}/recording (HTTP Range streaming, audited) and /transcript."""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from voicebot.api.access import authorize, remote_address
from voicebot.api.errors import ApiError
from voicebot.api.keys import Principal
from voicebot.api.results import call_turns, load_call
from voicebot.db.models import AuditEntry

log = logging.getLogger(__name__)
router = APIRouter(tags=["recordings"], dependencies=[Depends(authorize)])

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_AUDIO_TYPES = {".ogg": "audio/ogg", ".opus": "audio/ogg", ".wav": "audio/wav", ".mp3": "audio/mpeg"}


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive byte positions, None for the whole file; ApiError 416 when unsatisfiable."""
    if not header:
        return None
    first_range = header.split(",", 1)[0].strip()  # several ranges: serve the first, as players ask one
    match = _RANGE.match(first_range)
    if not match or (not match.group(1) and not match.group(2)):
        raise ApiError(416, f"bad Range {header[:100]!r}", headers={"Content-Range": f"bytes */{size}"})
    start_text, end_text = match.groups()
    if not start_text:  # suffix: the last N bytes
        length = int(end_text)
        if length == 0:
            raise ApiError(416, "empty suffix range", headers={"Content-Range": f"bytes */{size}"})
        return max(0, size - length), size - 1
    start = int(start_text)
    end = min(int(end_text), size - 1) if end_text else size - 1
    if start >= size or end < start:
        raise ApiError(416, "range outside the recording", headers={"Content-Range": f"bytes */{size}"})
    return start, end


def recording_file(recordings_dir: Path, stored: str | None) -> Path:
    """The file, which must lie inside the recordings folder (a stored path never escapes it).

    Stored paths are absolute, relative to the working directory (a relative recordings folder), or
    relative to the recordings folder.
    """
    if not stored:
        raise ApiError(404, "this call has no recording")
    root = recordings_dir.resolve()
    candidates = [Path(stored).resolve(), (root / stored).resolve()]
    for path in candidates:
        if path.is_relative_to(root) and path.is_file():
            return path
    raise ApiError(404, "the recording file is not available")


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


async def _audit(request: Request, principal: Principal, call_id: uuid.UUID, details: dict[str, Any]) -> None:
    async with request.app.state.db.transaction() as s:
        s.add(
            AuditEntry(
                actor=principal.actor,
                action="recording.listen",
                object_type="call",
                object_id=str(call_id),
                details=details,
                remote_addr=remote_address(request)[:64],
            )
        )


@router.get(
    "/calls/{call_id}/recording",
    name="get_recording",
    summary="The call's audio (supports HTTP Range)",
    responses={200: {"content": {"audio/ogg": {}}}, 206: {"description": "Partial content"}},
)
async def get_recording(
    call_id: uuid.UUID, request: Request, principal: Principal = Depends(authorize)
) -> StreamingResponse:
    call = await load_call(request, call_id)
    path = recording_file(request.app.state.settings.recordings_path, call.recording_path)
    size = os.stat(path).st_size
    span = parse_range(request.headers.get("range"), size) if size else None
    start, end = span if span else (0, size - 1)
    if start == 0:  # a new listening starts here; a player's follow-up range requests are not new ones
        await _audit(request, principal, call_id, {"range": request.headers.get("range")})
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1)}
    status = 200
    if span:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    media = (
        _AUDIO_TYPES.get(path.suffix.lower())
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )
    return StreamingResponse(
        _chunks(path, start, end - start + 1), status_code=status, headers=headers, media_type=media
    )


@router.get("/calls/{call_id}/transcript", name="get_transcript", summary="What the bot and the caller said")
async def get_transcript(call_id: uuid.UUID, request: Request) -> dict[str, Any]:
    call = await load_call(request, call_id)
    turns = await call_turns(request, call_id)
    lines = [f"{'БОТ' if t['speaker'] == 'bot' else 'АБОНЕНТ'}: {t['text']}" for t in turns]
    return {"call_id": str(call.id), "scenario": call.scenario, "turns": turns, "text": "\n".join(lines)}
