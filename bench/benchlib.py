"""What the benchmark scripts share: the bench users, database checks and small statistics helpers."""

from __future__ import annotations

import math
import socket
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

from crm.accounts.models import User  # noqa: E402
from crm.db.engine import make_engine  # noqa: E402
from crm.organisations.models import Contact, Organisation  # noqa: E402

OUT_DIR = ROOT / "bench" / "out"
OFFICER_EMAIL = "officer@bench.example.org"
REPRESENTATIVE_EMAIL = "representative@bench.example.org"
# Known on purpose: load_bench.py signs in over HTTP with it. Bench databases only.
PASSWORD = "bench-password-2026"
SECRET_KEY = "bench-secret-key-" + "x" * 40


def generated_counts(url: str) -> tuple[int, int, bool] | None:
    """(organisations, contacts, bench users present), or None when the database is missing or unmigrated."""
    try:
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                organisations = conn.scalar(select(func.count()).select_from(Organisation.__table__)) or 0
                contacts = conn.scalar(select(func.count()).select_from(Contact.__table__)) or 0
                users = conn.scalar(
                    select(func.count())
                    .select_from(User.__table__)
                    .where(User.__table__.c.email.in_([OFFICER_EMAIL, REPRESENTATIVE_EMAIL]))
                )
        finally:
            engine.dispose()
    except SQLAlchemyError:
        return None
    return organisations, contacts, users == 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def summary(values_ms: Sequence[float]) -> tuple[float, float, float]:
    return statistics.median(values_ms), percentile(values_ms, 0.95), max(values_ms)


def engine_label(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgres") else "SQLite"
