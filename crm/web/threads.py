"""Thread pools of their own, for work that must not queue behind the ordinary worker threads (ending a
request's session, the health check): an anyio limiter per event loop, made on first use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from weakref import WeakKeyDictionary

import anyio


def own_thread_pool(size: int) -> Callable[[], anyio.CapacityLimiter]:
    """A function giving the running loop's limiter of `size` threads (a limiter belongs to one loop: a
    server process runs one, the tests start several)."""
    limiters: WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = WeakKeyDictionary()

    def limiter() -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        found = limiters.get(loop)
        if found is None:
            found = limiters[loop] = anyio.CapacityLimiter(size)
        return found

    return limiter
