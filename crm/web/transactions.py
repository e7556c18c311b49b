"""Each request's database session ends when its response starts: committed on 2xx and 3xx, rolled back
otherwise, then closed.

This replaces the plugin's own "autocommit" hook for two reasons. Litestar runs a synchronous hook in a worker
thread for every message sent (start and body), two thread hops per request that cost more than the commit
itself on SQLite. And the plugin's hook logs a failed commit at debug level and carries on, so the client
would be told its change was saved; here the error propagates and the client gets an error page instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio.to_thread
from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from advanced_alchemy.extensions.litestar.plugins.init.config.common import SESSION_TERMINUS_ASGI_EVENTS
from litestar.types import Message, Scope
from sqlalchemy.orm import Session

Hook = Callable[[Message, Scope], Awaitable[None]]


def end_session(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


def make_transaction_hook(session_scope_key: str, in_thread: bool) -> Hook:
    """`session_scope_key` is the plugin config's own (it makes each config's key unique in the process).
    `in_thread=False` ends the session on the event loop: right for SQLite, where COMMIT is an in-process
    call; a networked database (PostgreSQL) keeps the worker thread so the loop never waits on a socket."""

    async def end_request_session(message: Message, scope: Scope) -> None:
        if message["type"] not in SESSION_TERMINUS_ASGI_EVENTS:
            return
        session: Session | None = get_aa_scope_state(scope, session_scope_key)
        if session is None:
            return
        delete_aa_scope_state(scope, session_scope_key)
        commit = message["type"] == "http.response.start" and 200 <= message["status"] < 400
        if in_thread:
            await anyio.to_thread.run_sync(end_session, session, commit)
        else:
            end_session(session, commit)

    return end_request_session
