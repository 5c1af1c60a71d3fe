"""Who is looking: the session behind a UI request, and which UI areas each role may open."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from voicebot.security.roles import UI_AREAS, ui_allowed
from voicebot.services.keys import Principal
from voicebot.services.web_sessions import session_is_live
from voicebot.web import session as cookies

# UI area → roles that may open it (admin opens everything): derived from the API's table
AREAS = UI_AREAS
# where "/" leads each role, in order of preference
HOME_ORDER = ("dashboard", "calls", "campaigns", "queues", "try")


class LoginRequired(Exception):
    """No valid session: the login page (HTML) or 401 (JSON)."""


class Forbidden(Exception):
    """A valid session whose role may not open the area: the «нет доступа» page."""

    def __init__(self, area: str) -> None:
        super().__init__(area)
        self.area = area


class CsrfFailed(Exception):
    """A POST without the session's token: a 403 page."""


class RateLimited(Exception):
    """The user is over VOICEBOT_WEB_RATE_PER_MINUTE: a Russian 429 page with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class WebUser:
    session: cookies.WebSession

    @property
    def role(self) -> str:
        return self.session.role

    @property
    def name(self) -> str:
        return self.session.name

    @property
    def csrf(self) -> str:
        return self.session.csrf

    @property
    def principal(self) -> Principal:
        return Principal(self.session.key_id, self.session.name, self.session.role)

    def may(self, area: str) -> bool:
        return ui_allowed(area, self.role)

    def home(self) -> str:
        for area in HOME_ORDER:
            if self.may(area):
                return "/" + area
        return "/try"


def secret(request: Request) -> bytes:
    state = request.app.state
    if getattr(state, "ui_secret", None) is None:
        state.ui_secret = cookies.load_secret(state.settings.data_dir)
    return state.ui_secret


async def current_user(request: Request) -> WebUser:
    """FastAPI dependency of every UI page: the session's user, or LoginRequired."""
    session = cookies.decode(secret(request), request.cookies.get(cookies.COOKIE))
    if session is None or not await session_is_live(request.app.state.db, session.csrf, session.key_id):
        raise LoginRequired()
    user = WebUser(session)
    request.state.web_user = user
    limiter = getattr(request.app.state, "web_limiter", None)
    wait = limiter.retry_after(session.key_id) if limiter is not None else 0
    if wait:  # per user (their key), over all their sessions and tabs
        raise RateLimited(wait)
    return user


def require(user: WebUser, area: str) -> WebUser:
    if not user.may(area):
        raise Forbidden(area)
    return user


async def check_csrf(request: Request, user: WebUser, form_token: str | None = None) -> None:
    """POST forms carry the token as a field, scripts as the X-CSRF-Token header."""
    presented = form_token or request.headers.get("x-csrf-token")
    if not cookies.same_token(user.csrf, presented):
        raise CsrfFailed()


def area(name: str):
    """Dependency factory: the user, who must be allowed into the named area."""

    async def dependency(request: Request) -> WebUser:
        return require(await current_user(request), name)

    dependency.area = name  # type: ignore[attr-defined] - read by the role-matrix test
    return dependency
