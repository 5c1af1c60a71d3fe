"""`/healthz` (each dependency's state) and `/metrics` (Prometheus text format).

With the voice path in a process of its own (`serve`'s default), `/healthz` has it as the `voice`
dependency and `/metrics` adds its metrics, every sample labelled `process="voice"` or `"http"`
(voicebot.services.voicelink).

Who may read `/metrics`: with `VOICEBOT_METRICS_TOKEN` set, any client sending
`Authorization: Bearer <token>`; without it, only clients on the loopback interface (a Prometheus or
node agent on the same host). Metrics name scenarios and counts but never phones or call contents,
yet they still describe the business, so they are not public by default.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from voicebot import __version__, metrics
from voicebot.health import Health, Probe

router = APIRouter(tags=["health"])


def database_probe(db: object) -> object:
    async def probe() -> Probe:
        await db.ping()  # type: ignore[attr-defined]
        return Probe(True)

    return probe


@router.get("/healthz", summary="Liveness and the state of each dependency")
async def healthz(request: Request) -> JSONResponse:
    health: Health = request.app.state.health
    status, report = await health.check()
    code = 503 if status == "unavailable" else 200
    body = {"status": status, "version": __version__, **report}
    telephony = getattr(request.app.state, "telephony_health", None)
    if telephony is not None:  # the doctor's own verdict (voicebot.services.doctor), beside the status
        body["telephony"] = telephony.as_dict()
    return JSONResponse(body, status_code=code)


def metrics_allowed(request: Request) -> bool:
    token: str = request.app.state.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/metrics", summary="Prometheus metrics (bearer token or loopback only)", include_in_schema=False)
async def prometheus_metrics(request: Request) -> Response:
    if not metrics_allowed(request):
        return JSONResponse({"detail": "metrics are readable from loopback or with the metrics token"}, 403)
    link = getattr(request.app.state, "voice_link", None)
    if link is None:  # one process: everything is here
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
    # `serve` runs the voice path in its own process: its metrics too, each sample labelled by process
    voice = await link.metrics_text()
    body = metrics.render_merged("http", {"voice": voice} if voice is not None else {})
    return Response(body, media_type=CONTENT_TYPE_LATEST)
