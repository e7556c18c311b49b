"""A per-process cache for small reference tables that most pages read and almost nothing writes.

Each process keeps one loaded copy per engine for `ttl` seconds. A flush that touches one of the cached
models drops the copy at once in this process, and the session that made the change reads the tables afresh
until it commits or rolls back (its changes are not yet everyone's). Another process's change is seen within
`ttl` seconds: reference data changes with `crm seed reference`, not while users work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from itertools import chain
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

T = TypeVar("T")
CHANGED = "reference_cache_changed"
_CACHES: list[ReferenceCache[Any]] = []


class ReferenceCache(Generic[T]):
    def __init__(self, load: Callable[[Session], T], models: tuple[type, ...], ttl: float = 60.0) -> None:
        self.load = load
        self.models = models
        self.ttl = ttl
        self._copies: WeakKeyDictionary[Engine, tuple[float, T]] = WeakKeyDictionary()
        self._lock = threading.Lock()
        _CACHES.append(self)

    def get(self, session: Session) -> T:
        """The loaded value: immutable, detached from any session, shared by every request of the process."""
        if self in session.info.get(CHANGED, ()):
            return self.load(session)
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        copy = self._copies.get(engine)
        now = time.monotonic()
        if copy is not None and copy[0] > now:
            return copy[1]
        value = self.load(session)
        with self._lock:
            self._copies[engine] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._copies.clear()


def clear_all() -> None:
    """Forget every cached copy (tests that empty a database outside the ORM call it)."""
    for cache in _CACHES:
        cache.clear()


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    touched = [
        cache
        for cache in _CACHES
        if any(isinstance(obj, cache.models) for obj in chain(session.new, session.dirty, session.deleted))
    ]
    for cache in touched:
        session.info.setdefault(CHANGED, set()).add(cache)
        cache.clear()


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_ended(session: Session) -> None:
    for cache in session.info.pop(CHANGED, ()):
        cache.clear()
