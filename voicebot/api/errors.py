"""The one error format of the API: {"error": {"code", "message", "details"}} for every failure.

`details` is always a list of `ErrorItem`s — {"location", "field", "reason", "code", "allowed"} — empty
when there is nothing to point at. Validation errors name where the bad value is (`location`: body,
query, path, header, cookie; `contacts` for a campaign's contact list, `field` then being its line or
position; `request` for the request as a whole) and what is wrong with it. Whatever a service attaches
to its error (a dict, a contact report, pydantic's errors) is turned into these items here, at the edge.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Literal

from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from voicebot.services.errors import CODES, ServiceError

log = logging.getLogger(__name__)

# Raise anywhere in a handler or a service; becomes the error body with its status.
ApiError = ServiceError


def error_body(status: int, message: str, *, code: str | None = None, details: Any = None) -> dict[str, Any]:
    """The error body every API failure sends (also built by the ASGI middlewares that refuse early)."""
    return {
        "error": {
            "code": code or CODES.get(status, "error"),
            "message": message,
            "details": error_items(details),
        }
    }


def error_response(
    status: int, message: str, *, code: str | None = None, details: Any = None, headers: dict | None = None
) -> JSONResponse:
    return JSONResponse(
        error_body(status, message, code=code, details=details), status_code=status, headers=headers
    )


Location = Literal["body", "query", "path", "header", "cookie", "contacts", "request"]
_LOCATIONS = frozenset(Location.__args__)  # type: ignore[attr-defined]


class ErrorItem(BaseModel):
    """One thing wrong with the request."""

    location: Location = Field(
        description="Where: body, query, path, header, cookie; contacts (a campaign's contact list or CSV "
        "file, `field` = line/position); request (the request as a whole)"
    )
    field: str = Field(
        description="Dotted path of the value inside `location` (contacts.0.phone); '' = all of it"
    )
    reason: str = Field(description="What is wrong with it, for a person")
    code: str = Field(description="Stable machine code: missing, string_too_long, unknown_value, rejected, …")
    allowed: list[str] | None = Field(None, description="The values that would be accepted, when few")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine code: not_found, validation_error, conflict, …")
    message: str = Field(description="What went wrong, for a person")
    details: list[ErrorItem] = Field(
        default_factory=list,
        description="What exactly is wrong, item by item (empty when nothing to point at)",
    )


def _item(location: str, field: str, reason: str, code: str, allowed: Any = None) -> dict[str, Any]:
    return {
        "location": location if location in _LOCATIONS else "request",
        "field": field,
        "reason": reason,
        "code": code,
        "allowed": [str(v) for v in allowed] if isinstance(allowed, list | tuple) else None,
    }


def _expected(entry: dict[str, Any]) -> list[str] | None:
    """The accepted values of a pydantic literal or enum error ("'hour' or 'day'"), else None."""
    if entry.get("type") not in ("literal_error", "enum"):
        return None
    return re.findall(r"'([^']*)'", str((entry.get("ctx") or {}).get("expected", ""))) or None


def error_items(details: Any) -> list[dict[str, Any]]:
    """Any details a service attached, as the fixed list of ErrorItem dicts."""
    if details is None:
        return []
    if isinstance(details, list):
        items = []
        for entry in details:
            if isinstance(entry, dict) and "loc" in entry:  # pydantic / FastAPI validation errors
                loc = [str(p) for p in entry.get("loc") or ()]
                where = loc[0] if loc else "request"
                items.append(
                    _item(
                        where,
                        ".".join(loc[1:]),
                        str(entry.get("msg", "")),
                        str(entry.get("type") or "invalid"),
                        _expected(entry),
                    )
                )
            elif isinstance(entry, dict) and {"location", "reason"} <= set(entry):
                items.append(_item(str(entry["location"]), str(entry.get("field", "")), str(entry["reason"]),
                                   str(entry.get("code") or "invalid"), entry.get("allowed")))  # fmt: skip
            else:
                items.append(_item("request", "", str(entry), "invalid"))
        return items
    if isinstance(details, dict):
        if "rejected" in details:  # a contact report: each rejected line or position
            return [
                _item("contacts", str(r.get("line", "")), str(r.get("reason", "")), "rejected")
                for r in details.get("rejected") or []
                if isinstance(r, dict)
            ]
        if "action" in details:  # a state change the campaign's state does not allow
            return [_item("path", "action", f"not allowed now: {details['action']}", "invalid_state")]
        if "known" in details:
            return [_item("body", "scenario", "unknown scenario", "unknown_value", details["known"])]
        return [_item("request", str(k), str(v), str(k)) for k, v in details.items()]
    return [_item("request", "", str(details), "invalid")]


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
    503: "Busy: too many requests in progress (see Retry-After)",
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
            if path.endswith("/recording"):  # byte ranges
                responses["416"] = {"description": "Range not satisfiable", "content": reference}
    if "HTTPValidationError" not in json.dumps(schema.get("paths", {})):
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)


def _is_json_body_error(request: Request, exc: RequestValidationError) -> bool:
    """A JSON endpoint was sent something else (a form, text): FastAPI reports the body as invalid."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not kind or "json" in kind or request.method not in ("POST", "PUT", "PATCH"):
        return False
    if _takes_form(request):  # a form endpoint (CSV upload): a missing or bad field is a 422
        return False
    return any(tuple(e.get("loc", ()))[:1] == ("body",) for e in exc.errors())


def _takes_form(request: Request) -> bool:
    """The matched route reads form fields or files (multipart), not a JSON body."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    return any(isinstance(p.field_info, params.Form) for p in getattr(dependant, "body_params", ()))


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
        # Pydantic puts the offending input and context objects in; only where, what and why go out.
        return error_response(422, "the request is not valid", details=list(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled API error", extra={"path": request.url.path})
        return error_response(500, "internal error; the incident is logged")
