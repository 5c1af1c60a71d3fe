"""The HTTP application: health now; the API routers and the web UI mount here."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from voicebot import __version__
from voicebot.db.lifecycle import open_database
from voicebot.db.session import Database
from voicebot.settings import Settings, get_settings


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """`database` given: use it as is (tests); otherwise open (and maybe start and migrate) one."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if database is not None:
            app.state.db = database
            yield
            return
        async with open_database(settings) as db:
            app.state.db = db
            yield

    app = FastAPI(
        title="voicebot",
        version=__version__,
        description="Virtual telephone operator for housing companies: campaigns, calls, analytics.",
        lifespan=lifespan,
    )
    app.state.settings = settings

    @app.get("/healthz", tags=["health"], summary="Liveness and database health")
    async def healthz(request: Request) -> JSONResponse:
        db: Database = request.app.state.db
        started = time.perf_counter()
        try:
            await db.ping()
        except Exception as exc:  # any failure means "not healthy"; say which
            return JSONResponse(
                {
                    "status": "unavailable",
                    "version": __version__,
                    "database": {"ok": False, "error": type(exc).__name__},
                },
                status_code=503,
            )
        latency = round((time.perf_counter() - started) * 1000, 2)
        return JSONResponse(
            {"status": "ok", "version": __version__, "database": {"ok": True, "latency_ms": latency}}
        )

    return app
