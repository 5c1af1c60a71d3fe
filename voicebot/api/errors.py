"""The one error format of the API: {"error": {"code", "message", "details"}} for every failure."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from voicebot.services.errors import CODES, ServiceError

log = logging.getLogger(__name__)

# Raise anywhere in a handler or a service; becomes the error body with its status.
ApiError = ServiceError


def error_response(
    status: int, message: str, *, code: str | None = None, details: Any = None, headers: dict | None = None
) -> JSONResponse:
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine code: not_found, validation_error, conflict, …")
    message: str = Field(description="What went wrong, for a person")
    details: Any = Field(
        None, description="Validation errors: [{loc, msg, type}]; otherwise an object or null"
    )


class ErrorBody(BaseModel):
    """The body of every API error response."""

    error: ErrorDetail


ERROR_STATUSES = {
    400: "Bad request",
    401: "No valid API key",
    403: "The key's role may not do this",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "Unsupported content type (send JSON)",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal error",
}


def document_errors(schema: dict[str, Any], prefix: str) -> None:
    """Every operation under `prefix` lists the error responses with the real body (ErrorBody), replacing
    FastAPI's default 422 schema, which the API never sends."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(body.pop("$defs", {}))
    components["ErrorBody"] = body
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses[str(status)] = {"description": description, "content": reference}
    if "HTTPValidationError" not in json.dumps(schema.get("paths", {})):
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)


def _is_json_body_error(request: Request, exc: RequestValidationError) -> bool:
    """A JSON endpoint was sent something else (a form, text): FastAPI reports the body as invalid."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not kind or "json" in kind or request.method not in ("POST", "PUT", "PATCH"):
        return False
    return any(tuple(e.get("loc", ()))[:1] == ("body",) for e in exc.errors())


def _clean_validation(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Pydantic puts the offending input and context objects in; keep only what a client can act on.
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")} for e in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(
            exc.status, exc.message, code=exc.code, details=exc.details, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if _is_json_body_error(request, exc):
            kind = request.headers.get("content-type", "").split(";")[0]
            return error_response(415, f"send JSON (Content-Type: application/json), not {kind[:60]}")
        return error_response(422, "the request is not valid", details=_clean_validation(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled API error", extra={"path": request.url.path})
        return error_response(500, "internal error; the incident is logged")
