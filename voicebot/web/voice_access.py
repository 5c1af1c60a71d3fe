"""Who may open the browser voice channel (/ws/voice/…): a signed-in UI user or a valid API key, any role.

A WebSocket cannot send custom headers from a browser, so the UI's session cookie is the usual proof;
programs present a key in `Authorization: Bearer` or `X-API-Key` like on the API. Browsers attach cookies
to WebSockets opened by any site, so a cookie counts only with an `Origin` of this very site (no
cross-site WebSocket hijacking); a foreign `Origin` is refused whatever the credentials.

The answer is an Admission with the caller's role (the channel runs a sandbox fitted to it), or None for
"refused". Per user (their key): at most VOICEBOT_VOICE_SOCKETS_PER_MINUTE sockets opened a minute and
VOICEBOT_VOICE_SOCKETS_PER_USER open at once; beyond that the socket is told to retry later (code 1013).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from voicebot.calls.websocket import Admission
from voicebot.services.clients import presented_key, remote_address
from voicebot.services.keys import verify_key
from voicebot.web.auth import LoginRequired, RateLimited, current_user


def same_origin(connection: HTTPConnection) -> bool | None:
    """True/False for an Origin that is/is not this site; None when the client sent none."""
    origin = connection.headers.get("origin")
    if origin is None:
        return None
    host = connection.headers.get("host", "").lower()
    try:
        netloc = urlsplit(origin).netloc.lower()
    except ValueError:
        return False
    return bool(host) and netloc == host


CONCURRENT_RETRY_SECONDS = 10


def _admit(connection: HTTPConnection, role: str, key_id: int) -> Admission:
    state = connection.app.state
    wait = state.voice_socket_rate.retry_after(key_id)
    if wait:
        return Admission(role, retry_after=wait)
    cap = state.voice_socket_cap
    if not cap.acquire(key_id):
        return Admission(role, retry_after=CONCURRENT_RETRY_SECONDS)
    return Admission(role, release=lambda: cap.release(key_id))


async def voice_socket_allowed(connection: HTTPConnection) -> Admission | None:
    if same_origin(connection) is False:
        return None
    limiter = connection.app.state.auth_limiter
    address = remote_address(connection)
    blocked = limiter.retry_after(address)
    key = presented_key(connection)
    if key is not None:
        principal = await verify_key(connection.app.state.db, key)
        if principal is not None:
            return _admit(connection, principal.role, principal.key_id)
        if not blocked:
            limiter.fail(address)
        return None
    if blocked or same_origin(connection) is not True:
        return None
    try:
        user = await current_user(connection)  # type: ignore[arg-type]
    except LoginRequired:
        return None
    except RateLimited as exc:
        return Admission("", retry_after=exc.retry_after)  # role "" → refused outright
    return _admit(connection, user.role, user.session.key_id)
