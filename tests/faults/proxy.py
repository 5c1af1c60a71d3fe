"""A TCP proxy between the app and PostgreSQL that a test can cut and restore: a real network outage.

`cut("refuse")` drops every open connection and closes new ones at once (a database that went down);
`cut("blackhole")` drops them and then accepts new ones without ever answering (a network partition:
the client hangs until its own timeout); `cut("reject")` answers each new session the way a running
server does when it will not take one (`ALTER DATABASE … ALLOW_CONNECTIONS false`, a server starting
up or shutting down): a protocol ErrorResponse with SQLSTATE 55000. `restore()` forwards again.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from typing import Literal

Mode = Literal["refuse", "blackhole", "reject"]

_SSL_REQUEST = 80877103
_REJECTION = b"".join(
    code + text.encode() + b"\0"
    for code, text in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", "55000"),
                       (b"M", 'database "voicebot" is not currently accepting connections'))
) + b"\0"  # fmt: skip


class PgProxy:
    """Listens on a free TCP port of 127.0.0.1 and forwards to `target_host:target_port`, or to the Unix
    socket `target_socket` (an embedded server listens on nothing else)."""

    def __init__(self, target_host: str, target_port: int, target_socket: str | None = None) -> None:
        self.target = (target_host, target_port)
        self.target_socket = target_socket
        self.mode: Mode | None = None
        self.server: asyncio.Server | None = None
        self.port = 0
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self.cut("refuse")
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.server.wait_closed(), 5)

    def url_for(self, url: str) -> str:
        """`url` with its host:port pointing at this proxy."""
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        query = {k: v for k, v in parsed.query.items() if k != "host"}  # a socket folder would win
        return parsed.set(host="127.0.0.1", port=self.port, query=query).render_as_string(hide_password=False)

    async def cut(self, mode: Mode = "refuse") -> None:
        self.mode = mode
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._pipes):
            task.cancel()
        if self._pipes:
            await asyncio.wait(set(self._pipes), timeout=5)

    def restore(self) -> None:
        self.mode = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            if self.mode == "refuse":
                writer.transport.abort()
                return
            if self.mode == "blackhole":
                while not reader.at_eof() and self.mode == "blackhole":
                    await reader.read(65536)
                return
            if self.mode == "reject":
                await self._reject(reader, writer)
                return
            if self.target_socket:
                up_reader, up_writer = await asyncio.open_unix_connection(self.target_socket)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            self._writers.add(up_writer)
            pipes = [asyncio.ensure_future(self._pipe(reader, up_writer)),
                     asyncio.ensure_future(self._pipe(up_reader, writer))]  # fmt: skip
            self._pipes.update(pipes)
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            for task in pipes:
                task.cancel()
                self._pipes.discard(task)
            up_writer.transport.abort()
            self._writers.discard(up_writer)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()
            self._writers.discard(writer)

    @staticmethod
    async def _reject(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read the startup packet (declining SSL first if asked) and answer it with a FATAL 55000."""
        while True:
            (length,) = struct.unpack("!i", await reader.readexactly(4))
            body = await reader.readexactly(length - 4)
            if struct.unpack("!i", body[:4])[0] != _SSL_REQUEST:
                break
            writer.write(b"N")
        writer.write(b"E" + struct.pack("!i", len(_REJECTION) + 4) + _REJECTION)
        await writer.drain()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
