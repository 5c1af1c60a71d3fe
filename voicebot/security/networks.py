"""Network allow-lists: who may open a telephony connection (FastAGI, AudioSocket), who is a trusted proxy.

Both servers listen where Asterisk can reach them, which is also where any local process can. The
allowed list is the first gate; the FastAGI shared secret and the announced AudioSocket UUID are the
second (a local process passes the first, not the second).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK_ONLY = ("127.0.0.1/32", "::1/128")


def parse_networks(networks: str | Iterable[str | Network]) -> list[Network]:
    """'10.0.0.0/8, ::1' (or a list of such strings or of networks) → networks; ValueError on junk."""
    items = networks.split(",") if isinstance(networks, str) else list(networks)
    return [
        item if isinstance(item, Network) else ipaddress.ip_network(item.strip(), strict=False)
        for item in items
        if not isinstance(item, str) or item.strip()
    ]


def address_allowed(host: str, networks: Iterable[Network]) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d
    return any(address in network for network in networks)


def host_networks(host: str | None) -> list[Network]:
    """The addresses of the configured Asterisk host (an IP or a name resolved once, at start)."""
    if not host:
        return []
    try:
        return [ipaddress.ip_network(host, strict=False)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        log.warning("Asterisk host %s does not resolve (%s); only the listed networks may connect", host, exc)
        return []
    return [ipaddress.ip_network(info[4][0].split("%", 1)[0]) for info in infos]


def telephony_networks(configured: str, asterisk_host: str | None) -> list[Network]:
    """The configured networks plus the Asterisk (AMI) host: Asterisk is the one peer we expect."""
    networks = parse_networks(configured)
    return networks + [n for n in host_networks(asterisk_host) if n not in networks]
