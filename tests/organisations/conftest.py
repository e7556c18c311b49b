"""Fixtures of the directory and organisation page tests: reference data, organisations, their people.

Nothing here is autouse: the pure tests of this folder (importing, dedupe, countries) need no database.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations import service
from crm.organisations.models import Activity, Initiative, Organisation
from crm.organisations.schemas import ActivityIn


@pytest.fixture
def make_activity(db: Session) -> Any:
    def make(
        organisation: Organisation,
        summary: str = "Met the board",
        kind: str = "meeting",
        occurred_on: date = date(2024, 5, 14),
        author: User | None = None,
    ) -> Activity:
        activity = service.add_activity(
            db, organisation, author, ActivityIn(kind=kind, occurred_on=occurred_on, summary=summary)
        )
        db.commit()
        return activity

    return make


@pytest.fixture
def make_initiative(db: Session) -> Any:
    def make(organisation: Organisation, title: str = "School kits for Podor", **fields: Any) -> Initiative:
        initiative = Initiative(organisation_id=organisation.id, title=title, **fields)
        db.add(initiative)
        db.commit()
        return initiative

    return make


class StatementCounter:
    """Counts the SQL statements an engine runs while active (all connections, app and test alike)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(engine: Engine) -> Any:
    """`with count_statements() as counted: ...; counted.count` — the statements run inside the block."""
    return lambda: StatementCounter(engine)
