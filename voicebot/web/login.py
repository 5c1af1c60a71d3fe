"""Login with an API key, logout, and the home redirect that sends each role to its first page."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from voicebot.services.clients import came_over_https, remote_address
from voicebot.services.keys import verify_key
from voicebot.services.web_sessions import end_session, open_session
from voicebot.web import session as cookies
from voicebot.web.auth import WebUser, check_csrf, current_user, secret
from voicebot.web.errors import UiRoute, error_page, login_page

log = logging.getLogger(__name__)
router = APIRouter(route_class=UiRoute)


_safe_next = cookies.safe_next  # only paths on this site


@router.get("/", name="ui_home", include_in_schema=False)
async def home(user: WebUser = Depends(current_user)) -> Response:
    return RedirectResponse(user.home(), status_code=303)


@router.get("/login", name="ui_login", include_in_schema=False)
async def login_form(request: Request) -> Response:
    return login_page(request, status=200)


@router.post("/login", name="ui_login_submit", include_in_schema=False)
async def login(
    request: Request,
    key: str = Form("", max_length=256),
    login_token: str = Form("", max_length=128),
    next: str = Form("/", max_length=2000),
) -> Response:
    if not cookies.same_token(request.cookies.get(cookies.LOGIN_COOKIE), login_token):
        return login_page(request, 400, "Форма устарела, попробуйте ещё раз.")
    limiter = request.app.state.auth_limiter
    address = remote_address(request)
    wait = limiter.retry_after(address)
    principal = await verify_key(request.app.state.db, key) if key.strip() else None
    if principal is None and wait:  # a valid key still signs in: guessers cannot lock its owner out
        return error_page(request, 429, f"Слишком много неудачных попыток входа. Подождите {wait} с.")
    if principal is None:
        limiter.fail(address)
        log.info("web login failed", extra={"remote": address})
        return login_page(request, 401, "Ключ не подошёл: проверьте, что он скопирован целиком и не отозван.")
    web_session = cookies.new_session(principal.key_id, principal.name, principal.role)
    await open_session(request.app.state.db, web_session.csrf, principal.key_id, web_session.expires)
    target = _safe_next(next)
    if target == "/":
        target = WebUser(web_session).home()
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        cookies.COOKIE,
        cookies.encode(secret(request), web_session),
        max_age=cookies.LIFETIME,
        httponly=True,
        samesite="lax",
        secure=came_over_https(request),
        path="/",
    )
    response.delete_cookie(cookies.LOGIN_COOKIE, path="/login")
    log.info("web login", extra={"key_id": principal.key_id, "role": principal.role})
    return response


@router.post("/logout", name="ui_logout", include_in_schema=False)
async def logout(
    request: Request, csrf: str = Form("", max_length=128), user: WebUser = Depends(current_user)
) -> Response:
    await check_csrf(request, user, csrf)
    await end_session(request.app.state.db, user.csrf)  # the cookie, even if kept, opens nothing now
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(cookies.COOKIE, path="/")
    return response
