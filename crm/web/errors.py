"""Error responses: an HTML page for people, a JSON body under /api/, a login redirect for anonymous users."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import ClientException, HTTPException, NotAuthorizedException
from litestar.middleware.csrf import generate_csrf_token
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_500_INTERNAL_SERVER_ERROR
from litestar.utils.scope.state import ScopeState
from sqlalchemy.orm.exc import StaleDataError

from crm.db.engine import is_busy
from crm.web.forms import OWN_MESSAGES
from crm.web.i18n import N_, current_language, gettext, pick_language
from crm.web.templating import is_partial

logger = logging.getLogger("crm")

TITLES = {
    400: N_("Bad request"),
    401: N_("Sign-in required"),
    403: N_("Access denied"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("File too large"),
    422: N_("Invalid data"),
    429: N_("Too many requests"),
    500: N_("Something went wrong"),
}
BUSY = N_("The database is busy with other changes. Nothing was saved: try again in a moment.")
NESTED_TOO_DEEPLY = N_("The JSON body is nested too deeply.")
MESSAGES = {
    403: N_("You do not have permission to see or change this."),
    404: N_("There is nothing at this address, or you may not see it."),
    409: N_("Someone else changed this record after you opened it. Reload to see their changes, then retry."),
    500: N_("An unexpected error occurred. It has been logged; please try again later."),
}


class SafeJsonRequest(Request[Any, Any, Any]):
    """The app's request class: a JSON body nested too deeply to decode is a bad request (400), not a crash."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            # The decoder (msgspec) descends one level of the stack per '[' or '{': some 1,000 levels exhaust it.
            raise ClientException(detail=gettext(NESTED_TOO_DEEPLY)) from None


def wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.startswith("/schema/openapi")


def error_response(
    request: Request[Any, Any, Any], status: int, detail: str | None = None, extra: Any = None
) -> Response[Any]:
    title = gettext(TITLES.get(status, TITLES[500 if status >= 500 else 400]))
    message = detail or _default_message(status, title)
    if wants_json(request):
        body: dict[str, Any] = {"error": {"status": status, "title": title, "detail": message}}
        if extra:
            body["error"]["fields"] = extra
        return Response(body, status_code=status)
    template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
    if is_partial(request):
        # An htmx request swaps the answer into part of the page: the message alone, not a second page.
        template = "errors/_error.html"
    if "user" not in request.scope:
        # Unrouted paths never reach the auth middleware: pick the language from the request itself.
        language = pick_language(
            request.cookies.get("crm_lang"), request.headers.get("accept-language"), "en"
        )
        current_language.set(language)
        title = gettext(TITLES.get(status, TITLES[500 if status >= 500 else 400]))
        message = detail or _default_message(status, title)
    return Template(
        template_name=template,
        context={"status": status, "title": title, "message": message},
        status_code=status,
        cookies=_csrf_cookies(request),
    )


def _csrf_cookies(request: Request[Any, Any, Any]) -> list[Cookie]:
    """Give the page the CSRF token the layout's forms (sign-out) need, as the CSRF middleware does on a page:
    Litestar runs that middleware only on matched routes, so an unrouted path (404, 405) has no token, and the
    header would drop a signed-in user's sign-out button. The cookie is set when the browser has none yet."""
    config = request.app.csrf_config
    state = ScopeState.from_scope(request.scope)
    if config is None or isinstance(state.csrf_token, str):
        return []
    cookie = request.cookies.get(config.cookie_name)
    token = state.csrf_token = cookie or generate_csrf_token(secret=config.secret)
    if cookie:
        return []
    return [
        Cookie(
            key=config.cookie_name,
            value=token,
            path=config.cookie_path,
            secure=config.cookie_secure,
            httponly=config.cookie_httponly,
            samesite=config.cookie_samesite,
            domain=config.cookie_domain,
        )
    ]


def _default_message(status: int, title: str) -> str:
    # gettext("") would answer the catalog's header, not an empty string.
    message = MESSAGES.get(status)
    return gettext(message) if message else title


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotAuthorizedException) and not wants_json(request):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = f"/login?next={quote(here)}"
        if request.headers.get("hx-request") == "true":
            return Response(None, status_code=401, headers={"HX-Redirect": target})
        return Redirect(target)
    detail = exc.detail if exc.detail and exc.detail != _default_detail(exc.status_code) else None
    extra = _own_messages_translated(exc.extra) if isinstance(exc.extra, list | dict) else None
    response = error_response(request, exc.status_code, _public_detail(exc.status_code, detail), extra)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _own_messages_translated(extra: list[Any] | dict[str, Any]) -> list[Any] | dict[str, Any]:
    """Fields failing our own validators read as on the forms: pydantic's "Value error, " prefix off, translated."""
    if isinstance(extra, dict):
        return extra
    fields = []
    for field in extra:
        message = field.get("message") if isinstance(field, dict) else None
        own = message.removeprefix("Value error, ") if isinstance(message, str) else None
        fields.append({**field, "message": gettext(own)} if own in OWN_MESSAGES else field)
    return fields


def stale_data_handler(request: Request[Any, Any, Any], exc: StaleDataError) -> Response[Any]:
    return error_response(request, HTTP_409_CONFLICT)


def database_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Others hold the lock or every connection: the change was not made, and the client may retry."""
    if not is_busy(exc):
        return internal_error_handler(request, exc)
    logger.warning("database busy on %s %s: %s", request.method, request.url.path, exc)
    response = error_response(request, HTTP_409_CONFLICT, gettext(BUSY))
    response.headers["Retry-After"] = "2"
    return response


def out_of_range_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A number too large for the database (e.g. /organisations/99999999999999999999) is bad input, not a crash."""
    return error_response(request, 404 if _is_path_id(request) else 400)


def _is_path_id(request: Request[Any, Any, Any]) -> bool:
    return any(part.isdigit() and len(part) > 9 for part in request.url.path.split("/"))


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, HTTP_500_INTERNAL_SERVER_ERROR)


def _default_detail(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _public_detail(status: int, detail: str | None) -> str | None:
    # Messages of 5xx errors may reveal internals; client errors' details are written for users.
    return None if status >= 500 else detail
