"""Who may call what: the one table of endpoint → roles, and the dependency that enforces it.

Every route under /api/v1 has a name; a name missing from ACCESS is denied to everyone but admin
(fail closed), and a test checks that the table and the routes agree.
"""

from __future__ import annotations

import time
from collections import deque

from fastapi import Request

from voicebot.api.errors import ApiError
from voicebot.services.clients import presented_key, remote_address
from voicebot.services.keys import Principal, touch_key, verify_key

STAFF = frozenset({"staff"})
OPS = frozenset({"ops"})
SUPERVISOR = frozenset({"supervisor"})
RESULTS = frozenset({"staff", "supervisor"})
EVERYONE = frozenset({"admin", "staff", "ops", "supervisor"})
ADMIN_ONLY: frozenset[str] = frozenset()
DISPATCH = frozenset({"staff", "ops"})

# route name → roles allowed besides admin (admin may call everything)
ACCESS: dict[str, frozenset[str]] = {
    "whoami": EVERYONE,
    # campaigns and their results: staff
    "create_campaign": STAFF,
    "upload_campaign_csv": STAFF,
    "list_campaigns": STAFF,
    "get_campaign": STAFF,
    "start_campaign": STAFF,
    "pause_campaign": STAFF,
    "resume_campaign": STAFF,
    "cancel_campaign": STAFF,
    "campaign_progress": STAFF,
    "campaign_results": STAFF,
    "campaign_results_page": STAFF,
    # what calls wrote: staff works with it, supervisors review it
    "list_readings": RESULTS,
    "list_promises": RESULTS,
    "list_tickets": RESULTS,
    "get_ticket": RESULTS,
    "change_ticket_status": RESULTS,
    "list_nps_answers": RESULTS,
    "list_visits": RESULTS,
    "list_voice_messages": RESULTS,
    "list_callbacks": RESULTS,
    # calls, recordings, transcripts: supervisors
    "list_calls": SUPERVISOR,
    "get_call": SUPERVISOR,
    "get_recording": SUPERVISOR,
    "head_recording": SUPERVISOR,
    "get_transcript": SUPERVISOR,
    # analytics: ops
    "analytics_summary": OPS,
    "analytics_timeseries": OPS,
    # trying scenarios over the text channel: staff
    "create_simulation": STAFF,
    "simulation_turn": STAFF,
    "delete_simulation": STAFF,
    # outages and house chats: dispatchers (staff, ops) declare them; admins map the chats
    "declare_outage": DISPATCH,
    "list_outages": DISPATCH,
    "get_outage": DISPATCH,
    "change_outage": DISPATCH,
    "end_outage": DISPATCH,
    "list_house_chats": DISPATCH,
    "add_house_chat": ADMIN_ONLY,
    "delete_house_chat": ADMIN_ONLY,
    "get_company_card": EVERYONE,
    "start_max_conversation": STAFF,
    # the service centre's schedule and appointments: front-office staff
    "office_day": DISPATCH,
    "add_office_slots": DISPATCH,
    "import_office_slots": DISPATCH,
    "close_office_slot": DISPATCH,
    "book_office_appointment": DISPATCH,
    "change_office_appointment": DISPATCH,
    "put_company_card": ADMIN_ONLY,
    # integration plumbing
    "list_webhook_events": ADMIN_ONLY,
    "retry_webhook_event": ADMIN_ONLY,
    "list_sms": ADMIN_ONLY,
}


def allowed(route_name: str, role: str) -> bool:
    return role == "admin" or role in ACCESS.get(route_name, ADMIN_ONLY)


class FailureLimiter:
    """Counts failed key checks per remote address; too many in the window block the address."""

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}

    def retry_after(self, address: str, now: float | None = None) -> int:
        """Seconds the address must still wait; 0 when it is not blocked."""
        now = time.monotonic() if now is None else now
        until = self._blocked_until.get(address, 0.0)
        if until <= now:
            self._blocked_until.pop(address, None)
            return 0
        return max(1, int(until - now + 0.999))

    def fail(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        failures = self._failures.setdefault(address, deque())
        failures.append(now)
        while failures and failures[0] < now - self.window:
            failures.popleft()
        if len(failures) >= self.max_failures:
            self._blocked_until[address] = now + self.window
            failures.clear()
        if len(self._failures) > 10_000:  # bound memory under a scan from many addresses
            self._failures = {a: f for a, f in self._failures.items() if f}


class KeyRateLimiter:
    """At most `per_minute` requests per API key (a sliding window); beyond it 429 with Retry-After."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[int, deque[float]] = {}

    def retry_after(self, key_id: int, now: float | None = None) -> int:
        """0 and the request counted, or the seconds until the key may call again."""
        if self.per_minute <= 0:
            return 0
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key_id, deque())
        while hits and hits[0] <= now - 60.0:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return max(1, int(hits[0] + 60.0 - now + 0.999))
        hits.append(now)
        return 0


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
