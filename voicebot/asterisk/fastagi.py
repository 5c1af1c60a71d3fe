"""FastAGI server: Asterisk's ``AGI(agi://host:4573/<script>,args…)`` connects here.

Wire format (PROTOCOLS.md §2.3, captured from Asterisk 22.10.1): Asterisk sends ``agi_key: value`` lines
(LF) ended by an empty line; then every command we write (one line) gets one reply line
``200 result=<n>[ (<data>)][ endpos=<n>]``, or ``510`` (unknown command), ``511`` (not permitted on a dead
channel), ``520`` (usage; multi-line ``520-…`` … ``520 End of proper usage.`` on builds with XML docs).
When the channel hangs up Asterisk writes a bare ``HANGUP`` line — after the reply to the command in
progress — and keeps the socket open until we close it.

Why our own server rather than panoramisk's ``Application``: panoramisk 1.4 returns ``HANGUP`` as the
reply of the waiting command (every later reply is then off by one), busy-loops when the peer closes
before the end of the header, and crashes on plain-function routes under Python 3.11. Here a reader task
owns the socket: reply lines go to the waiting command, ``HANGUP`` only flips the channel's hung-up
state, and end-of-stream fails the waiting command instead of spinning.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

from voicebot.logs import logged_failure
from voicebot.security.networks import (
    LOOPBACK_ONLY,
    Network,
    address_allowed,
    parse_networks,
)

logger = logging.getLogger(__name__)

MAX_HEADER_LINES = 200
SECRET_ARG = "secret="  # AGI(agi://host/script,…,secret=${VOICEBOT_AGI_SECRET})
MAX_LINE_BYTES = 8192
_REPLY = re.compile(
    r"^(?P<code>\d{3}) result=(?P<result>\S*)(?: \((?P<data>.*)\))?(?: endpos=(?P<endpos>-?\d+))?$"
)


class AGIError(Exception):
    """Base of FastAGI failures."""


class AGIProtocolError(AGIError):
    """The peer sent something that is not AGI (bad header, unparsable reply)."""


class AGIConnectionClosed(AGIError):
    """Asterisk closed the socket; no more commands can be sent."""


class AGICommandError(AGIError):
    """A command was answered with a 5xx code."""

    def __init__(self, command: str, response: AGIResponse) -> None:
        self.command = command
        self.response = response
        super().__init__(f"{command!r} -> {response.code} {response.text}")


class AGIInvalidCommand(AGICommandError):
    """510: Asterisk does not know the command."""


class AGIDeadChannel(AGICommandError):
    """511: the command is not permitted on a dead (hung-up) channel."""


class AGIUsageError(AGICommandError):
    """520: wrong syntax for the command."""


_ERRORS: dict[int, type[AGICommandError]] = {510: AGIInvalidCommand, 511: AGIDeadChannel, 520: AGIUsageError}


@dataclass(frozen=True)
class AGIResponse:
    code: int
    result: str | None = None  # kept as text: GET DATA digits like "0012" must not lose their zeros
    data: str | None = None
    endpos: int | None = None
    text: str = ""  # the raw reply (all lines joined for a multi-line 520)

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def result_int(self) -> int | None:
        try:
            return int(self.result) if self.result is not None else None
        except ValueError:
            return None

    @classmethod
    def parse(cls, line: str) -> AGIResponse:
        match = _REPLY.match(line)
        if match:
            endpos = match["endpos"]
            return cls(
                int(match["code"]), match["result"], match["data"], int(endpos) if endpos else None, line
            )
        code = line[:3]
        if code.isdigit() and (len(line) == 3 or line[3] in " -"):
            return cls(int(code), text=line)
        raise AGIProtocolError(f"unparsable AGI reply: {line[:120]!r}")


@dataclass(frozen=True)
class AGIRequest:
    """The ``agi_*`` header Asterisk sent when the call entered ``AGI(agi://…)``."""

    variables: Mapping[str, str]
    peer: str = ""
    args: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        numbered = sorted(
            (int(key[8:]), value)
            for key, value in self.variables.items()
            if key.startswith("agi_arg_") and key[8:].isdigit()
        )
        object.__setattr__(self, "args", tuple(value for _, value in numbered))

    def get(self, name: str, default: str = "") -> str:
        """``request.get("callerid")`` reads ``agi_callerid``."""
        return self.variables.get(name if name.startswith("agi_") else f"agi_{name}", default)

    @property
    def network_script(self) -> str:
        return self.get("network_script").strip("/")

    @property
    def channel(self) -> str:
        return self.get("channel")

    @property
    def uniqueid(self) -> str:
        return self.get("uniqueid")

    @property
    def callerid(self) -> str | None:
        return _known(self.get("callerid"))

    @property
    def calleridname(self) -> str | None:
        return _known(self.get("calleridname"))

    @property
    def dnid(self) -> str | None:
        return _known(self.get("dnid"))

    @property
    def rdnis(self) -> str | None:
        return _known(self.get("rdnis"))

    @property
    def extension(self) -> str:
        return self.get("extension")

    @property
    def context(self) -> str:
        return self.get("context")

    @property
    def language(self) -> str:
        return self.get("language")


def _known(value: str) -> str | None:
    return None if value in ("", "unknown") else value


def quote(argument: str) -> str:
    """One AGI argument: double-quoted, with quotes and backslashes escaped."""
    return '"' + argument.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AGIChannel:
    """Commands for one AGI session. Created by the server; a handler receives it."""

    def __init__(
        self, request: AGIRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.request = request
        self._reader, self._writer = reader, writer
        self._replies: asyncio.Queue[AGIResponse | None] = asyncio.Queue()
        self._hungup = asyncio.Event()
        self._closed = False
        self._orphaned = 0  # replies still due to commands whose caller gave up waiting
        self._lock = asyncio.Lock()
        self._reader_task = asyncio.create_task(self._read_replies(), name=f"agi-reader-{request.uniqueid}")

    @property
    def hung_up(self) -> bool:
        return self._hungup.is_set()

    async def wait_hangup(self) -> None:
        await self._hungup.wait()

    async def command(self, line: str, *, check: bool = True) -> AGIResponse:
        """Send one command and wait for its reply. ``check`` raises ``AGICommandError`` on 5xx."""
        if "\n" in line or "\r" in line:
            raise ValueError("an AGI command must be a single line")
        async with self._lock:  # AGI is strictly request/reply: one command in flight
            if self._closed:
                raise AGIConnectionClosed("AGI session is closed")
            logger.debug("AGI command", extra={"agi_command": line, "uniqueid": self.request.uniqueid})
            try:
                self._writer.write(line.encode() + b"\n")
                await self._writer.drain()
            except (ConnectionError, RuntimeError) as exc:
                raise AGIConnectionClosed(f"AGI write failed: {exc!r}") from exc
            response = await self._wait_reply()
        if response is None:
            raise AGIConnectionClosed(f"Asterisk closed the AGI session during {line!r}")
        if check and response.code in _ERRORS:
            raise _ERRORS[response.code](line, response)
        if check and not response.ok:
            raise AGICommandError(line, response)
        return response

    async def _wait_reply(self) -> AGIResponse | None:
        try:
            return await self._replies.get()
        except asyncio.CancelledError:
            # The reply will still come; drop it then, or every later reply would be off by one.
            if self._replies.empty():
                self._orphaned += 1
            elif self._replies.get_nowait() is None:
                self._replies.put_nowait(None)  # keep the end-of-stream marker for the next caller
            raise

    async def _read_replies(self) -> None:
        try:
            while True:
                line = await _read_line(self._reader)
                if line is None:
                    break
                if line == "HANGUP":
                    self._hungup.set()
                    logger.info("AGI channel hung up", extra={"uniqueid": self.request.uniqueid})
                    continue
                reply = await self._read_usage(line) if line.startswith("520-") else AGIResponse.parse(line)
                if self._orphaned:
                    self._orphaned -= 1
                    continue
                self._replies.put_nowait(reply)
        except (AGIError, ConnectionError) as exc:
            logger.warning(
                "AGI session broken", extra={"uniqueid": self.request.uniqueid, "error": repr(exc)}
            )
        finally:
            self._closed = True
            self._replies.put_nowait(None)

    async def _read_usage(self, first: str) -> AGIResponse:
        lines = [first]
        while len(lines) < MAX_HEADER_LINES:
            line = await _read_line(self._reader)
            if line is None:
                break
            lines.append(line)
            if line.startswith("520 "):
                break
        return AGIResponse(520, text="\n".join(lines))

    async def close(self) -> None:
        self._closed = True
        self._writer.close()
        with logged_failure(logger, "waiting for the AGI channel to close"):
            await asyncio.wait_for(self._writer.wait_closed(), 1.0)
        self._reader_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader_task

    # --- helpers ------------------------------------------------------------------------------
    async def answer(self) -> AGIResponse:
        return await self.command("ANSWER")

    async def hangup(self, channel: str | None = None) -> AGIResponse:
        return await self.command(f"HANGUP {quote(channel)}" if channel else "HANGUP")

    async def set_variable(self, name: str, value: str) -> AGIResponse:
        _check_name(name)
        return await self.command(f"SET VARIABLE {name} {quote(value)}")

    async def get_variable(self, name: str) -> str | None:
        """The variable's value, ``None`` when unset."""
        _check_name(name)
        response = await self.command(f"GET VARIABLE {name}")
        return response.data if response.result == "1" else None

    async def get_full_variable(self, expression: str) -> str | None:
        response = await self.command(f"GET FULL VARIABLE {quote(expression)}")
        return response.data if response.result == "1" else None

    async def stream_file(self, filename: str, escape_digits: str = "") -> AGIResponse:
        """Play a sound file; ``result`` is the ASCII code of the digit that stopped it, or 0."""
        return await self.command(f"STREAM FILE {quote(filename)} {quote(escape_digits)}")

    async def verbose(self, message: str, level: int = 1) -> AGIResponse:
        return await self.command(f"VERBOSE {quote(message)} {level}")

    async def exec(self, application: str, *args: str) -> AGIResponse:
        """Run a dialplan application; ``result`` is its return value (-1 when the channel hung up)."""
        _check_name(application)
        return await self.command(
            f"EXEC {application} {quote(','.join(args))}" if args else f"EXEC {application}"
        )

    async def noop(self) -> AGIResponse:
        return await self.command("NOOP")


def _check_name(name: str) -> None:
    if not name or any(ch.isspace() or ch == '"' for ch in name):
        raise ValueError(f"invalid AGI name {name!r}")


async def _read_line(reader: asyncio.StreamReader) -> str | None:
    """One LF-terminated line without its terminator; ``None`` at end of stream."""
    try:
        raw = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            logger.debug("AGI stream ended inside a line", extra={"partial": exc.partial[:80]})
        return None
    except asyncio.LimitOverrunError as exc:
        raise AGIProtocolError("AGI line too long") from exc
    return raw.decode("utf-8", "replace").rstrip("\r\n")


async def read_request(reader: asyncio.StreamReader, peer: str = "") -> AGIRequest:
    """Parse the ``agi_*`` header block. Raises ``AGIProtocolError`` / ``AGIConnectionClosed``."""
    variables: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        line = await _read_line(reader)
        if line is None:
            raise AGIConnectionClosed("connection closed inside the AGI header")
        if not line:
            if not variables:
                raise AGIProtocolError("empty AGI header")
            return AGIRequest(variables, peer)
        key, sep, value = line.partition(":")
        if not sep or not key.startswith("agi_") or not key[4:].replace("_", "").isalnum():
            raise AGIProtocolError(f"not an AGI header line: {line[:80]!r}")
        variables[key] = value[1:] if value.startswith(" ") else value
    raise AGIProtocolError("AGI header too long")


AGIHandler = Callable[[AGIRequest, AGIChannel], Awaitable[None]]


def _is_async_callable(handler: object) -> bool:
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(handler, "__call__", None)  # noqa: B004 - async callable objects count too
    return call is not None and inspect.iscoroutinefunction(call)


class FastAGIServer:
    """Routes each AGI session to the ``async`` handler registered for its ``agi_network_script``."""

    def __init__(
        self,
        routes: Mapping[str, AGIHandler] | None = None,
        *,
        host: str = "0.0.0.0",
        port: int = 4573,
        header_timeout: float = 10.0,
        default: AGIHandler | None = None,
        allowed_networks: str | Iterable[str | Network] = LOOPBACK_ONLY,
        secret: str = "",
    ) -> None:
        self.host, self.port = host, port
        self.networks = parse_networks(allowed_networks)
        self._secret = secret
        self._header_timeout = header_timeout
        self._routes: dict[str, AGIHandler] = {}
        self._default: AGIHandler | None = None
        for path, handler in (routes or {}).items():
            self.route(path, handler)
        if default is not None:
            self.set_default(default)
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()

    def route(self, path: str, handler: AGIHandler) -> None:
        """Serve ``agi://host:port/<path>`` with ``handler(request, channel)``; it must be ``async def``."""
        _require_async(handler)
        self._routes[path.strip("/")] = handler

    def set_default(self, handler: AGIHandler) -> None:
        _require_async(handler)
        self._default = handler

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connect, self.host, self.port, limit=MAX_LINE_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("FastAGI listening", extra={"host": self.host, "port": self.port})

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._sessions):
            task.cancel()
        await asyncio.gather(*self._sessions, return_exceptions=True)

    async def __aenter__(self) -> FastAGIServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._sessions.add(task)
        address = (writer.get_extra_info("peername") or ("?",))[0]
        peer = ":".join(str(part) for part in (writer.get_extra_info("peername") or ())[:2])
        try:
            if address_allowed(str(address), self.networks):
                await self._session(reader, writer, peer)
            else:  # not even the header is read: a foreign peer costs us one accept and one close
                logger.warning("FastAGI connection refused: address not allowed", extra={"peer": peer})
        finally:
            if task is not None:
                self._sessions.discard(task)
            writer.close()
            with logged_failure(logger, "waiting for the AGI connection to close"):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str) -> None:
        try:
            request = await asyncio.wait_for(read_request(reader, peer), self._header_timeout)
        except (AGIError, TimeoutError, ConnectionError) as exc:
            logger.warning("FastAGI session refused", extra={"peer": peer, "error": repr(exc)})
            return
        request = self._authenticated(request)
        if request is None:
            return
        handler = self._routes.get(request.network_script, self._default)
        log = {"uniqueid": request.uniqueid, "script": request.network_script, "agi_channel": request.channel}
        if handler is None:
            logger.warning("FastAGI script has no route", extra=log)
            return
        channel = AGIChannel(request, reader, writer)
        logger.info("FastAGI session", extra=log)
        try:
            await handler(request, channel)
        except AGIConnectionClosed:
            logger.info("FastAGI peer closed the session", extra=log)
        except Exception:
            logger.exception("FastAGI handler failed", extra=log)
        finally:
            await channel.close()

    def _authenticated(self, request: AGIRequest) -> AGIRequest | None:
        """The request without its `secret=` argument, or None (logged) when the secret is wrong/missing.

        The dialplan passes the shared secret as an AGI argument; handlers never see it, logs never show it.
        """
        if not self._secret:
            return request
        presented = [v for k, v in request.variables.items() if _is_arg(k) and v.startswith(SECRET_ARG)]
        if len(presented) != 1 or not hmac.compare_digest(
            presented[0][len(SECRET_ARG) :].encode(), self._secret.encode()
        ):
            logger.warning(
                "FastAGI session refused: wrong or missing secret",
                extra={"peer": request.peer, "uniqueid": request.uniqueid},
            )
            return None
        kept = {k: v for k, v in request.variables.items() if not (_is_arg(k) and v.startswith(SECRET_ARG))}
        return AGIRequest(kept, request.peer)


def _is_arg(key: str) -> bool:
    return key.startswith("agi_arg_") and key[8:].isdigit()


def _require_async(handler: object) -> None:
    if not _is_async_callable(handler):
        raise TypeError(
            f"FastAGI handlers must be 'async def' functions taking (request, channel); got {handler!r}"
        )
