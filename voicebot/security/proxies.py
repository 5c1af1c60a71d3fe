"""The client's address: the TCP peer, unless that peer is a configured trusted reverse proxy.

`X-Forwarded-For` is a header anyone can send. It is read only when the connection comes from one of
VOICEBOT_TRUSTED_PROXIES, and then from the right: the first address that is not itself a trusted proxy is
the client (entries further left were written by the client and prove nothing). The audit log and the
key-guessing limiter both use this one function.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from voicebot.security.networks import Network, address_allowed, parse_networks

__all__ = ["client_address", "parse_networks"]


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_address(peer: str | None, headers: Mapping[str, str], trusted: Iterable[Network]) -> str:
    trusted = list(trusted)
    if not peer:
        return "unknown"
    if not trusted or not address_allowed(peer, trusted):
        return peer
    forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
    for hop in reversed(forwarded):
        if not _valid(hop):
            return peer  # a mangled chain: believe only the proxy itself
        if not address_allowed(hop, trusted):
            return hop
    return peer
