"""Where a campaign's webhook may point: public addresses only, unless the operator allows private ones.

Staff set campaign webhook URLs; without this check a campaign could make the service POST to its own
database port, the AMI port or a cloud metadata address (SSRF). The company's own global URL
(`VOICEBOT_WEBHOOK_URL`) is set by an administrator and is trusted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class DestinationRefused(ValueError):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


def check_literal(url: str) -> None:
    """At creation time: refuse hosts that are private by their spelling (no DNS lookup)."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        raise DestinationRefused("the webhook URL has no host")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise DestinationRefused(f"webhook host {host!r} is a local name")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return  # a name: its addresses are checked when an event is delivered
    if not _public(host):
        raise DestinationRefused(f"webhook address {host} is not a public address")


async def check_resolved(url: str) -> None:
    """At delivery time: every address the host resolves to must be public (DNS can change after creation)."""
    check_literal(url)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DestinationRefused(f"webhook host {parts.hostname!r} does not resolve: {exc}") from None
    for *_, sockaddr in infos:
        if not _public(sockaddr[0]):
            raise DestinationRefused(f"webhook host {parts.hostname!r} resolves to non-public {sockaddr[0]}")
