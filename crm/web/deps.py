"""Names of the dependencies every handler may ask for (wired in crm.app)."""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlalchemy.orm import Session

from crm.settings import Settings

Db = NamedDependency[Session]
"""The request's database session, its actor set for the audit log."""
AppSettings = NamedDependency[Settings]
RawDb = NamedDependency[Session]
"""The plugin's session, before an actor is known (health check, db provider)."""
