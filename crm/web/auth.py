"""Middleware that puts the signed-in user (or None) on every request, via a lookup given at wiring time."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

from crm.web import i18n

Authenticate = Callable[[Scope], Awaitable[Any]]
# Calendar feeds carry their own secret (calendar apps do not sign in): no session lookup for them.
SKIPPED_PREFIXES = ("/static/", "/healthz", "/favicon.ico", "/calendars/")


class SignInUnavailable(Exception):
    """The signed-in user could not be looked up (database unreachable or overloaded): answer 503, since
    serving the request anonymously would tell a signed-in user, or a valid API token, that they are not."""


async def _send_unavailable(scope: Scope, send: Send, default_language: str) -> None:
    # Sent before the request's language is chosen (that needs the user): the cookie or the browser decides.
    headers = _headers(scope)
    cookie_language = cookie_value(headers.get("cookie", ""), "crm_lang")
    language = i18n.pick_language(cookie_language, headers.get("accept-language"), default_language)
    with i18n.in_language(language):
        message = i18n.gettext("Service unavailable, try again shortly.")
    if scope["path"].startswith("/api/"):
        body = json.dumps({"status_code": 503, "detail": message}, separators=(",", ":")).encode()
        content_type = b"application/json"
    else:
        body = message.encode()
        content_type = b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [(b"content-type", content_type), (b"retry-after", b"5")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AuthMiddleware:
    """Sets scope['user'] and the request's language and time zone; refusing is left to route guards."""

    def __init__(
        self, app: ASGIApp, authenticate: Authenticate, default_language: str, default_time_zone: str
    ) -> None:
        self.app = app
        self.authenticate = authenticate
        self.default_language = default_language
        self.default_time_zone = default_time_zone

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(SKIPPED_PREFIXES):
            scope["user"] = None
            await self.app(scope, receive, send)
            return
        try:
            user = await self.authenticate(scope)
        except SignInUnavailable:
            await _send_unavailable(scope, send, self.default_language)
            return
        scope["user"] = user
        headers = _headers(scope)
        cookie_language = cookie_value(headers.get("cookie", ""), "crm_lang")
        preferred = cookie_language or (getattr(user, "language", None) if user else None)
        language = i18n.pick_language(preferred, headers.get("accept-language"), self.default_language)
        time_zone = getattr(user, "time_zone", None) or self.default_time_zone
        lang_token = i18n.current_language.set(language)
        tz_token = i18n.current_time_zone.set(time_zone)
        try:
            await self.app(scope, receive, send)
        finally:
            i18n.current_language.reset(lang_token)
            i18n.current_time_zone.reset(tz_token)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


def cookie_value(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value or None
    return None
