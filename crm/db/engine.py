"""Engine creation from the plain database URLs users write (sqlite:///x.db, postgresql://u@h/db)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError
from sqlalchemy.orm import Session, sessionmaker

# How long a SQLite writer waits for another's write lock before it is answered "busy" (409). Writers only
# ever wait in worker threads, never on the event loop, and no slow work holds the lock, so waiting is cheap.
SQLITE_BUSY_TIMEOUT_MS = 10_000
_BEGIN_OPTION = "crm_sqlite_begin"


def driver_url(url: str) -> str:
    """Pick the driver this app uses for a plain URL; explicit drivers are kept."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+pysqlite")
    elif backend in ("postgresql", "postgres") and "+" not in parsed.drivername:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets several app processes read while one writes; busy_timeout makes writers wait, not fail.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Read pages through the OS page cache (shared by every connection and process) rather than copying them
    # with read(): index walks over a large table cost a third less.
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get(_BEGIN_OPTION) == "IMMEDIATE"
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
    connection.info[_CHANGES_AT_BEGIN] = connection.connection.dbapi_connection.total_changes


_CHANGES_AT_BEGIN = "crm_changes_at_begin"


def ends_without_waiting(session: Session) -> bool:
    """Whether ending this session's transaction can neither wait nor touch the disk: none is open, or it is a
    SQLite read (DEFERRED, no row changed, nothing pending), whose end only drops a shared-memory read mark.
    Anything else (a write, a PostgreSQL round trip) is ended in a worker thread (crm.web.transactions)."""
    if not session.in_transaction():
        return True
    if session.info.get("writes") or session.new or session.dirty or session.deleted:
        return False
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return False
    return connection.info.get(_CHANGES_AT_BEGIN) == connection.connection.dbapi_connection.total_changes


# PostgreSQL's codes for "wait and retry": lock_not_available, serialization_failure, deadlock_detected.
_PG_BUSY_CODES = frozenset({"55P03", "40001", "40P01"})


def is_busy(error: BaseException) -> bool:
    """The database refused because others hold what it needs: nothing was written; trying again can work."""
    if isinstance(error, TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(error, OperationalError | DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return True
    return getattr(original, "sqlstate", None) in _PG_BUSY_CODES


def pool_options(url: str) -> dict[str, Any]:
    """Pool sizes for a server process.

    Worker threads wait for a connection, never the event loop; a request holds its connection only while a
    thread uses it, and gives it back on a thread pool of its own (crm.web.transactions), so a full pool means
    waiting, never a deadlock. SQLite connections are only file handles: the pool never makes anyone wait.
    PostgreSQL's are server processes: 30 per app process keeps two workers under the default
    max_connections of 100."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            return {}  # one in-memory database per connection: SQLAlchemy's own pool for it
        return {"pool_size": 20, "max_overflow": 200, "pool_timeout": 30}
    return {"pool_size": 10, "max_overflow": 20, "pool_timeout": 30}


def make_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(driver_url(url), **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite opens transactions lazily and not before SAVEPOINT, so a nested transaction could commit
        # on release; SQLAlchemy's documented fix is to take BEGIN over from the driver.
        event.listen(engine, "begin", _sqlite_begin)
    return engine


_writing_engines: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def _writing_engine(engine: Engine) -> Engine:
    writing = _writing_engines.get(engine)
    if writing is None:
        writing = _writing_engines[engine] = engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
    return writing


class CrmSession(Session):
    """A session that can say, before its transaction starts, that it is going to write.

    SQLite lets many read but one write at a time, and a transaction that has read cannot start writing once
    another transaction has committed since ("database is locked" at once: waiting would not help). So a
    transaction that will write takes the write lock when it begins (BEGIN IMMEDIATE), waiting its turn
    there. `session.info["writes"]` says so; it is read when the next transaction begins (see `writing`).
    PostgreSQL needs none of this: rows lock one by one and the version columns catch lost updates."""

    def get_bind(self, mapper: Any = None, **kw: Any) -> Any:
        bind = super().get_bind(mapper, **kw)
        if self.info.get("writes") and isinstance(bind, Engine) and bind.dialect.name == "sqlite":
            return _writing_engine(bind)
        return bind


def will_write(session: Session, writes: bool = True) -> None:
    """Say whether the session's next transaction writes (SQLite takes the write lock as it begins)."""
    session.info["writes"] = writes


@contextmanager
def reading(session: Session) -> Iterator[Session]:
    """A transaction that only reads, ended when the block ends (the current one is committed first): slow
    work that reads (checking a large import) holds no write lock while others wait."""
    session.commit()
    writes = session.info.get("writes", False)
    session.info["writes"] = False
    try:
        yield session
    finally:
        session.commit()
        session.info["writes"] = writes


@contextmanager
def writing(session: Session) -> Iterator[Session]:
    """A short transaction of its own that writes, committed when the block ends (rolled back on error)."""
    session.commit()
    writes = session.info.get("writes", False)
    session.info["writes"] = True
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info["writes"] = writes


def serialise(session: Session, key: str) -> None:
    """Make transactions that call this with the same key run one after another until they end: a check
    followed by a write (count the attempts, then add one) stays true under concurrency. SQLite's writers
    already run one at a time (see CrmSession); PostgreSQL takes an advisory lock for the transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, class_=CrmSession, expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """One transaction for a command-line task: committed if it ends normally, rolled back otherwise."""
    engine = make_engine(url)
    session = make_sessionmaker(engine)()
    session.info["actor_id"] = None
    will_write(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()
