"""Who may do what: route guards, the object-level refusal helper, and request authentication."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Scope
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crm.accounts import service
from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.web.auth import cookie_value

SESSION_COOKIE = "crm_session"
logger = logging.getLogger("crm")

# Guards are coroutines although they never wait: Litestar runs a plain function guard in a worker thread.
Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def _signed_in(connection: ASGIConnection[Any, Any, Any, Any]) -> User:
    user: User | None = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException()
    return user


async def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    _signed_in(connection)


def requires_role(*roles: Role) -> Guard:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if not _signed_in(connection).has_role(*roles):
            raise PermissionDeniedException()

    return guard


def refuse_unless(allowed: bool, *, hide: bool = False) -> None:
    """Object-level check: 403, or 404 where even the record's existence is private."""
    if not allowed:
        raise NotFoundException() if hide else PermissionDeniedException()


def found(obj: Any) -> Any:
    if obj is None:
        raise NotFoundException()
    return obj


def make_authenticator(
    session_for_scope: Callable[[Scope], Session], in_thread: bool = True
) -> Callable[[Scope], Any]:
    """Build the lookup the auth middleware calls: session cookie for pages, Bearer token for the API.

    `in_thread=False` runs the lookup on the event loop. That suits SQLite: the lookup is one indexed read
    inside the process (a fraction of a millisecond, and WAL readers never wait for writers), and the hop to a
    worker thread and back cost more than the read itself: 25-35 % of the directory's throughput under load.
    A networked database (PostgreSQL) keeps the thread, so the loop never waits on a socket."""

    def lookup(scope: Scope) -> User | None:
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if scope["path"].startswith("/api/"):
            scheme, _, secret = authorization.partition(" ")
            if scheme.lower() != "bearer" or not secret:
                return None
            return service.user_for_api_token(session_for_scope(scope), secret.strip())
        token = cookie_value(headers.get(b"cookie", b"").decode("latin-1"), SESSION_COOKIE)
        if not token:
            return None
        return service.user_for_session(session_for_scope(scope), token)

    async def authenticate(scope: Scope) -> User | None:
        try:
            return await anyio.to_thread.run_sync(lookup, scope) if in_thread else lookup(scope)
        except SQLAlchemyError:
            # The database is down: serve the request anonymously; guarded pages will send users to sign in
            # and /healthz reports the outage.
            logger.exception("authentication lookup failed")
            return None

    return authenticate
