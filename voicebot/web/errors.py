"""UI routes answer every failure in kind: HTML pages for the browser, small JSON for the UI's scripts.

The API's exception handlers answer JSON for the whole app, so UI routes catch their own errors here,
in the route class, before those handlers see them.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from voicebot.services.clients import came_over_https
from voicebot.services.errors import ServiceError
from voicebot.web import session as cookies
from voicebot.web.auth import CsrfFailed, Forbidden, LoginRequired, RateLimited
from voicebot.web.templating import render

log = logging.getLogger(__name__)

TITLES = {
    400: "Неверный запрос",
    401: "Нужно войти",
    403: "Нет доступа",
    404: "Не найдено",
    409: "Действие невозможно",
    413: "Слишком большой файл",
    416: "Неверный диапазон",
    422: "Неверные данные",
    429: "Слишком много попыток",
    500: "Внутренняя ошибка",
}


# What a page says when the service's own message is not in Russian (API messages are English).
FALLBACK_MESSAGES = {
    400: "Запрос не удалось разобрать. Обновите страницу и повторите действие.",
    404: "Такой записи нет: возможно, её удалили или в адресе ошибка.",
    409: "Сейчас это действие невозможно: обновите страницу и посмотрите текущее состояние.",
    413: "Файл или запрос слишком большой.",
    416: "Запрошенный фрагмент записи недоступен.",
    422: "Проверьте введённые данные: некоторые значения неверны.",
}


def russian_message(status: int, message: str) -> str:
    """The message itself when it is Russian, else a Russian one for its status (never an English text)."""
    if re.search("[А-Яа-яЁё]", message or ""):
        return message
    return FALLBACK_MESSAGES.get(status, "Что-то пошло не так. Обновите страницу и повторите действие.")


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.url.path.endswith(".json")


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    title = TITLES.get(status, "Ошибка")
    message = russian_message(status, message)
    if wants_json(request):
        return JSONResponse(
            {"error": {"status": status, "title": title, "message": message}}, status, headers
        )
    response = render(request, "error.html", {"status": status, "title": title, "message": message}, status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def login_page(request: Request, status: int = 401, error: str | None = None) -> Response:
    """The login form with a fresh CSRF token in its own short-lived cookie."""
    if wants_json(request):
        return JSONResponse(
            {"error": {"status": 401, "title": TITLES[401], "message": "сессия истекла"}}, 401
        )
    token = secrets.token_urlsafe(24)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    # after logging in, come back to the page asked for (a form's POST target cannot be revisited)
    next_path = cookies.safe_next(
        request.query_params.get("next") or (here if request.method == "GET" else "/")
    )
    response = render(
        request, "login.html", {"login_token": token, "next": next_path, "error": error}, status
    )
    response.set_cookie(
        cookies.LOGIN_COOKIE,
        token,
        max_age=1800,
        httponly=True,
        samesite="lax",
        secure=came_over_https(request),
        path="/login",
    )
    return response


def _validation_message(exc: RequestValidationError) -> str:
    # pydantic's texts and the fields' code names are English: say it in Russian, say where
    places = {str(error.get("loc", ("",))[0]) for error in exc.errors()}
    where = "в адресе страницы" if places <= {"path", "query"} else "в форме"
    return f"Проверьте введённые данные: некоторые значения {where} неверны."


class UiRoute(APIRoute):
    """An APIRoute whose handler turns login, role, CSRF and API failures into UI answers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return login_page(request)
            except Forbidden:
                return error_page(request, 403, "У вашей роли нет доступа к этому разделу.")
            except CsrfFailed:
                return error_page(request, 403, "Форма устарела: обновите страницу и повторите действие.")
            except RateLimited as exc:
                return error_page(
                    request,
                    429,
                    f"Слишком много запросов подряд. Подождите {exc.retry_after} с и обновите страницу.",
                    {"Retry-After": str(exc.retry_after)},
                )
            except ServiceError as exc:
                return error_page(request, exc.status, exc.message, exc.headers)
            except RequestValidationError as exc:
                return error_page(request, 422, _validation_message(exc))
            except HTTPException as exc:
                return error_page(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))
            except Exception:
                log.exception("web UI page failed", extra={"path": request.url.path})
                return error_page(request, 500, "Что-то пошло не так; ошибка записана в журнал.")

        return guarded
