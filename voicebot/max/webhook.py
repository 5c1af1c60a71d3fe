"""`POST /max/webhook`: MAX delivers updates here in webhook mode; the secret header must match."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)

router = APIRouter()


def max_service(request: Request) -> Any:
    return getattr(request.app.state, "max_service", None)


@router.post("/max/webhook", include_in_schema=False)
async def max_webhook(request: Request) -> JSONResponse:
    service = max_service(request)
    if service is None or service.mode != "webhook":
        return JSONResponse({"error": "the MAX channel is not in webhook mode"}, status_code=404)
    if not service.secret_ok(request.headers.get("X-Max-Bot-Api-Secret")):
        log.warning(
            "max webhook with a wrong secret", extra={"client": request.client.host if request.client else ""}
        )
        return JSONResponse({"error": "wrong secret"}, status_code=403)
    try:
        update = await request.json()
    except ValueError:
        return JSONResponse({"error": "body is not JSON"}, status_code=400)
    if not isinstance(update, dict):
        return JSONResponse({"error": "an update is a JSON object"}, status_code=400)
    await service.handle_delivery(update)
    return JSONResponse({"ok": True})
