"""The HTTP application: health, the /api/v1 routers; the web UI mounts here too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from voicebot import __version__
from voicebot.api import (
    admin,
    analytics,
    campaigns,
    company,
    messenger,
    monitoring,
    office,
    outages,
    recordings,
    results,
    simulations,
)
from voicebot.api.access import FailureLimiter, KeyRateLimiter
from voicebot.api.concurrency import ConcurrencyLimit
from voicebot.api.docs import install_docs
from voicebot.api.errors import document_errors, install_error_handlers
from voicebot.api.headers import SecurityHeaders
from voicebot.api.limits import BodyLimit
from voicebot.api.schemas import document_responses
from voicebot.db.lifecycle import open_database
from voicebot.db.session import Database
from voicebot.health import Health
from voicebot.security.networks import parse_networks
from voicebot.security.ratelimit import ConcurrencyCap
from voicebot.services.simulations import SimulationStore
from voicebot.settings import Settings, get_settings

API_PREFIX = "/api/v1"
UPLOAD_PATHS = (f"{API_PREFIX}/campaigns", f"{API_PREFIX}/campaigns/csv", "/campaigns/new")


ROUTERS = (
    admin.router,
    campaigns.router,
    results.router,
    recordings.router,
    analytics.router,
    simulations.router,
    outages.router,
    company.router,
    office.router,
    messenger.router,
)


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module_router in ROUTERS:
        router.include_router(module_router)
    return router


def api_routes() -> list[tuple[str, str, str]]:
    """(method, full path, route name) of every /api/v1 endpoint: the role matrix test walks these."""
    return sorted(
        (method, API_PREFIX + route.path, route.name)
        for module_router in ROUTERS
        for route in module_router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    )


def _document_security(app: FastAPI) -> None:
    """Declare the two key headers in OpenAPI, so /docs offers "Authorize" and clients see the scheme."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer vb_…"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
            document_errors(schema, API_PREFIX)
            document_responses(schema)
            for path, operations in schema.get("paths", {}).items():
                if path.startswith(API_PREFIX):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}, {"apiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _mount_ui_and_voice(app: FastAPI) -> None:
    """The web UI at / and the browser voice channel at /ws/voice/{scenario} (signed-in users or keys)."""
    from voicebot.calls.websocket import router as voice_router
    from voicebot.max.webhook import router as max_router
    from voicebot.web import mount
    from voicebot.web.voice_access import voice_socket_allowed

    mount(app)
    app.include_router(max_router)
    app.state.voice_socket_allowed = voice_socket_allowed
    app.include_router(voice_router)


def _cheap_endpoint_context(func: Any) -> dict[str, Any]:
    """File, line and name of an endpoint from its code object: no source file read, no tokenizing."""
    code = getattr(func, "__code__", None)
    context: dict[str, Any] = {"function": getattr(func, "__name__", "?")}
    if code is not None:
        context.update(file=code.co_filename, line=code.co_firstlineno)
    return context


def _keep_first_requests_cheap() -> None:
    """FastAPI reads and tokenizes each endpoint's source file on its first request (for error messages):
    seconds of CPU on the event loop when a burst first hits many endpoints, while live calls share that
    loop (measured with `voicebot bench isolation`). The code object already knows file and line."""
    from fastapi import routing

    if hasattr(routing, "_extract_endpoint_context"):
        routing._extract_endpoint_context = _cheap_endpoint_context  # type: ignore[attr-defined]


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    voice_engine: Any = None,
    telephony_health: Any = None,
    call_cards: Any = None,
    max_service: Any = None,
    health: Health | None = None,
    voice_link: Any = None,
) -> FastAPI:
    """`database` given: use it as is (`voicebot.runtime`, tests); otherwise open (and maybe start and
    migrate) one. `voice_engine` runs the browser voice channel; without one it answers "unavailable".
    `telephony_health` (voicebot.services.doctor.TelephonyHealth): its problems show on /healthz and in the UI.
    `call_cards` (voicebot.services.callcard.CardHub): call cards pushed to operators' pages.
    `health`: the runtime's dependency probes (/healthz); the database probe is added here.
    `voice_link` (voicebot.services.voicelink.VoiceLink): the voice process when `serve` runs it apart;
    /metrics adds its metrics and the live view its line use."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if database is not None:
            app.state.db = database
            yield
            return
        async with open_database(settings) as db:
            app.state.db = db
            app.state.health.register("database", monitoring.database_probe(db))
            yield

    app = FastAPI(
        title="voicebot",
        version=__version__,
        description="Virtual telephone operator for housing companies: campaigns, calls, analytics.",
        lifespan=lifespan,
        docs_url=None,  # served from local files by install_docs: /docs works offline
        redoc_url=None,
    )
    install_docs(app)
    app.state.settings = settings
    app.state.voice_engine = voice_engine
    app.state.telephony_health = telephony_health
    app.state.call_cards = call_cards
    app.state.max_service = max_service  # the MAX bot; its webhook route and outage posts use it
    app.state.voice_link = voice_link
    app.state.health = health or Health()
    if database is not None:  # usable without running the lifespan (tests with ASGITransport)
        app.state.db = database
        app.state.health.register("database", monitoring.database_probe(database))
    app.state.auth_limiter = FailureLimiter(settings.api_auth_max_failures, settings.api_auth_block_seconds)
    app.state.key_limiter = KeyRateLimiter(settings.api_rate_per_minute)
    app.state.web_limiter = KeyRateLimiter(settings.web_rate_per_minute)
    app.state.voice_socket_rate = KeyRateLimiter(settings.voice_sockets_per_minute)
    app.state.voice_socket_cap = ConcurrencyCap(settings.voice_sockets_per_user)
    app.state.trusted_proxies = parse_networks(settings.trusted_proxies)
    app.state.simulations = SimulationStore(
        settings.simulation_idle_seconds, settings.simulation_max, settings.simulation_max_per_key
    )
    install_error_handlers(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        ConcurrencyLimit, general=settings.api_max_concurrent, heavy=settings.api_max_concurrent_exports
    )
    app.add_middleware(
        BodyLimit,
        default=settings.api_max_body_bytes,
        uploads=settings.api_max_upload_bytes,
        upload_paths=UPLOAD_PATHS,
    )
    app.include_router(api_router())
    app.include_router(monitoring.router)
    _document_security(app)
    _mount_ui_and_voice(app)
    _keep_first_requests_cheap()

    return app
