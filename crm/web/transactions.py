"""Each request's database session ends when its response starts: committed on 2xx and 3xx, rolled back
otherwise, then closed.

This replaces the plugin's own "autocommit" hook for two reasons. Litestar runs a synchronous hook in a worker
thread for every message sent (start and body), two thread hops per request. And the plugin's hook logs a
failed commit at debug level and carries on, so the client would be told its change was saved; here the
error propagates and the client gets an error page instead.

Ending a session runs in a worker thread (a COMMIT may wait for the disk or the network, and the event loop
never waits), on a thread pool of its own: a request that holds a connection can always give it back, even
while every ordinary worker thread waits for a connection from a full pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from weakref import WeakKeyDictionary

import anyio
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


ENDING_THREADS = 40


def make_transaction_hook(session_scope_key: str) -> Hook:
    """`session_scope_key` is the plugin config's own (it makes each config's key unique in the process)."""
    # A limiter belongs to one event loop: a server process runs one, the tests start several.
    limiters: WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = WeakKeyDictionary()

    def ending_limiter() -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        limiter = limiters.get(loop)
        if limiter is None:
            limiter = limiters[loop] = anyio.CapacityLimiter(ENDING_THREADS)
        return limiter

    async def end_request_session(message: Message, scope: Scope) -> None:
        if message["type"] not in SESSION_TERMINUS_ASGI_EVENTS:
            return
        session: Session | None = get_aa_scope_state(scope, session_scope_key)
        if session is None:
            return
        delete_aa_scope_state(scope, session_scope_key)
        commit = message["type"] == "http.response.start" and 200 <= message["status"] < 400
        await anyio.to_thread.run_sync(end_session, session, commit, limiter=ending_limiter())

    return end_request_session
