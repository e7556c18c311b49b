"""Liveness and database check for load balancers and operators."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.to_thread
from litestar import Response, get
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crm.web.deps import RawDb
from crm.web.threads import own_thread_pool

# The check runs on a few threads of its own: when every ordinary worker thread is busy with requests, the
# health check still answers at once instead of queueing behind them.
_limiter = own_thread_pool(4)


def _database_answers(session: Session) -> bool:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


@get("/healthz", include_in_schema=False)
async def healthz(db_session: RawDb) -> Response[dict[str, Any]]:
    if not await anyio.to_thread.run_sync(_database_answers, db_session, limiter=_limiter()):
        return Response({"status": "error", "database": "unreachable"}, status_code=503)
    return Response({"status": "ok", "database": "ok"})
