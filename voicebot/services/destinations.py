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


# Public DNS names that answer with whatever address is spelled inside them (127.0.0.1.nip.io → 127.0.0.1).
WILDCARD_DNS = (
    "nip.io",
    "sslip.io",
    "xip.io",
    "traefik.me",
    "localtest.me",
    "lvh.me",
    "vcap.me",
    "lacolhost.com",
)
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".localdomain")


def canonical_host(url: str) -> str:
    """The URL's host as the network will see it: lower case, no trailing dot, and any IPv4 spelling
    (`127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`) or IPv4-mapped IPv6 as its dotted address."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if host and all(part.isalnum() for part in host.split(".")) and not host.replace(".", "").isalpha():
            try:  # the C library's spellings: what a resolver would turn it into
                return socket.inet_ntoa(socket.inet_aton(host))
            except OSError:
                pass
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def check_literal(url: str) -> None:
    """At creation time: refuse hosts that are private by their spelling, however it is written (no DNS)."""
    host = canonical_host(url)
    if not host:
        raise DestinationRefused("the webhook URL has no host")
    if host == "localhost" or host.endswith(LOCAL_SUFFIXES):
        raise DestinationRefused(f"webhook host {host!r} is a local name")
    if any(host == name or host.endswith("." + name) for name in WILDCARD_DNS):
        raise DestinationRefused(f"webhook host {host!r} is a wildcard DNS name that can point anywhere")
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
