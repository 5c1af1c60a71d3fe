"""Where the database lives: the server named by DATABASE_URL, or an embedded one.

With no DATABASE_URL the service starts PostgreSQL from the `pgserver` wheel in DATA_DIR/pgdata. The
server listens on a Unix socket only. pgserver counts the processes using a data folder and stops the
server when the last one exits, so `serve`, `simulate` and `import` can share it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from voicebot.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_DB_NAME = "voicebot"


def to_asyncpg_url(url: str) -> str:
    """Accept the common spellings of a PostgreSQL URL and return the SQLAlchemy asyncpg form."""
    scheme, rest = url.split("://", 1) if "://" in url else ("", url)
    if scheme not in {
        "postgres",
        "postgresql",
        "postgresql+asyncpg",
        "postgresql+psycopg",
        "postgresql+psycopg2",
    }:
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL (postgresql://...), got scheme {scheme!r}")
    return f"postgresql+asyncpg://{rest}"


def redact(url: str) -> str:
    """The URL with its password replaced, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class EmbeddedPostgres:
    """A pgserver-managed PostgreSQL in a data folder of ours."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pgdata").resolve()
        self._server = None

    def start(self) -> str:
        # pgserver warns when XDG_RUNTIME_DIR is unset and then picks /tmp/runtime-$UID: say so once, quietly.
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.pgdata.parent / "run"))
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
        import pgserver

        self.pgdata.mkdir(parents=True, exist_ok=True)
        log.info("starting embedded PostgreSQL", extra={"pgdata": str(self.pgdata)})
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        exists = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DB_NAME}';")
        if "(1 row)" not in exists:
            self._server.psql(f"CREATE DATABASE {EMBEDDED_DB_NAME};")
        socket_dir = self._server.get_postmaster_info().socket_dir
        return f"postgresql+asyncpg://postgres@/{EMBEDDED_DB_NAME}?host={quote(str(socket_dir))}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def resolve_database_url(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    """The asyncpg URL to use, and the embedded server that serves it (None when external)."""
    if settings.database_url:
        return to_asyncpg_url(settings.database_url), None
    embedded = EmbeddedPostgres(settings.data_dir)
    return embedded.start(), embedded
