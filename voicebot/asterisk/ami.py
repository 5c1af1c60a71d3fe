"""Asyncio client for the Asterisk Manager Interface (AMI).

Why our own client and not panoramisk 1.4: the protocol is a few dozen lines of framing (see
``ami_protocol``), while panoramisk's last release (2021) swallows the ``OriginateResponse`` event inside
the Originate action so event handlers never see it, resolves Originate to an untyped list, and has no
typed login failure. Working around that would mean re-implementing action matching anyway. Tests in
``tests/asterisk/test_ami*.py`` drive this client against an emulator that reproduces the wire format
captured from Asterisk 22.10.1 (``PROTOCOLS.md`` §2).

What it does: connect, check the banner, Login (``AuthenticationFailed`` on refusal, secret never
logged), match responses to actions by ``ActionID`` (``EventList: start`` responses collect their events
until the ``...Complete`` event), deliver every event — ``OriginateResponse`` included — to handlers,
keep the link alive with Ping, and reconnect with capped, jittered exponential backoff when it drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from voicebot.asterisk.ami_originate import (
    OriginateOutcome,
    OriginateRequest,
    OriginateResult,
)
from voicebot.asterisk.ami_protocol import (
    AMIActionError,
    AMIConnectionLost,
    AMIError,
    AMIMessage,
    AMIProtocolError,
    AuthenticationFailed,
    Fields,
    read_banner,
    read_message,
)
from voicebot.retry import Backoff

logger = logging.getLogger(__name__)

EventHandler = Callable[[AMIMessage], Awaitable[None] | None]

__all__ = [
    "AMIActionError",
    "AMIClient",
    "AMIConnectionLost",
    "AMIError",
    "AMIMessage",
    "AMIProtocolError",
    "AMIResponse",
    "AuthenticationFailed",
    "Backoff",
    "OriginateCall",
    "OriginateOutcome",
    "OriginateRequest",
    "OriginateResult",
]


@dataclass(frozen=True)
class AMIResponse:
    """A response and, for list actions (``EventList: start``), the events that followed it."""

    message: AMIMessage
    events: list[AMIMessage] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return (self.message.response or "").lower() == "success"

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.message.get(key, default)


@dataclass
class _Pending:
    action: str
    future: asyncio.Future[AMIResponse]
    response: AMIMessage | None = None
    events: list[AMIMessage] = field(default_factory=list)


class OriginateCall:
    """A queued Originate; ``await call.wait()`` gives its outcome."""

    def __init__(self, request: OriginateRequest, action_id: str, future: asyncio.Future[OriginateOutcome]):
        self.request = request
        self.action_id = action_id
        self.call_id = request.call_id
        self._future = future

    @property
    def done(self) -> bool:
        return self._future.done()

    async def wait(self) -> OriginateOutcome:
        """The outcome; bound the wait with ``asyncio.timeout()`` if needed (the call keeps running)."""
        return await asyncio.shield(self._future)


class AMIClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        events: str = "on",
        connect_timeout: float = 5.0,
        action_timeout: float = 10.0,
        ping_interval: float = 20.0,
        originate_grace: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.host, self.port, self.username = host, port, username
        self._secret = secret
        self._events = events
        self._connect_timeout = connect_timeout
        self._action_timeout = action_timeout
        self._ping_interval = ping_interval
        self._originate_grace = originate_grace
        self._backoff = backoff or Backoff()
        self._id_prefix = f"vb-{secrets.token_hex(3)}"
        self._ids = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._originates: dict[str, tuple[OriginateRequest, asyncio.Future[OriginateOutcome]]] = {}
        self._handlers: dict[str, list[EventHandler]] = {}
        self._catch_all: list[EventHandler] = []
        self._originate_listeners: list[Callable[[str, str], None]] = []
        self._handler_tasks: set[asyncio.Task[None]] = set()
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._ping_task: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self.banner: str | None = None
        self.connections = 0  # successful logins so far; lets callers notice reconnects

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def connect(self) -> None:
        """Connect and log in once; afterwards the client reconnects by itself until ``close()``."""
        self._closing = False
        await self._open_session()
        self._supervisor = asyncio.create_task(self._supervise(), name="ami-supervisor")

    async def close(self) -> None:
        self._closing = True
        if self._writer is not None and self.connected:
            with contextlib.suppress(AMIError, asyncio.TimeoutError, OSError):
                await self.action("Logoff", response_timeout=1.0, check=False)
        for task in (self._supervisor, self._ping_task):
            if task is not None:
                task.cancel()
        self._drop_transport()
        for task in (self._supervisor, self._ping_task, self._reader_task):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._fail_pending(AMIConnectionLost("client closed"))
        for action_id in list(self._originates):
            self._originate_expired(action_id)

    async def __aenter__(self) -> AMIClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _open_session(self) -> None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self._connect_timeout
        )
        try:
            self.banner = await asyncio.wait_for(read_banner(reader), self._connect_timeout)
            self._writer = writer
            self._reader_task = asyncio.create_task(self._read_loop(reader), name="ami-reader")
            await self._login()
        except BaseException:
            self._drop_transport()
            writer.transport.abort()  # also when the banner never came and the writer was not kept
            raise
        self.connections += 1
        self._backoff.reset()
        self._connected.set()
        self._ping_task = asyncio.create_task(self._ping_loop(), name="ami-ping")
        logger.info("AMI connected", extra={"ami_host": self.host, "ami_port": self.port})

    async def _login(self) -> None:
        fields = {"Username": self.username, "Secret": self._secret, "Events": self._events}
        try:
            await self.action("Login", fields, response_timeout=self._connect_timeout + 2.0)
        except AMIActionError as exc:
            logger.error("AMI login refused", extra={"ami_user": self.username})
            raise AuthenticationFailed(f"AMI login refused for user {self.username!r}") from exc

    async def _supervise(self) -> None:
        while not self._closing:
            if self._reader_task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._reader_task
            if self._closing:
                return
            await self._reconnect()

    async def _reconnect(self) -> None:
        while not self._closing:
            delay = self._backoff.next_delay()
            logger.warning("AMI reconnecting", extra={"ami_host": self.host, "delay_s": round(delay, 3)})
            await asyncio.sleep(delay)
            try:
                await self._open_session()
                return
            except AuthenticationFailed:
                continue  # the password may be fixed on the Asterisk side; keep trying at the capped pace
            except (TimeoutError, OSError, AMIError) as exc:
                logger.warning("AMI reconnect failed", extra={"error": repr(exc)})

    def _drop_transport(self) -> None:
        self._connected.clear()
        if self._ping_task is not None and self._ping_task is not asyncio.current_task():
            self._ping_task.cancel()
        if self._writer is not None:
            self._writer.transport.abort()
            self._writer = None

    # --- reading ------------------------------------------------------------------------------
    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                message = await read_message(reader)
                if message is None:
                    break
                self._dispatch(message)
        except (AMIError, OSError) as exc:
            logger.warning("AMI read failed", extra={"error": repr(exc)})
        finally:
            if not self._closing:
                logger.warning("AMI connection lost", extra={"ami_host": self.host})
            self._drop_transport()
            self._fail_pending(AMIConnectionLost("AMI connection lost"))

    def _dispatch(self, message: AMIMessage) -> None:
        if message.response is not None and message.event is None:
            self._on_response(message)
            return
        if message.event is None:
            logger.debug("AMI message without Response or Event", extra={"ami_message": repr(message)})
            return
        self._collect_list_event(message)
        if message.event.lower() == "originateresponse":
            self._on_originate_response(message)
        self._deliver(message)

    def _on_response(self, message: AMIMessage) -> None:
        pending = self._pending.get(message.action_id or "")
        if pending is None:
            logger.debug("AMI response for unknown ActionID", extra={"action_id": message.action_id})
            return
        is_list = (message.get("EventList") or "").lower() == "start"
        if is_list and (message.response or "").lower() == "success":
            pending.response = message
            return
        self._complete(message.action_id or "", AMIResponse(message))

    def _collect_list_event(self, event: AMIMessage) -> None:
        action_id = event.action_id or ""
        pending = self._pending.get(action_id)
        if pending is None or pending.response is None:
            return
        if (event.get("EventList") or "").lower() == "complete" or (event.event or "").endswith("Complete"):
            self._complete(action_id, AMIResponse(pending.response, pending.events))
        else:
            pending.events.append(event)

    def _complete(self, action_id: str, response: AMIResponse) -> None:
        pending = self._pending.pop(action_id)
        if not pending.future.done():
            pending.future.set_result(response)

    def _fail_pending(self, error: AMIError) -> None:
        pending, self._pending = self._pending, {}
        for item in pending.values():
            if not item.future.done():
                item.future.set_exception(error)

    def _deliver(self, event: AMIMessage) -> None:
        name = (event.event or "").lower()
        for handler in (*self._handlers.get(name, ()), *self._catch_all):
            try:
                result = handler(event)
            except Exception:
                logger.exception("AMI event handler failed", extra={"ami_event": event.event})
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._handler_tasks.add(task)
                task.add_done_callback(self._handler_done)

    def _handler_done(self, task: asyncio.Future[None]) -> None:
        self._handler_tasks.discard(task)  # type: ignore[arg-type]
        if not task.cancelled() and task.exception() is not None:
            logger.error("AMI event handler failed", exc_info=task.exception())

    # --- events -------------------------------------------------------------------------------
    def on(self, event: str, handler: EventHandler) -> Callable[[], None]:
        """Call ``handler`` (plain or async) for each event named ``event``; returns an unsubscribe."""
        handlers = self._handlers.setdefault(event.lower(), [])
        handlers.append(handler)
        return lambda: handlers.remove(handler) if handler in handlers else None

    def on_any(self, handler: EventHandler) -> Callable[[], None]:
        self._catch_all.append(handler)
        return lambda: self._catch_all.remove(handler) if handler in self._catch_all else None

    def on_originate(self, listener: Callable[[str, str], None]) -> None:
        """Call ``listener(action_id, call_id)`` just before each Originate is sent."""
        self._originate_listeners.append(listener)

    # --- actions ------------------------------------------------------------------------------
    def _next_action_id(self) -> str:
        return f"{self._id_prefix}-{next(self._ids)}"

    async def action(
        self,
        name: str,
        fields: Fields | None = None,
        *,
        response_timeout: float | None = None,
        check: bool = True,
    ) -> AMIResponse:
        """Send an action and wait for its response (and its event list, if it starts one).

        ``check`` raises ``AMIActionError`` on ``Response: Error``. ``response_timeout`` (default: the
        client's ``action_timeout``) bounds how long the ActionID stays registered; an abandoned ActionID
        would otherwise leak, so every action has one.
        """
        message = AMIMessage.build(fields or {})
        action_id = message.get("ActionID") or self._next_action_id()
        headers = [(k, v) for k, v in message.headers if k.lower() not in ("action", "actionid")]
        message = AMIMessage([("Action", name), ("ActionID", action_id), *headers])
        response = await self._send(message, action_id, response_timeout)
        if check and not response.success:
            raise AMIActionError(name, response.message)
        return response

    async def _send(self, message: AMIMessage, action_id: str, limit: float | None) -> AMIResponse:
        data = message.encode()  # validates headers before anything is registered
        writer = self._writer
        if writer is None:
            raise AMIConnectionLost("not connected to AMI")
        future: asyncio.Future[AMIResponse] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(message.get("Action") or "", future)
        logger.debug("AMI action", extra={"ami_action": repr(message)})
        try:
            try:
                writer.write(data)
                await writer.drain()
            except (ConnectionError, RuntimeError) as exc:
                raise AMIConnectionLost(f"AMI write failed: {exc!r}") from exc
            return await asyncio.wait_for(future, limit or self._action_timeout)
        finally:
            self._pending.pop(action_id, None)

    async def ping(self) -> AMIResponse:
        return await self.action("Ping")

    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(self._ping_interval)
            try:
                await self.action("Ping", response_timeout=min(self._action_timeout, self._ping_interval))
            except (TimeoutError, AMIError) as exc:
                logger.warning("AMI ping failed; dropping the connection", extra={"error": repr(exc)})
                self._drop_transport()
                return

    async def originate(self, request: OriginateRequest | None = None, /, **kwargs: object) -> OriginateCall:
        """Queue an Originate (always ``Async: true``); returns once Asterisk accepted it.

        Pass an ``OriginateRequest`` or its fields as keyword arguments. ``VOICEBOT_UUID`` carries
        ``call_id``. The outcome arrives later through ``OriginateCall.wait()``; the
        ``OriginateResponse`` event also reaches event handlers.
        """
        req = request or OriginateRequest(**kwargs)  # type: ignore[arg-type]
        action_id = self._next_action_id()
        future: asyncio.Future[OriginateOutcome] = asyncio.get_running_loop().create_future()
        # Registered before sending: the outcome may follow the queued response within a millisecond.
        self._originates[action_id] = (req, future)
        for listener in self._originate_listeners:
            listener(action_id, req.call_id)
        message = AMIMessage(req.fields(action_id))
        try:
            response = await self._send(message, action_id, None)
            if not response.success:
                raise AMIActionError("Originate", response.message)
        except BaseException:
            self._originates.pop(action_id, None)
            raise
        deadline = req.timeout + self._originate_grace
        asyncio.get_running_loop().call_later(deadline, self._originate_expired, action_id)
        logger.info(
            "originate queued",
            extra={"call_id": req.call_id, "action_id": action_id, "channel": req.channel},
        )
        return OriginateCall(req, action_id, future)

    def _on_originate_response(self, event: AMIMessage) -> None:
        entry = self._originates.pop(event.action_id or "", None)
        if entry is None:
            return
        request, future = entry
        outcome = OriginateOutcome.from_event(event, request.call_id)
        logger.info(
            "originate finished",
            extra={"call_id": request.call_id, "result": outcome.result.value, "reason": outcome.reason},
        )
        if not future.done():
            future.set_result(outcome)

    def _originate_expired(self, action_id: str) -> None:
        entry = self._originates.pop(action_id, None)
        if entry is None:
            return
        request, future = entry
        logger.warning("no OriginateResponse before the deadline", extra={"call_id": request.call_id})
        if not future.done():
            future.set_result(OriginateOutcome(OriginateResult.UNKNOWN, request.call_id, action_id))

    async def redirect(
        self,
        channel: str,
        context: str,
        exten: str,
        priority: int | str = 1,
        extra_channel: str | None = None,
        *,
        extra_context: str | None = None,
        extra_exten: str | None = None,
        extra_priority: int | str | None = None,
    ) -> AMIResponse:
        fields: dict[str, object] = {"Channel": channel, "Context": context, "Exten": exten}
        fields["Priority"] = priority
        if extra_channel:
            fields |= {
                "ExtraChannel": extra_channel,
                "ExtraContext": extra_context or context,
                "ExtraExten": extra_exten or exten,
                "ExtraPriority": extra_priority if extra_priority is not None else priority,
            }
        return await self.action("Redirect", fields)  # type: ignore[arg-type]

    async def hangup(self, channel: str, cause: int | None = 16) -> AMIResponse:
        return await self.action("Hangup", {"Channel": channel, "Cause": cause})

    async def getvar(self, variable: str, channel: str | None = None) -> str | None:
        """A channel (or global) variable; ``None`` when unset."""
        response = await self.action("Getvar", {"Channel": channel, "Variable": variable})
        value = response.get("Value")
        return value if value not in (None, "", "(null)") else None

    async def setvar(self, variable: str, value: str, channel: str | None = None) -> AMIResponse:
        return await self.action("Setvar", {"Channel": channel, "Variable": variable, "Value": value})

    async def command(self, command: str, response_timeout: float | None = None) -> list[str]:
        """Run a CLI command; its output lines."""
        response = await self.action("Command", {"Command": command}, response_timeout=response_timeout)
        return response.message.get_all("Output")

    async def list_action(self, name: str, fields: Fields | None = None) -> list[AMIMessage]:
        """The events of an ``EventList`` action such as ``CoreShowChannels``."""
        return (await self.action(name, fields)).events
