"""DNS rebinding against campaign webhooks: the address checked is the address connected to.

The attacker owns a DNS name that answers a public address to the check and 127.0.0.1 to the connection.
One lookup per delivery, the connection pinned to its answer: the loopback listener is never reached.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess

import httpcore
import httpx
import pytest
from sqlalchemy import text

from tests.api.outbox_events import campaign_with_contact, finish_contact, run_outbox
from voicebot.services import destinations

PUBLIC = "93.184.216.34"


class RebindingDns:
    """The attacker's name server: a public address first, loopback on every later question."""

    def __init__(self, name: str, first: str = PUBLIC) -> None:
        self.name, self.first, self.asked = name, first, 0
        self.real = socket.getaddrinfo

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's names
        if (host.decode() if isinstance(host, bytes) else host) != self.name:  # anyio asks in IDNA bytes
            return self.real(host, port, family, type, proto, flags)
        self.asked += 1
        address = self.first if self.asked == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]


class NoInternet(httpcore.AsyncNetworkBackend):
    """The machine's network without the public internet: loopback works, public addresses are recorded
    and unreachable (so the test sends nothing out)."""

    def __init__(self) -> None:
        self.real = httpcore.AnyIOBackend()
        self.tried: list[tuple[str, int]] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # noqa: ASYNC109
        self.tried.append((host, port))
        if host.startswith("127."):
            return await self.real.connect_tcp(host, port, timeout=timeout, socket_options=socket_options)
        raise httpcore.ConnectError(f"{host} unreachable in this test")

    async def connect_unix_socket(self, *args, **kwargs):
        raise httpcore.ConnectError("no")

    async def sleep(self, seconds):
        await asyncio.sleep(seconds)


async def _campaign_event(db, url: str) -> None:
    _cid, contact = await campaign_with_contact(db, url)
    await finish_contact(db, contact, outcome="paid")


async def test_rebinding_dns_never_reaches_the_loopback_listener(db, api_settings, receiver, monkeypatch):
    api_settings.webhook_allow_private = False
    port = int(receiver.url.rsplit(":", 1)[1])
    dns = RebindingDns("hooks.attacker.example")
    network = NoInternet()
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    monkeypatch.setattr(destinations, "NETWORK", network)

    # Control: the unpinned way (check, then let httpx look the name up again) is reached by the attack.
    await destinations.check_resolved(f"http://hooks.attacker.example:{port}/hook")
    async with httpx.AsyncClient(timeout=5, trust_env=False) as plain:
        await plain.post(f"http://hooks.attacker.example:{port}/hook", content=b"{}")
    assert len(receiver.requests) == 1
    receiver.requests.clear()

    dns.asked = 0
    await _campaign_event(db, f"http://hooks.attacker.example:{port}/hook")
    await run_outbox(db, api_settings)
    assert receiver.requests == []  # the loopback listener heard nothing
    assert dns.asked == 1  # one DNS question per delivery
    assert network.tried == [(PUBLIC, port)]  # the checked address, and only it
    async with db.session() as s:
        status, attempts = (await s.execute(text("SELECT status, attempts FROM webhook_outbox"))).one()
    assert (status, attempts) == ("pending", 1)  # an unreachable public receiver is retried later


async def test_a_name_resolving_to_loopback_fails_the_event_at_once(db, api_settings, receiver, monkeypatch):
    api_settings.webhook_allow_private = False
    port = int(receiver.url.rsplit(":", 1)[1])
    monkeypatch.setattr(socket, "getaddrinfo", RebindingDns("hooks.attacker.example", first="127.0.0.1"))
    await _campaign_event(db, f"http://hooks.attacker.example:{port}/hook")
    await run_outbox(db, api_settings)
    assert receiver.requests == []
    async with db.session() as s:
        status, attempts = (await s.execute(text("SELECT status, attempts FROM webhook_outbox"))).one()
        error = await s.scalar(text("SELECT error FROM webhook_deliveries"))
    assert (status, attempts) == ("failed", 1)  # no 30 retries
    assert "non-public 127.0.0.1" in error


async def test_pinned_connection_keeps_the_host_header(receiver):
    port = int(receiver.url.rsplit(":", 1)[1])
    url = f"http://hooks.example.com:{port}/hook"
    async with destinations.pinned_client(url, "127.0.0.1", timeout=5) as client:
        response = await client.post(url, content=b"{}")
    assert response.status_code == 200
    assert receiver.requests[0].headers["host"] == f"hooks.example.com:{port}"
    async with destinations.pinned_client(url, "127.0.0.1", timeout=5) as client:
        with pytest.raises(httpx.ConnectError, match="pinned"):  # another host never gets a lookup
            await client.post(f"http://other.example.com:{port}/hook", content=b"{}")


def _certificate(tmp_path, name: str) -> tuple[str, str]:
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


async def test_pinned_tls_verifies_the_host_name_not_the_address(tmp_path):
    cert, key = _certificate(tmp_path, "hooks.example.com")
    seen_sni: list[str | None] = []
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    server_ctx.sni_callback = lambda sock, name, ctx: seen_sni.append(name)

    async def answer(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    trust = ssl.create_default_context(cafile=cert)
    try:
        url = f"https://hooks.example.com:{port}/hook"
        async with destinations.pinned_client(url, "127.0.0.1", timeout=5, verify=trust) as client:
            assert (await client.post(url, content=b"{}")).status_code == 204
        assert seen_sni == ["hooks.example.com"]
        wrong = (
            f"https://evil.example.com:{port}/hook"  # pinned to the same address, certificate is not theirs
        )
        async with destinations.pinned_client(wrong, "127.0.0.1", timeout=5, verify=trust) as client:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED|certificate"):
                await client.post(wrong, content=b"{}")
    finally:
        server.close()
        await server.wait_closed()
