"""Fixtures of the directory and organisation page tests: reference data, organisations, their people.

Nothing here is autouse: the pure tests of this folder (importing, dedupe, countries) need no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations import service
from crm.organisations.models import Activity, Contact, Initiative, Organisation
from crm.organisations.schemas import ActivityIn, ContactIn, OrganisationIn
from crm.seeding import load_reference


@pytest.fixture
def reference(db: Session) -> None:
    """Sectors, kinds of capital and audiences, as `crm seed` loads them."""
    load_reference(db)
    db.commit()


@pytest.fixture
def make_organisation(db: Session, reference: None) -> Any:
    """Create an organisation through the service, as the form does; consenting, Senegalese, in France."""

    def make(name: str = "Diaspora Education Network", **fields: Any) -> Organisation:
        values: dict[str, Any] = {"origin_country": "SN", "residence_country": "FR", "consent_to_share": True}
        values.update(fields)
        organisation = service.create_organisation(db, OrganisationIn(name=name, **values))
        db.commit()
        return organisation

    return make


@pytest.fixture
def make_representative(db: Session, make_user: Any) -> Any:
    """A user who speaks for the given organisation."""

    def make(organisation: Organisation, *roles: str, **fields: Any) -> User:
        user = make_user("org_representative", *roles, **fields)
        user.organisation_id = organisation.id
        db.commit()
        return user

    return make


@pytest.fixture
def make_contact(db: Session) -> Any:
    def make(organisation: Organisation, full_name: str = "Awa Diop", **fields: Any) -> Contact:
        contact = service.add_contact(db, organisation, ContactIn(full_name=full_name, **fields))
        db.commit()
        return contact

    return make


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


@pytest.fixture
def db_released_before_app_shutdown(db: Session, client_factory: Any) -> Iterator[None]:
    """Ends the test session's transaction before the app's lifespan shuts down.

    The SQLAlchemy plugin disposes the engine at shutdown; on PostgreSQL that engine is shared by the whole
    run, and a connection the test's `db` still holds (it read something after the last request) would be
    orphaned and reported as an unclosed psycopg connection in some later test. Use it first
    (`pytestmark = pytest.mark.usefixtures(...)`) so it is torn down before the clients and after the test.
    """
    yield
    db.rollback()


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
