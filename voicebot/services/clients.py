"""Who is on the other end of an HTTP request or WebSocket: the API key it presents and its address
(for the failed-login limiter and the audit log). Used alike by the API and the web UI."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from voicebot.security.networks import address_allowed
from voicebot.security.proxies import client_address


def presented_key(connection: HTTPConnection) -> str | None:
    """The key from `Authorization: Bearer …` or `X-API-Key`, if any."""
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return connection.headers.get("x-api-key", "").strip() or None


def remote_address(connection: HTTPConnection) -> str:
    """The client: the TCP peer, or what a trusted proxy (VOICEBOT_TRUSTED_PROXIES) says it forwarded."""
    trusted = getattr(connection.app.state, "trusted_proxies", ())
    return client_address(connection.client.host if connection.client else None, connection.headers, trusted)


def came_over_https(connection: HTTPConnection) -> bool:
    """HTTPS to us, or to a trusted reverse proxy (VOICEBOT_TRUSTED_PROXIES) that says so in
    X-Forwarded-Proto: TLS ends at the proxy, yet the browser's cookies must still be marked Secure."""
    if connection.url.scheme in ("https", "wss"):
        return True
    trusted = getattr(connection.app.state, "trusted_proxies", ())
    peer = connection.client.host if connection.client else None
    if not peer or not trusted or not address_allowed(peer, trusted):
        return False
    proto = connection.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
    return proto == "https"
