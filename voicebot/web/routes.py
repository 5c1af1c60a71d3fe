"""The UI's router and `mount(app)`, which the API application calls once to add the UI and its static files."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from voicebot.logs import logged_failure
from voicebot.web import (
    admin,
    callcards,
    calls,
    campaigns,
    company,
    dashboard,
    live,
    login,
    office,
    outages,
    queues,
    trybot,
)
from voicebot.web.auth import current_user
from voicebot.web.errors import TITLES, error_page, wants_json

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"

router = APIRouter()
for _module in (
    login,
    dashboard,
    live,
    calls,
    campaigns,
    queues,
    outages,
    office,
    company,
    trybot,
    callcards,
    admin,
):
    router.include_router(_module.router)


def plotly_bundle() -> Path | None:
    """plotly.min.js as installed with the `plotly` package: served locally, never from a CDN."""
    try:
        import plotly
    except ImportError:
        return None
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


@router.get("/static/vendor/plotly.min.js", include_in_schema=False)
async def plotly_js() -> Response:
    path = plotly_bundle()
    if path is None:
        return Response("/* plotly is not installed: charts are off */", media_type="text/javascript")
    return FileResponse(
        path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
    )


def _is_api(request: Request) -> bool:
    path = request.url.path
    return (
        path.startswith("/api/") or path in ("/openapi.json", "/healthz", "/metrics") or wants_json(request)
    )


def _html_errors(app: FastAPI) -> None:
    """Unknown URLs and unexpected failures outside /api answer a Russian HTML page; the API keeps JSON."""
    json_http = app.exception_handlers.get(StarletteHTTPException)
    json_crash = app.exception_handlers.get(Exception)

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request) and json_http is not None:
            return await json_http(request, exc)
        messages = {
            404: "Такой страницы нет. Проверьте адрес или вернитесь на главную.",
            405: "Этот адрес не принимает такой запрос.",
        }
        message = messages.get(exc.status_code) or TITLES.get(exc.status_code, "Ошибка")
        with logged_failure(
            log, "reading the session for the error page's menu"
        ):  # signed-in users get the menu
            await current_user(request)
        return error_page(request, exc.status_code, message, getattr(exc, "headers", None))

    async def crash(request: Request, exc: Exception) -> Response:
        if _is_api(request) and json_crash is not None:
            return await json_crash(request, exc)
        log.exception("page failed", extra={"path": request.url.path})
        return error_page(request, 500, "Что-то пошло не так; ошибка записана в журнал.")

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, crash)


def mount(app: FastAPI) -> None:
    """Add the UI routes and /static to `app`; a second call does nothing."""
    if getattr(app.state, "web_mounted", False):
        return
    app.state.web_mounted = True
    app.include_router(router)  # before /static, so the plotly route wins over the static folder
    app.mount("/static", StaticFiles(directory=STATIC), name="ui_static")
    _html_errors(app)
    log.debug("web UI mounted")
