"""Each request's database session ends when its response starts: committed on 2xx and 3xx, rolled back
otherwise, then closed.

This replaces the plugin's own "autocommit" hook for two reasons. Litestar runs a synchronous hook in a worker
thread for every message sent (start and body), two thread hops per request. And the plugin's hook logs a
failed commit at debug level and carries on, so the client would be told its change was saved; here the
error propagates and the client gets an error page instead.

Ending a session runs in a worker thread (a COMMIT may wait for the disk or the network, and the event loop
never waits), on a thread pool of its own: a request that holds a connection can always give it back, even
while every ordinary worker thread waits for a connection from a full pool. The one exception is a SQLite
transaction that only read (crm.db.engine.ends_without_waiting): ending it cannot wait for anything, and the
hop would cost more than the call (bench/load_bench.py, directory page: see bench/README.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import anyio.to_thread
from advanced_alchemy.extensions.litestar.plugins.init.config.common import SESSION_TERMINUS_ASGI_EVENTS
from litestar.types import Message, Scope
from sqlalchemy.orm import Session

from crm.db.engine import ends_without_waiting
from crm.web.threads import own_thread_pool

Hook = Callable[[Message, Scope], Awaitable[None]]


def end_session(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


ENDING_THREADS = 40


ENDED = "crm_session_ended"


def make_transaction_hook(session_for_scope: Callable[[Scope], Session]) -> Hook:
    """`session_for_scope` gives the request's session (the plugin's `provide_session`, which creates it if
    the request had none: a session without a transaction ends at once)."""
    ending_limiter = own_thread_pool(ENDING_THREADS)

    async def end_request_session(message: Message, scope: Scope) -> None:
        if message["type"] not in SESSION_TERMINUS_ASGI_EVENTS:
            return
        if scope.get(ENDED):  # type: ignore[misc]
            return
        scope[ENDED] = True  # type: ignore[typeddict-unknown-key]
        session = session_for_scope(scope)
        commit = message["type"] == "http.response.start" and 200 <= message["status"] < 400
        if ends_without_waiting(session):
            end_session(session, commit)
        else:
            await anyio.to_thread.run_sync(end_session, session, commit, limiter=ending_limiter())

    return end_request_session
