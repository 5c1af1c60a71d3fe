"""Who may open the browser voice channel (/ws/voice/…): a signed-in UI user or a valid API key, any role.

A WebSocket cannot send custom headers from a browser, so the UI's session cookie is the usual proof;
programs present a key in `Authorization: Bearer` or `X-API-Key` like on the API.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from voicebot.services.clients import presented_key, remote_address
from voicebot.services.keys import verify_key
from voicebot.web.auth import LoginRequired, current_user


async def voice_socket_allowed(connection: HTTPConnection) -> bool:
    limiter = connection.app.state.auth_limiter
    address = remote_address(connection)
    if limiter.retry_after(address):
        return False
    key = presented_key(connection)
    if key is not None:
        if await verify_key(connection.app.state.db, key) is not None:
            return True
        limiter.fail(address)
        return False
    try:
        await current_user(connection)  # type: ignore[arg-type]
    except LoginRequired:
        return False
    return True
