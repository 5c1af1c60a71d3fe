"""An AMI server that behaves like Asterisk 22.10.1 on the wire (PROTOCOLS.md §2.1-2.2), for tests.

It speaks CRLF framing with the ``Asterisk Call Manager/11.0.0`` banner, checks Login (a wrong secret is
answered after a delay with ``Authentication failed`` and the socket is closed), and runs Originate with
``Async: true``: the immediate ``Originate successfully queued``, Newchannel events for the channels
(``;1``/``;2`` for ``Local/``, the Originate variables inherited by ``;2``), then after a scripted delay
the outcome (``OriginateResponse`` with a scripted ``Reason``). Tests can inject events, hang channels
up, stall actions, or cut every connection to exercise reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from voicebot.asterisk.modules import REQUIRES

CRLF = "\r\n"
BANNER = "Asterisk Call Manager/11.0.0"
HANGUP_CAUSES = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
    21: "Call Rejected",
    34: "Circuit/channel congestion",
}
DIALPLAN = Path(__file__).resolve().parents[2] / "telephony" / "extensions.conf"
# `core show settings` lines of an Asterisk installed with the standard absolute paths.
DIRECTORIES = {
    "Configuration directory": "/etc/asterisk", "Module directory": "/usr/lib/asterisk/modules",
    "Spool directory": "/var/spool/asterisk", "Log directory": "/var/log/asterisk",
    "Run/Sockets directory": "/var/run/asterisk", "VarLib directory": "/var/lib/asterisk",
    "Data directory": "/var/lib/asterisk",
}  # fmt: skip
# Hangup cause of the dialled leg for each OriginateResponse Reason the emulator can script.
REASON_CAUSE = {1: 21, 3: 19, 5: 17, 8: 34}


@dataclass
class OriginateScript:
    """What happens to an originated call."""

    reason: int = 4  # 4 answered, 5 busy, 3 no answer, 8 congestion, 1 hung up, 0 failure (no channel)
    delay: float = 0.0  # seconds of "ringing" before the outcome
    queue_error: str | None = None  # answer the action with this error instead of queueing it
    hangup_after: float | None = None  # an answered call hangs up by itself after this long (cause 16)
    # Hang-up cause of the dialled channel when not answered; a SIP trunk's "486 Busy Here" is Reason 0
    # with a channel that existed and went down with Cause 17 (PROTOCOLS.md §9).
    cause: int | None = None
    # After answer, [voicebot-outbound] runs AMD(): MACHINE/HUMAN/NOTSURE. MACHINE: the dialplan sends
    # UserEvent VoicebotAMD and hangs up (cause 16) without ever connecting the bot.
    amd: str | None = None


@dataclass
class EmuChannel:
    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    priority: str = "1"
    state: str = "Down"
    variables: dict[str, str] = field(default_factory=dict)
    partner: str | None = None  # the other half of a Local pair

    @property
    def state_code(self) -> str:
        return {"Down": "0", "Ring": "4", "Ringing": "5", "Up": "6"}.get(self.state, "0")


def encode(pairs: Iterable[tuple[str, str]]) -> bytes:
    return ("".join(f"{key}: {value}{CRLF}" for key, value in pairs) + CRLF).encode()


class _Session:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.authenticated = False
        self.events = True

    def send(self, pairs: Iterable[tuple[str, str]]) -> None:
        if not self.writer.is_closing():
            self.writer.write(encode(pairs))


class AMIServerEmulator:
    def __init__(
        self,
        username: str = "voicebot",
        secret: str = "s3cret",
        *,
        auth_fail_delay: float = 1.0,
        channelvars: Sequence[str] = (),
    ) -> None:
        self.username, self.secret = username, secret
        self.auth_fail_delay = auth_fail_delay
        self.channelvars = tuple(channelvars)
        self.originate_scripts: dict[str, OriginateScript] = {}
        self.default_originate = OriginateScript()
        self.command_outputs: dict[str, list[str]] = {
            "core show version": ["Asterisk 22.10.1 built by emulator"]
        }
        self.global_vars: dict[str, str] = {}
        # What the CLI commands over AMI see: loaded modules (default: all of the shipped modules.conf),
        # dialplan contexts (default: those of telephony/extensions.conf), Asterisk's directories.
        self.loaded_modules: set[str] = set(REQUIRES)
        self.contexts: set[str] = set(re.findall(r"^\[([\w-]+)\]", DIALPLAN.read_text(), re.M)) - {
            "general",
            "globals",
        }
        self.directories: dict[str, str] = dict(DIRECTORIES)
        self.command_permitted = True  # False: the AMI user has no `command` write class
        self.channels: dict[str, EmuChannel] = {}
        self.actions: list[list[tuple[str, str]]] = []  # every action received, for assertions
        self.stall_actions: set[str] = set()  # lower-case action names that never get a response
        self.logins = 0
        self.failed_logins = 0
        self._sessions: set[_Session] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._seq = itertools.count(1)
        self._epoch = int(time.time())
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> AMIServerEmulator:
        self._server = await asyncio.start_server(self._serve, host, port or self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop_listening(self) -> None:
        """Refuse new connections (existing ones stay), like an Asterisk being restarted."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def close(self) -> None:
        await self.stop_listening()
        self.drop_connections()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> AMIServerEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def drop_connections(self) -> None:
        """Cut every connection abruptly (RST), as when Asterisk crashes."""
        for session in list(self._sessions):
            session.writer.transport.abort()
        self._sessions.clear()

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    # --- scripted events ----------------------------------------------------------------------
    def inject_event(
        self, name: str, fields: Iterable[tuple[str, str]] = (), privilege: str = "call,all"
    ) -> None:
        pairs = [("Event", name), ("Privilege", privilege), *fields]
        for session in list(self._sessions):
            if session.authenticated and session.events:
                session.send(pairs)

    def hangup_channel(self, name: str, cause: int = 16) -> None:
        """The far end hangs up ``name`` (and its Local partner)."""
        channel = self.channels.get(name)
        if channel is None:
            raise KeyError(name)
        self._hangup(channel, cause)

    def add_channel(
        self,
        name: str,
        variables: dict[str, str] | None = None,
        context: str = "voicebot-route",
        exten: str = "dialogue",
    ) -> EmuChannel:
        """A caller's channel already in the dialplan (e.g. an inbound SIP call after Answer())."""
        uniqueid = f"{self._epoch}.{next(self._seq) * 2}"
        channel = EmuChannel(
            name, uniqueid, uniqueid, context, exten, state="Up", variables=dict(variables or {})
        )
        self.channels[name] = channel
        self.inject_event("Newchannel", self.channel_events(channel))
        return channel

    def run_queue(
        self,
        name: str,
        outcome: str,
        *,
        queue: str = "operators",
        hold: int = 2,
        member: str = "PJSIP/operator1",
    ) -> None:
        """What app_queue reports for the caller on ``name``: QueueCallerJoin, then ``answered``
        (AgentConnect), ``abandoned`` (QueueCallerAbandon, QueueCallerLeave, Hangup) or ``timeout``
        (QueueCallerLeave, then the dialplan's fallback UserEvent VoicebotTransfer)."""
        channel = self.channels[name]
        channel.context, channel.exten = "voicebot-transfer", "operators"
        caller = self.channel_events(channel)
        self.inject_event("QueueCallerJoin", [*caller, ("Queue", queue), ("Position", "1"), ("Count", "1")],
                          "agent,all")  # fmt: skip
        if outcome == "answered":
            agent = EmuChannel(f"{member}-{next(self._seq):08x}", f"{self._epoch}.{next(self._seq) * 2}",
                               channel.linkedid, "from-queue", "s", state="Up")  # fmt: skip
            self.inject_event("AgentConnect", [*caller, *self._prefixed(agent, "Dest"), ("Queue", queue),
                              ("Interface", member), ("MemberName", member), ("HoldTime", str(hold)),
                              ("RingTime", "1")], "agent,all")  # fmt: skip
        elif outcome == "abandoned":
            self.inject_event("QueueCallerAbandon", [*caller, ("Queue", queue), ("Position", "1"),
                              ("OriginalPosition", "1"), ("HoldTime", str(hold))], "agent,all")  # fmt: skip
            self.inject_event("QueueCallerLeave", [*caller, ("Queue", queue), ("Position", "1"), ("Count", "0")],
                              "agent,all")  # fmt: skip
            self._hangup(channel, 16)
        elif outcome == "timeout":
            self.inject_event("QueueCallerLeave", [*caller, ("Queue", queue), ("Position", "1"), ("Count", "0")],
                              "agent,all")  # fmt: skip
            self.user_event(name, "VoicebotTransfer", [("VoicebotUUID", channel.variables.get("VOICEBOT_UUID", "")),
                            ("Status", "fallback"), ("Reason", "TIMEOUT")])  # fmt: skip
        else:
            raise ValueError(outcome)

    def record_voice_message(
        self,
        name: str,
        vm_dir: str,
        seconds: float,
        *,
        data_dir: Path | None = None,
        status: str = "SILENCE",
        reason: str = "",
        callback: str = "",
    ) -> Path:
        """[voicebot-voicemail]: Record() of ``seconds`` of speech into ``vm_dir``, then the ``h``
        extension's UserEvent VoicebotVoiceMessage. Like Asterisk, a relative folder is resolved against
        ``<astdatadir>/sounds/`` (``data_dir``), not where the bot looks. Returns where the file landed."""
        import math
        import struct
        import wave

        channel = self.channels[name]
        stem = f"{vm_dir}/{time.strftime('%Y%m%d-%H%M%S')}-{channel.uniqueid}"
        landed = (
            Path(stem + ".wav")
            if vm_dir.startswith("/")
            else (data_dir or Path("/nonexistent")) / "sounds" / (stem + ".wav")
        )
        landed.parent.mkdir(parents=True, exist_ok=True)
        frames = int(8000 * seconds)
        with wave.open(str(landed), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(struct.pack(f"<{frames}h", *(int(3000 * math.sin(i / 5)) for i in range(frames))))
        self.user_event(name, "VoicebotVoiceMessage", [
            ("Uniqueid", channel.uniqueid), ("Linkedid", channel.linkedid),
            ("VoicebotUUID", channel.variables.get("VOICEBOT_UUID", "")),
            ("CallerIDNum", channel.variables.get("CALLERID(num)", "79161234501")), ("DNID", "74950000000"),
            ("File", stem + ".wav"), ("Status", status), ("Callback", callback), ("Reason", reason),
        ])  # fmt: skip
        return landed

    def user_event(self, name: str, kind: str, fields: list[tuple[str, str]]) -> None:
        """``UserEvent(kind,Key: value,…)`` run by the dialplan on channel ``name``."""
        channel = self.channels[name]
        self.inject_event(
            "UserEvent", [*self.channel_events(channel), ("UserEvent", kind), *fields], "user,all"
        )

    def channel_events(self, channel: EmuChannel) -> list[tuple[str, str]]:
        pairs = [
            ("Channel", channel.name),
            ("ChannelState", channel.state_code),
            ("ChannelStateDesc", channel.state),
            ("CallerIDNum", "<unknown>"),
            ("CallerIDName", "<unknown>"),
            ("ConnectedLineNum", "<unknown>"),
            ("ConnectedLineName", "<unknown>"),
            ("Language", "en"),
            ("AccountCode", ""),
            ("Context", channel.context),
            ("Exten", channel.exten),
            ("Priority", channel.priority),
            ("Uniqueid", channel.uniqueid),
            ("Linkedid", channel.linkedid),
        ]
        pairs += [("ChanVariable", f"{name}={channel.variables.get(name, '')}") for name in self.channelvars]
        return pairs

    # --- connection handling ------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(reader, writer)
        self._sessions.add(session)
        writer.write(f"{BANNER}{CRLF}".encode())
        try:
            while not writer.is_closing():
                request = await self._read_request(reader)
                if request is None:
                    break
                self.actions.append(request)
                if not await self._handle(session, request):
                    break
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._sessions.discard(session)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> list[tuple[str, str]] | None:
        pairs: list[tuple[str, str]] = []
        while True:
            raw = await reader.readline()
            if not raw:
                return None
            line = raw.decode().rstrip("\r\n")
            if not line:
                if pairs:
                    return pairs
                continue
            key, _, value = line.partition(":")
            pairs.append((key.strip(), value.strip()))

    async def _handle(self, session: _Session, request: list[tuple[str, str]]) -> bool:
        fields = _Fields(request)
        action = fields.get("Action").lower()
        head = [("ActionID", fields.get("ActionID"))] if fields.get("ActionID") else []
        if action in self.stall_actions:
            return True
        if not action:
            session.send([("Response", "Error"), *head, ("Message", "Missing action in request")])
            return True
        if action == "login":
            return await self._login(session, fields, head)
        if not session.authenticated:
            session.send([("Response", "Error"), *head, ("Message", "Permission denied")])
            return True
        if action == "logoff":
            session.send([("Response", "Goodbye"), *head, ("Message", "Thanks for all the fish.")])
            return False
        handler = getattr(self, f"_action_{action}", None)
        if handler is None:
            message = f"Invalid/unknown command: {fields.get('Action')}. Use Action: ListCommands to show available commands."
            session.send([("Response", "Error"), *head, ("Message", message)])
            return True
        handler(session, fields, head)
        return True

    async def _login(self, session: _Session, fields: _Fields, head: list[tuple[str, str]]) -> bool:
        if fields.get("Username") != self.username or fields.get("Secret") != self.secret:
            self.failed_logins += 1
            await asyncio.sleep(self.auth_fail_delay)
            session.send([("Response", "Error"), *head, ("Message", "Authentication failed")])
            await session.writer.drain()
            return False
        session.authenticated = True
        session.events = fields.get("Events", "on").lower() != "off"
        self.logins += 1
        session.send([("Response", "Success"), *head, ("Message", "Authentication accepted")])
        if session.events:
            session.send([("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", "12"),
                          ("LastReload", "12"), ("Status", "Fully Booted")])  # fmt: skip
        return True

    # --- actions ------------------------------------------------------------------------------
    def _action_ping(self, session: _Session, fields: _Fields, head: list[tuple[str, str]]) -> None:
        session.send([("Response", "Success"), *head, ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")])

    def _action_command(self, session: _Session, fields: _Fields, head: list[tuple[str, str]]) -> None:
        if not self.command_permitted:
            session.send([("Response", "Error"), *head, ("Message", "Permission denied")])
            return
        command = fields.get("Command")
        output = self.command_outputs.get(command)
        if output is None:
            cli = self._cli(command)
            if cli is not None:
                response = "Success" if cli[0] else "Error"  # CLI_FAILURE -> Response: Error, output kept
                lines = [("Output", line) for line in cli[1]]
                session.send([("Response", response), *head, ("Message", "Command output follows"), *lines])
                return
        if output is None:
            missing = (
                f"No such command '{command}' (type 'core show help {command}' for other possible commands)"
            )
            session.send(
                [("Response", "Error"), *head, ("Message", "Command output follows"), ("Output", missing)]
            )
            return
        lines = [("Output", line) for line in output]
        session.send([("Response", "Success"), *head, ("Message", "Command output follows"), *lines])

    def _cli(self, command: str) -> tuple[bool, list[str]] | None:
        """The CLI commands `voicebot doctor` runs, formatted as main/cli.c, main/pbx.c, main/asterisk.c do."""
        words = command.split()
        if words[:3] == ["module", "show", "like"] and len(words) == 4:
            names = sorted(name for name in self.loaded_modules if words[3].lower() in name.lower())
            lines = [
                f"{'Module':<30} {'Description':<40.40} {'Use Count':<10} {'Status':<11} {'Support Level':>13}"
            ]
            lines += [
                f"{name + '.so':<30} {name:<40.40} {0:<10} {'Running':<11} {'core':>13}" for name in names
            ]
            return True, [*lines, f"{len(names)} modules loaded"]
        if words[:2] == ["dialplan", "show"] and len(words) == 3:
            context = words[2]
            if context not in self.contexts:
                return False, [f"There is no existence of '{context}' context"]
            return True, [f"[ Context '{context}' created by 'pbx_config' ]",
                          "  's' =>            1. NoOp()                                     [extensions.conf:1]",
                          "", "-= 1 extension (1 priority) in 1 context. =-"]  # fmt: skip
        if command == "core show settings":
            lines = ["", "PBX Core settings", "-----------------", "  Version:                     22.10.1"]
            lines += [f"  {name + ':':<29}{path}" for name, path in self.directories.items()]
            return True, lines
        return None

    def _action_getvar(self, session: _Session, fields: _Fields, head: list[tuple[str, str]]) -> None:
        name = fields.get("Variable")
        scope = self._variables_of(fields.get("Channel"))
        if scope is None:
            session.send([("Response", "Error"), *head, ("Message", "No such channel")])
            return
        session.send([("Response", "Success"), *head, ("Variable", name), ("Value", scope.get(name, ""))])

    def _action_setvar(self, session: _Session, fields: _Fields, head: list[tuple[str, str]]) -> None:
        scope = self._variables_of(fields.get("Channel"))
        if scope is None:
            session.send([("Response", "Error"), *head, ("Message", "No such channel")])
            return
        scope[fields.get("Variable")] = fields.get("Value")
        session.send([("Response", "Success"), *head, ("Message", "Variable Set")])

    def _variables_of(self, channel_name: str) -> dict[str, str] | None:
        if not channel_name:
            return self.global_vars
        channel = self.channels.get(channel_name)
        return channel.variables if channel is not None else None

    def _action_redirect(self, session: _Session, fields: _Fields, head: list[tuple[str, str]]) -> None:
        names = [fields.get("Channel")] + ([fields.get("ExtraChannel")] if fields.get("ExtraChannel") else [])
        if any(name not in self.channels for name in names):
            session.send([("Response", "Error"), *head, ("Message", "No such channel")])
            return
        for prefix, name in zip(("", "Extra"), names, strict=False):
            channel = self.channels[name]
            channel.context = fields.get(f"{prefix}Context")
            channel.exten = fields.get(f"{prefix}Exten")
            channel.priority = fields.get(f"{prefix}Priority") or "1"
        message = "Dual Redirect successful" if len(names) == 2 else "Redirect successful"
        session.send([("Response", "Success"), *head, ("Message", message)])

    def _action_hangup(self, session: _Session, fields: _Fields, head: list[tuple[str, str]]) -> None:
        channel = self.channels.get(fields.get("Channel"))
        if channel is None:
            session.send([("Response", "Error"), *head, ("Message", "No such channel")])
            return
        session.send([("Response", "Success"), *head, ("Message", "Channel Hungup")])
        cause = fields.get("Cause")
        self._hangup(channel, int(cause) if cause.isdigit() else 16)

    def _action_coreshowchannels(
        self, session: _Session, fields: _Fields, head: list[tuple[str, str]]
    ) -> None:
        session.send(
            [("Response", "Success"), *head, ("EventList", "start"), ("Message", "Channels will follow")]
        )
        for channel in self.channels.values():
            session.send([("Event", "CoreShowChannel"), *head, *self.channel_events(channel)])
        session.send([("Event", "CoreShowChannelsComplete"), *head, ("EventList", "Complete"),
                      ("ListItems", str(len(self.channels)))])  # fmt: skip

    def _action_originate(self, session: _Session, fields: _Fields, head: list[tuple[str, str]]) -> None:
        target = fields.get("Channel")
        script = self.originate_scripts.get(target, self.default_originate)
        if script.queue_error:
            session.send([("Response", "Error"), *head, ("Message", script.queue_error)])
            return
        if fields.get("Async").lower() in ("true", "yes", "1"):
            session.send([("Response", "Success"), *head, ("Message", "Originate successfully queued")])
        task = asyncio.create_task(self._run_originate(session, fields, head, script))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- originate simulation -----------------------------------------------------------------
    async def _run_originate(
        self, session: _Session, fields: _Fields, head: list[tuple[str, str]], script: OriginateScript
    ) -> None:
        legs = [] if script.reason == 0 and script.cause is None else self._create_legs(fields)
        await asyncio.sleep(script.delay)
        if script.reason == 4:
            for leg in reversed(legs):
                leg.state = "Up"
                self.inject_event("Newstate", self.channel_events(leg))
            if len(legs) == 2:
                # An Originate has no calling channel: DialEnd carries only the Dest* side (;1).
                self.inject_event("DialEnd", [*self._prefixed(legs[0], "Dest"), ("DialStatus", "ANSWER")])
        else:
            for leg in reversed(legs):
                cause = script.cause if script.cause is not None else REASON_CAUSE.get(script.reason, 0)
                self._hangup(leg, cause, partner=False)
        response = "Success" if script.reason == 4 else "Failure"
        first = legs[0] if legs else None
        where = (
            [("Application", fields.get("Application")), ("Data", fields.get("Data"))]
            if fields.get("Application")
            else [("Context", fields.get("Context")), ("Exten", fields.get("Exten"))]
        )
        self.inject_event("OriginateResponse", [
            *head, ("Response", response), ("Channel", first.name if first else fields.get("Channel")),
            *where, ("Reason", str(script.reason)), ("Uniqueid", first.uniqueid if first else "<null>"),
            ("CallerIDNum", "<unknown>"), ("CallerIDName", "<unknown>"),
        ])  # fmt: skip
        if fields.get("Async").lower() not in ("true", "yes", "1"):
            message = "Originate successfully queued" if script.reason == 4 else "Originate failed"
            session.send(
                [("Response", response if script.reason == 4 else "Error"), *head, ("Message", message)]
            )
        if script.reason == 4 and script.amd and legs:
            await self._run_amd(legs[0], script.amd)
        if script.reason == 4 and script.hangup_after is not None and legs:
            await asyncio.sleep(script.hangup_after)
            if legs[0].name in self.channels:
                self._hangup(legs[-1], 16)

    async def _run_amd(self, leg: EmuChannel, status: str) -> None:
        """[voicebot-outbound]: AMD() on the answered leg, then either the bot (HUMAN) or a hang-up."""
        await asyncio.sleep(0.05)
        leg.variables["VOICEBOT_AMD_STATUS"] = status
        self.inject_event("VarSet", [*self.channel_events(leg), ("Variable", "VOICEBOT_AMD_STATUS"),
                                     ("Value", status)], "dialplan,all")  # fmt: skip
        if status == "MACHINE":
            self.user_event(leg.name, "VoicebotAMD", [("VoicebotUUID", leg.variables.get("VOICEBOT_UUID", "")),
                            ("Status", "MACHINE"), ("Cause", "INITIALSILENCE-2500-2500")])  # fmt: skip
            self._hangup(leg, 16)

    def _create_legs(self, fields: _Fields) -> list[EmuChannel]:
        seq = next(self._seq)
        target = fields.get("Channel")
        first_id = fields.get("ChannelId") or f"{self._epoch}.{seq * 2}"
        context, exten = fields.get("Context"), fields.get("Exten")
        variables = dict(item.partition("=")[::2] for item in fields.get_all("Variable"))
        if target.startswith("Local/"):
            base = f"{target.split('/n')[0]}-{seq:08x}"
            second_id = fields.get("OtherChannelId") or (
                f"{first_id};2" if fields.get("ChannelId") else f"{self._epoch}.{seq * 2 + 1}"
            )
            where = target.split("/", 1)[1].split("/")[0]
            dial_exten, _, dial_context = where.partition("@")
            one = EmuChannel(f"{base};1", first_id, first_id, context, exten, variables=dict(variables))
            two = EmuChannel(f"{base};2", second_id, first_id, dial_context, dial_exten, state="Ring",
                             variables=dict(variables))  # fmt: skip
            one.partner, two.partner = two.name, one.name
            legs = [one, two]
        else:
            legs = [
                EmuChannel(
                    f"{target}-{seq:08x}", first_id, first_id, context, exten, variables=dict(variables)
                )
            ]
        for leg in legs:
            self.channels[leg.name] = leg
            self.inject_event("Newchannel", self.channel_events(leg))
        for leg in legs:
            for name, value in variables.items():
                self.inject_event(
                    "VarSet",
                    [*self.channel_events(leg), ("Variable", name), ("Value", value)],
                    "dialplan,all",
                )
        return legs

    def _prefixed(self, channel: EmuChannel, prefix: str = "") -> list[tuple[str, str]]:
        return [(f"{prefix}{key}", value) for key, value in self.channel_events(channel)]

    def _hangup(self, channel: EmuChannel, cause: int, *, partner: bool = True) -> None:
        if self.channels.pop(channel.name, None) is None:
            return
        text = HANGUP_CAUSES.get(cause, "Unknown")
        self.inject_event(
            "Hangup", [*self.channel_events(channel), ("Cause", str(cause)), ("Cause-txt", text)]
        )
        if partner and channel.partner and channel.partner in self.channels:
            self._hangup(self.channels[channel.partner], 16, partner=False)


class _Fields:
    """Case-insensitive view of a request's headers."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get(self, key: str, default: str = "") -> str:
        for name, value in self.pairs:
            if name.lower() == key.lower():
                return value
        return default

    def get_all(self, key: str) -> list[str]:
        return [value for name, value in self.pairs if name.lower() == key.lower()]
