"""Where a campaign's webhook may point: public addresses only, unless the operator allows private ones.

Staff set campaign webhook URLs; without this check a campaign could make the service POST to its own
database port, the AMI port or a cloud metadata address (SSRF). The company's own global URL
(`VOICEBOT_WEBHOOK_URL`) is set by an administrator and is trusted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx


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


async def resolve_public(url: str) -> str:
    """At delivery time: resolve the host once; every address must be public (DNS can change after
    creation). The address to connect to — the caller pins the connection to it (`pinned_client`), so a
    second, different DNS answer (rebinding) is never asked for."""
    check_literal(url)
    parts = urlsplit(url)
    host = canonical_host(url)
    try:
        ipaddress.ip_address(host)
        return host  # a public literal: nothing to resolve
    except ValueError:
        pass
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DestinationRefused(f"webhook host {host!r} does not resolve: {exc}") from None
    if not infos:
        raise DestinationRefused(f"webhook host {host!r} has no address")
    for *_, sockaddr in infos:
        if not _public(sockaddr[0]):
            raise DestinationRefused(f"webhook host {host!r} resolves to non-public {sockaddr[0]}")
    return str(infos[0][4][0])


async def check_resolved(url: str) -> None:
    """Every address the host resolves to must be public."""
    await resolve_public(url)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to one already-checked address whatever the URL's host; TLS still verifies the host name
    (httpcore passes the URL's host as SNI and for the certificate check, not the address)."""

    def __init__(self, host: str, address: str, inner: httpcore.AsyncNetworkBackend) -> None:
        self.host, self.address, self.inner = host, address, inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if host.lower().rstrip(".") != self.host:  # e.g. a redirect elsewhere: never resolve a new name
            raise httpcore.ConnectError(f"connection pinned to {self.host!r}, refused {host!r}")
        return await self.inner.connect_tcp(
            self.address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not webhook destinations")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


# The network the pinned connections go through (tests put a network without the public internet here).
NETWORK: httpcore.AsyncNetworkBackend = httpcore.AnyIOBackend()


class PinnedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose every connection goes to `address`, keeping the Host header, SNI and the
    certificate check for the URL's host name. No proxies from the environment, no redirects."""

    def __init__(self, host: str, address: str, *, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(trust_env=False, verify=verify)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=1,
            network_backend=_PinnedBackend(host.lower().rstrip("."), address, NETWORK),
        )


def pinned_client(
    url: str, address: str, *, timeout: float, verify: ssl.SSLContext | bool = True
) -> httpx.AsyncClient:
    """A client for one delivery to `url`, connecting only to `address` (from `resolve_public`)."""
    host = (urlsplit(url).hostname or "").lower()
    return httpx.AsyncClient(
        transport=PinnedTransport(host, address, verify=verify),
        timeout=timeout,
        trust_env=False,
        follow_redirects=False,
    )
