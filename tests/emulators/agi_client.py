"""A FastAGI peer that behaves like Asterisk 22.10.1 (PROTOCOLS.md §2.3), for tests.

It connects to the server, sends the ``agi_*`` header in Asterisk's order (LF lines, blank line at the
end), then answers each command line with one reply line: ``200 result=…`` for the commands it knows,
``510 Invalid or unknown command``, ``511`` on a dead channel for commands Asterisk forbids there, and
``520`` (one line, or the multi-line form of builds with XML docs) on bad usage. It can hang the channel
up in the middle of a command (the pending reply first, then ``HANGUP``, socket left open until the
server closes it) or drop the connection early.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Commands res_agi still runs after a hangup ("dead AGI"); the rest answer 511.
DEAD_ALLOWED = ("GET VARIABLE", "GET FULL VARIABLE", "SET VARIABLE", "NOOP", "VERBOSE", "EXEC", "DATABASE")
USAGE_MULTILINE = [
    "520-Invalid command syntax.  Proper usage follows:",
    " Usage: GET VARIABLE <variablename>",
    "",
    "520 End of proper usage.",
]
USAGE_SINGLE = "520 Invalid command syntax.  Proper usage not available."
Reply = str | Sequence[str]


def split_args(line: str) -> list[str]:
    """Split a command line like res_agi's parse_args: spaces separate, double quotes group, \\ escapes."""
    args: list[str] = []
    current: list[str] = []
    quoted = escaped = started = False
    for ch in line:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = started = True
        elif ch == '"':
            quoted, started = not quoted, True
        elif ch.isspace() and not quoted:
            if started:
                args.append("".join(current))
                current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        args.append("".join(current))
    return args


@dataclass
class HangupScript:
    """Hang up while handling the first command that starts with ``on`` (upper case)."""

    on: str
    pending_reply: str = "200 result=-1"
    delay: float = 0.0


@dataclass
class AGIClientEmulator:
    host: str
    port: int
    script: str = "inbound"
    args: Sequence[str] = ()
    channel: str = "PJSIP/trunk-00000007"
    uniqueid: str = "1795316510.28"
    callerid: str = "79161234567"
    calleridname: str = "unknown"
    dnid: str = "74951234567"
    context: str = "voicebot-inbound"
    extension: str = "74951234567"
    usage_multiline: bool = False
    variables: dict[str, str] = field(default_factory=dict)
    replies: dict[str, Reply | Callable[[str], Reply]] = field(default_factory=dict)  # by command prefix
    hangup: HangupScript | None = None
    commands: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    dead: bool = False
    closed_by_server: bool = False
    server_closed_after: float | None = None  # seconds from HANGUP to the server closing the socket
    source: str | None = None  # local address to connect from (e.g. 127.0.0.2: a foreign peer on loopback)

    def header_lines(self) -> list[str]:
        request = f"agi://{self.host}:{self.port}/{self.script}"
        lines = [
            ("agi_network", "yes"),
            ("agi_network_script", self.script),
            ("agi_request", request),
            ("agi_channel", self.channel),
            ("agi_language", "ru"),
            ("agi_type", self.channel.split("/", 1)[0]),
            ("agi_uniqueid", self.uniqueid),
            ("agi_version", "22.10.1"),
            ("agi_callerid", self.callerid),
            ("agi_calleridname", self.calleridname),
            ("agi_callingpres", "0"),
            ("agi_callingani2", "0"),
            ("agi_callington", "0"),
            ("agi_callingtns", "0"),
            ("agi_dnid", self.dnid),
            ("agi_rdnis", "unknown"),
            ("agi_context", self.context),
            ("agi_extension", self.extension),
            ("agi_priority", "2"),
            ("agi_enhanced", "0.0"),
            ("agi_accountcode", ""),
            ("agi_threadid", "139963694405312"),
        ]
        lines += [(f"agi_arg_{i}", arg) for i, arg in enumerate(self.args, start=1)]
        # Asterisk writes "agi_accountcode: " with a trailing space when the value is empty.
        return [f"{key}: {value}" for key, value in lines]

    # --- sessions -----------------------------------------------------------------------------
    async def run(
        self, *, header: Sequence[str] | bytes | None = None, close_after_header: bool = False
    ) -> None:
        """One AGI session: send the header, answer commands until the server closes the socket."""
        local = (self.source, 0) if self.source else None
        reader, writer = await asyncio.open_connection(self.host, self.port, local_addr=local)
        try:
            if isinstance(header, bytes):
                writer.write(header)
            else:
                lines = self.header_lines() if header is None else list(header)
                writer.write(("".join(f"{line}\n" for line in lines) + "\n").encode())
            await writer.drain()
            if close_after_header:
                return
            await self._answer_commands(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def close_early(self, header_lines: int = 3) -> None:
        """Send part of the header and close, as Asterisk does when the call dies during connect."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write("".join(f"{line}\n" for line in self.header_lines()[:header_lines]).encode())
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def _answer_commands(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hung_up_at: float | None = None
        while True:
            raw = await reader.readline()
            if not raw:
                self.closed_by_server = True
                if hung_up_at is not None:
                    self.server_closed_after = time.monotonic() - hung_up_at
                return
            command = raw.decode().rstrip("\n")
            self.commands.append(command)
            script = self.hangup
            if script is not None and not self.dead and command.upper().startswith(script.on):
                await asyncio.sleep(script.delay)
                self._send(writer, [script.pending_reply, "HANGUP"])
                self.dead, hung_up_at = True, time.monotonic()
            else:
                self._send(writer, self.reply(command))
                if command.upper().split()[:1] == ["HANGUP"] and not self.dead:
                    self._send(writer, ["HANGUP"])
                    self.dead, hung_up_at = True, time.monotonic()
            await writer.drain()

    def _send(self, writer: asyncio.StreamWriter, lines: Reply) -> None:
        lines = [lines] if isinstance(lines, str) else list(lines)
        self.sent += lines
        writer.write("".join(f"{line}\n" for line in lines).encode())

    # --- replies ------------------------------------------------------------------------------
    def reply(self, command: str) -> Reply:
        upper = command.upper()
        for prefix, reply in self.replies.items():
            if upper.startswith(prefix.upper()):
                return reply(command) if callable(reply) else reply
        args = split_args(command)
        words = [arg.upper() for arg in args]
        name, rest = self._command_name(words), args
        if name is None:
            return "510 Invalid or unknown command"
        rest = args[len(name.split()) :]
        if self.dead and not name.startswith(DEAD_ALLOWED):
            return "511 Command Not Permitted on a dead channel or intercept routine"
        return self._builtin(name, rest)

    @staticmethod
    def _command_name(words: list[str]) -> str | None:
        known = ["ANSWER", "GET FULL VARIABLE", "GET VARIABLE", "SET VARIABLE", "NOOP", "VERBOSE",
                 "STREAM FILE", "EXEC", "HANGUP", "WAIT FOR DIGIT"]  # fmt: skip
        for name in known:
            if words[: len(name.split())] == name.split():
                return name
        return None

    def _builtin(self, name: str, args: list[str]) -> Reply:
        usage = USAGE_MULTILINE if self.usage_multiline else USAGE_SINGLE
        if name in ("ANSWER", "NOOP"):
            return "200 result=0"
        if name == "VERBOSE":
            return "200 result=1" if args else usage
        if name == "HANGUP":
            return "200 result=1"
        if name in ("GET VARIABLE", "GET FULL VARIABLE"):
            if len(args) != 1:
                return usage
            key = args[0][2:-1] if args[0].startswith("${") and args[0].endswith("}") else args[0]
            value = self._variable(key)
            return "200 result=0" if value is None else f"200 result=1 ({value})"
        if name == "SET VARIABLE":
            if len(args) != 2:
                return usage
            self.variables[args[0]] = args[1]
            return "200 result=1"
        if name == "STREAM FILE":
            return "200 result=0 endpos=16000" if len(args) >= 2 else usage
        if name == "WAIT FOR DIGIT":
            return "200 result=0" if args else usage
        return "200 result=0" if args else usage  # EXEC

    def _variable(self, name: str) -> str | None:
        builtins = {"CHANNEL": self.channel, "UNIQUEID": self.uniqueid, "CALLERID(num)": self.callerid}
        return self.variables.get(name, builtins.get(name))
