"""The UI's router and `mount(app)`, which the API application calls once to add the UI and its static files."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from voicebot.web import calls, campaigns, dashboard, login, queues, trybot

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"

router = APIRouter()
for _module in (login, dashboard, calls, campaigns, queues, trybot):
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


def mount(app: FastAPI) -> None:
    """Add the UI routes and /static to `app`; a second call does nothing."""
    if getattr(app.state, "web_mounted", False):
        return
    app.state.web_mounted = True
    app.include_router(router)  # before /static, so the plotly route wins over the static folder
    app.mount("/static", StaticFiles(directory=STATIC), name="ui_static")
    log.debug("web UI mounted")
