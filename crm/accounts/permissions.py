"""Who may do what: route guards, the object-level refusal helper, and request authentication."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Scope
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from crm.accounts import service
from crm.accounts.models import User
from crm.accounts.roles import STAFF_ROLES, Role
from crm.db.engine import writing
from crm.web.auth import SignInUnavailable, cookie_value

SESSION_COOKIE = "crm_session"
logger = logging.getLogger("crm")

ApiRequest = Request[User, Any, Any]
"""An API handler's request: guards let only signed-in requests in, so `request.user` is always a User."""

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


def requires(rule: Callable[[User], bool]) -> Guard:
    """A route guard from a domain's rule about the signed-in user (403 when it says no)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if not rule(_signed_in(connection)):
            raise PermissionDeniedException()

    return guard


# The government side's pages (crm.accounts.roles.STAFF_ROLES).
requires_staff = requires_role(*STAFF_ROLES)


def refuse_unless(allowed: bool, *, hide: bool = False) -> None:
    """Object-level check: 403, or 404 where even the record's existence is private."""
    if not allowed:
        raise NotFoundException() if hide else PermissionDeniedException()


def found(obj: Any) -> Any:
    if obj is None:
        raise NotFoundException()
    return obj


def _record_token_use(session: Session, token_id: int) -> None:
    """Best effort: "last used" is information for the token's owner, never a reason to refuse a request."""
    try:
        with writing(session):
            service.record_token_use(session, token_id)
    except OperationalError:
        logger.warning("could not record the use of API token %s", token_id, exc_info=True)


def make_authenticator(session_for_scope: Callable[[Scope], Session]) -> Callable[[Scope], Any]:
    """Build the lookup the auth middleware calls: session cookie for pages, Bearer token for the API.

    The lookup runs in a worker thread (the event loop never waits for the database), in the request's own
    session, whose transaction it ends before returning: the connection goes back to the pool while the
    request waits for its handler's thread, so a burst of requests can never hold every connection while
    waiting for threads that wait for connections."""

    def lookup(scope: Scope) -> User | None:
        headers = dict(scope["headers"])
        session = session_for_scope(scope)
        try:
            if scope["path"].startswith("/api/"):
                authorization = headers.get(b"authorization", b"").decode("latin-1")
                scheme, _, secret = authorization.partition(" ")
                if scheme.lower() != "bearer" or not secret:
                    return None
                use = service.user_for_api_token(session, secret.strip())
                if use is None:
                    return None
                if use.stale:
                    _record_token_use(session, use.token_id)
                return use.user
            token = cookie_value(headers.get(b"cookie", b"").decode("latin-1"), SESSION_COOKIE)
            if not token:
                return None
            return service.user_for_session(session, token)
        finally:
            session.commit()

    async def authenticate(scope: Scope) -> User | None:
        try:
            return await anyio.to_thread.run_sync(lookup, scope)
        except SQLAlchemyError as error:
            logger.exception("authentication lookup failed")
            raise SignInUnavailable() from error

    return authenticate
