"""Liveness and database check for load balancers and operators."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from crm.web.deps import RawDb


@get("/healthz", sync_to_thread=True, include_in_schema=False)
def healthz(db_session: RawDb) -> Response[dict[str, Any]]:
    try:
        db_session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return Response({"status": "error", "database": "unreachable"}, status_code=503)
    return Response({"status": "ok", "database": "ok"})
