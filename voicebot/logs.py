"""Structured logging: one JSON object per line, the current call id on every line of a call."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from voicebot.security.masking import PhoneMaskFilter, mask_text

call_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("call_id", default=None)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
_SECRET_WORDS = ("secret", "password", "token", "api_key", "authorization")


def _clean(key: str, value: object) -> object:
    if any(word in key.lower() for word in _SECRET_WORDS):
        return "***"
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class _MaskedTracebacks(logging.Formatter):
    def formatException(self, ei) -> str:  # noqa: ANN001, N802 - logging's names
        # a database error quotes its parameters (phones), a connection error its URL (password)
        return mask_text(super().formatException(ei))


class JsonFormatter(_MaskedTracebacks):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        call_id = call_id_var.get()
        if call_id:
            entry["call_id"] = call_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = _clean(key, value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(_MaskedTracebacks):
    def format(self, record: logging.LogRecord) -> str:
        call_id = call_id_var.get()
        prefix = f"[{call_id[:8]}] " if call_id else ""
        extras = {
            k: _clean(k, v)
            for k, v in record.__dict__.items()
            if k not in _STANDARD and not k.startswith("_")
        }
        tail = " " + " ".join(f"{k}={v}" for k, v in extras.items()) if extras else ""
        line = f"{record.levelname[0]} {record.name}: {prefix}{record.getMessage()}{tail}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(PhoneMaskFilter())  # 152-ФЗ: no full phone number reaches a log line
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request at INFO: the voice link's polls every two seconds, among others
    for noisy in ("pgserver", "alembic.runtime.migration", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextmanager
def logged_failure(
    logger: logging.Logger, what: str, *, level: int = logging.DEBUG, **extra: object
) -> Iterator[None]:
    """For a step whose failure must not stop what comes after it (closing a socket the peer already
    dropped, a best-effort goodbye): the failure is logged with `what` was tried and why it failed,
    never silently swallowed. Use WARNING where someone should look."""
    try:
        yield
    except Exception as exc:
        logger.log(level, "%s failed: %r", what, exc, extra=extra or None)
