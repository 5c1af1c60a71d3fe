"""The dependency that enforces who may call what (the table itself: voicebot/security/roles.py).

Every route under /api/v1 has a name; a name missing from ACCESS is denied to everyone but admin
(fail closed), and a test checks that the table and the routes agree.
"""

from __future__ import annotations

import time

from fastapi import Request

from voicebot.api.errors import ApiError
from voicebot.security.ratelimit import FailureLimiter, KeyRateLimiter  # noqa: F401 - re-exported
from voicebot.security.roles import (  # noqa: F401 - re-exported: the API's names for the table
    ACCESS,
    ADMIN_ONLY,
    DISPATCH,
    EVERYONE,
    OPS,
    RESULTS,
    STAFF,
    SUPERVISOR,
    TRY,
    allowed,
)
from voicebot.services.clients import presented_key, remote_address
from voicebot.services.keys import Principal, touch_key, verify_key


def _blocked(wait: int) -> ApiError:
    return ApiError(429, "too many failed authentications; retry later", headers={"Retry-After": str(wait)})


_TOUCH_EVERY = 60.0
_touched: dict[int, float] = {}


async def authorize(request: Request) -> Principal:
    """FastAPI dependency on every /api/v1 route: authenticate the key, then check the role table."""
    limiter: FailureLimiter = request.app.state.auth_limiter
    address = remote_address(request)
    key = presented_key(request)
    wait = limiter.retry_after(address)
    if key is None:
        if wait:
            raise _blocked(wait)
        raise ApiError(
            401,
            "an API key is required (Authorization: Bearer or X-API-Key)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    db = request.app.state.db
    # A valid key always gets in, even from a blocked address: a guesser must not lock out its owner
    # (keys carry 256 random bits, so admitting them while blocked tells a guesser nothing).
    principal = await verify_key(db, key)
    if principal is None:
        if wait:
            raise _blocked(wait)
        limiter.fail(address)
        raise ApiError(401, "the API key is not valid", headers={"WWW-Authenticate": "Bearer"})
    busy = request.app.state.key_limiter.retry_after(principal.key_id)
    if busy:
        raise ApiError(
            429, "this API key is over its request rate; retry later", headers={"Retry-After": str(busy)}
        )
    route = request.scope.get("route")
    name = getattr(route, "name", "")
    request.state.principal = principal  # known even when refused below: audits name the key
    if not allowed(name, principal.role):
        raise ApiError(403, f"role {principal.role} may not call {name}")
    now = time.monotonic()
    if now - _touched.get(principal.key_id, -_TOUCH_EVERY) >= _TOUCH_EVERY:
        _touched[principal.key_id] = now
        await touch_key(db, principal.key_id)
    return principal
