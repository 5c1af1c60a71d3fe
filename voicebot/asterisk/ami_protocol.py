"""AMI wire format: messages, their encoding and a reader for an asyncio stream.

An AMI message is a block of ``Key: Value`` lines ended by an empty line, CRLF on the wire. Keys are
case-insensitive and may repeat (``Variable:`` in Originate, ``Output:`` in Command), so a message keeps
its headers as an ordered list of pairs rather than a dict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping, Sequence

BANNER_PREFIX = "Asterisk Call Manager/"
# A generous ceiling: the largest real messages are Command outputs of a few kB.
MAX_MESSAGE_BYTES = 1 << 20
_HIDDEN_KEYS = frozenset({"secret", "key"})

FieldValue = str | int | float | bool | Sequence[str] | None
Fields = Mapping[str, FieldValue] | Iterable[tuple[str, str]]


class AMIError(Exception):
    """Base of every AMI failure."""


class AMIProtocolError(AMIError):
    """The peer does not speak AMI (bad banner, oversized or malformed message)."""


class AMIConnectionLost(AMIError):
    """The connection dropped while an action was waiting for its response."""


class AuthenticationFailed(AMIError):
    """Login was refused. The message never contains the secret."""


class AMIActionError(AMIError):
    """Asterisk answered an action with ``Response: Error``."""

    def __init__(self, action: str, response: AMIMessage) -> None:
        self.action = action
        self.response = response
        super().__init__(f"{action}: {response.get('Message') or 'error'}")


class AMIMessage:
    """One AMI message: ordered, case-insensitive, duplicate-friendly headers."""

    __slots__ = ("headers",)

    def __init__(self, headers: Iterable[tuple[str, str]] = ()) -> None:
        self.headers: list[tuple[str, str]] = list(headers)

    @classmethod
    def build(cls, fields: Fields) -> AMIMessage:
        return cls(_flatten(fields))

    def get(self, key: str, default: str | None = None) -> str | None:
        wanted = key.lower()
        for name, value in self.headers:
            if name.lower() == wanted:
                return value
        return default

    def get_all(self, key: str) -> list[str]:
        wanted = key.lower()
        return [value for name, value in self.headers if name.lower() == wanted]

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.headers)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AMIMessage) and other.headers == self.headers

    def __hash__(self) -> int:  # mutable container semantics, like list
        raise TypeError("AMIMessage is unhashable")

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def variables(self, key: str = "ChanVariable") -> dict[str, str]:
        """``NAME=value`` headers (``ChanVariable`` in events, ``Variable`` in actions) as a dict."""
        result: dict[str, str] = {}
        for item in self.get_all(key):
            name, sep, value = item.partition("=")
            if sep:
                result[name] = value
        return result

    def encode(self) -> bytes:
        lines = []
        for name, value in self.headers:
            _check_header(name, value)
            lines.append(f"{name}: {value}\r\n")
        return ("".join(lines) + "\r\n").encode("utf-8")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={'***' if name.lower() in _HIDDEN_KEYS else value!r}" for name, value in self.headers
        )
        return f"AMIMessage({shown})"


def _flatten(fields: Fields) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    items = fields.items() if isinstance(fields, Mapping) else fields
    for name, value in items:
        if value is None:
            continue
        if isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif isinstance(value, str | int | float):
            pairs.append((name, str(value)))
        else:
            pairs.extend((name, str(item)) for item in value)
    return pairs


def _check_header(name: str, value: str) -> None:
    # A CR or LF inside a value would let data smuggle extra headers or whole actions into the stream.
    if not name or any(ch in name for ch in ":\r\n") or name != name.strip():
        raise ValueError(f"invalid AMI header name {name!r}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"AMI header {name!r} contains a line break")


def parse_line(line: str) -> tuple[str, str]:
    """Split ``Key: Value``. A line without a colon (old ``Response: Follows`` output) becomes ``Output``."""
    name, sep, value = line.partition(":")
    if not sep:
        return "Output", line
    return name.strip(), value[1:] if value.startswith(" ") else value


async def read_banner(reader: asyncio.StreamReader) -> str:
    raw = await reader.readline()
    if not raw:
        raise AMIConnectionLost("connection closed before the AMI banner")
    banner = raw.decode("utf-8", "replace").strip()
    if not banner.startswith(BANNER_PREFIX):
        raise AMIProtocolError(f"not an Asterisk manager banner: {banner[:80]!r}")
    return banner


async def read_message(reader: asyncio.StreamReader) -> AMIMessage | None:
    """Read one message; ``None`` on a clean end of stream between messages."""
    headers: list[tuple[str, str]] = []
    size = 0
    while True:
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial and not headers:
                return None
            raise AMIConnectionLost("connection closed in the middle of a message") from exc
        except asyncio.LimitOverrunError as exc:
            raise AMIProtocolError("AMI line too long") from exc
        size += len(raw)
        if size > MAX_MESSAGE_BYTES:
            raise AMIProtocolError("AMI message too large")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if headers:
                return AMIMessage(headers)
            continue  # stray empty lines between messages are harmless
        headers.append(parse_line(line))
