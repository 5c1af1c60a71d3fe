"""`/healthz` (each dependency's state) and `/metrics` (Prometheus text format).

With the voice path in a process of its own (`serve`'s default), `/healthz` has it as the `voice`
dependency and `/metrics` adds its metrics, every sample labelled `process="voice"` or `"http"`
(voicebot.services.voicelink).

Who may read `/metrics` and the details of `/healthz`: with `VOICEBOT_METRICS_TOKEN` set, any client
sending `Authorization: Bearer <token>`; without it, clients in `VOICEBOT_METRICS_ALLOWED_NETWORKS`
(default loopback: a Prometheus or node agent on the same host). The client is the proxy-aware address
(VOICEBOT_TRUSTED_PROXIES): a reverse proxy on the same host does not make the internet "loopback", and a
request through a trusted proxy that names no client is nobody's. Everyone else gets 403 from /metrics
and only `{"status": …}` (with the same status code) from /healthz — enough for a load balancer, nothing
about versions, hosts or what is broken. Metrics name scenarios and counts but never phones or call
contents, yet they still describe the business, so they are not public by default.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from voicebot import __version__, metrics
from voicebot.health import Health, Probe
from voicebot.security.networks import address_allowed, parse_networks
from voicebot.services.clients import remote_address

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
    if not metrics_allowed(request):
        return JSONResponse({"status": status}, status_code=code)
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
    peer = request.client.host if request.client else ""
    address = remote_address(request)
    trusted = getattr(request.app.state, "trusted_proxies", ())
    if address == peer and trusted and address_allowed(peer, trusted):
        return False  # came through the reverse proxy, which named no client: could be anyone
    allowed = getattr(request.app.state, "metrics_networks", None)
    if allowed is None:
        allowed = request.app.state.metrics_networks = parse_networks(
            request.app.state.settings.metrics_allowed_networks
        )
    return address_allowed(address, allowed)


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
