"""Shared fixtures: one database per engine (SQLite always, PostgreSQL when CRM_TEST_POSTGRES_URL is set),
an app and a client per test, and the personas every permission test speaks for."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import crm.models  # noqa: F401  (the whole schema, as Alembic sees it)
from crm.accounts import service as accounts
from crm.accounts.models import User
from crm.accounts.passwords import hash_password
from crm.accounts.permissions import SESSION_COOKIE
from crm.app import create_app
from crm.db import migrate, reference_cache
from crm.db.engine import driver_url, make_engine, make_sessionmaker
from crm.organisations import service as organisations
from crm.organisations.models import Contact, Organisation
from crm.organisations.schemas import ContactIn, OrganisationIn
from crm.seeding import load_reference
from crm.settings import Settings, load_settings

POSTGRES_URL = os.environ.get("CRM_TEST_POSTGRES_URL")
SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery"
KEEP_TABLES = {"alembic_version"}


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class Database:
    """A migrated database the tests of one engine share; reset() empties it between tests."""

    name: str
    url: str
    template: Path | None = None

    def fresh_url(self, tmp_path: Path) -> str:
        if self.template is None:
            return self.url
        target = tmp_path / "crm.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"


def _postgres_database(name: str) -> Iterator[str]:
    """Create a uniquely named database for this run and drop it afterwards, so runs never collide."""
    assert POSTGRES_URL
    admin_url = make_url(driver_url(POSTGRES_URL))
    db_name = f"crm_test_{name}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    try:
        yield admin_url.set(database=db_name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url_factory() -> Iterator[Any]:
    """Creates throw-away PostgreSQL databases on demand (skips without CRM_TEST_POSTGRES_URL)."""
    if not POSTGRES_URL:
        pytest.skip("CRM_TEST_POSTGRES_URL is not set")
    generators: list[Iterator[str]] = []

    def make(name: str) -> str:
        gen = _postgres_database(name)
        generators.append(gen)
        return next(gen)

    yield make
    for gen in generators:
        for _ in gen:
            pass


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{template}"
        migrate.upgrade(url)
        yield Database("sqlite", url, template)
        return
    factory = request.getfixturevalue("postgres_url_factory")
    url = factory("main")
    migrate.upgrade(url)
    yield Database("postgresql", url)


@pytest.fixture(scope="session")
def _postgres_engine(database: Database) -> Iterator[Engine | None]:
    if database.template is not None:
        yield None
        return
    engine = make_engine(database.url)
    yield engine
    engine.dispose()


def _empty_postgres(engine: Engine) -> None:
    tables = [t for t in inspect(engine).get_table_names() if t not in KEEP_TABLES]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def engine(database: Database, _postgres_engine: Engine | None, tmp_path: Path) -> Iterator[Engine]:
    reference_cache.clear_all()  # each test starts from an empty database, emptied behind the ORM's back
    if _postgres_engine is not None:
        _empty_postgres(_postgres_engine)
        yield _postgres_engine
        return
    engine = make_engine(database.fresh_url(tmp_path))
    yield engine
    engine.dispose()


@pytest.fixture
def settings(engine: Engine) -> Settings:
    return load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key=SECRET,
        demo=False,
        allowed_hosts=["testserver.local"],
    )


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session for arranging data and checking results; commit to make data visible to the app."""
    session = make_sessionmaker(engine)()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Litestar:
    return create_app(settings, engine)


class Client(TestClient[Litestar]):
    """A browser: keeps cookies, and sends the CSRF token the way our pages' forms and htmx do."""

    def csrf_token(self) -> str:
        if "csrftoken" not in self.cookies:
            self.get("/login")
        return self.cookies["csrftoken"]

    def submit(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        form = dict(data or {})
        form["_csrf_token"] = self.csrf_token()
        return self.post(url, data=form, **kwargs)

    def hx_get(self, url: str, **kwargs: Any) -> Any:
        headers = {"HX-Request": "true", **kwargs.pop("headers", {})}
        return self.get(url, headers=headers, **kwargs)


@pytest.fixture
def client_factory(app: Litestar, db: Session) -> Iterator[Any]:
    """Browsers for several people in one test: the first runs the app's lifespan, the others share it."""
    clients: list[Client] = []

    def make() -> Client:
        client = Client(app=app, base_url="http://testserver.local")
        if clients:
            client.blocking_portal = clients[0].blocking_portal
        else:
            client.__enter__()
        clients.append(client)
        return client

    yield make
    # The app's shutdown disposes the engine, which PostgreSQL tests share: the test's own session must
    # give its connection back first, or psycopg reports it as leaked in some later test.
    db.rollback()
    if clients:
        clients[0].__exit__(None, None, None)


@pytest.fixture
def client(client_factory: Any) -> Client:
    return client_factory()


@pytest.fixture
def make_user(db: Session, password_hash: str) -> Any:
    counter = iter(range(1, 10_000))

    def make(*roles: str, email: str | None = None, **fields: Any) -> User:
        user = accounts.create_user(
            db,
            email or f"user{next(counter)}@example.org",
            PASSWORD,
            roles or ("liaison_officer",),
            password_hash=password_hash,
            **fields,
        )
        db.commit()
        return user

    return make


@pytest.fixture
def login(db: Session, client_factory: Any) -> Any:
    """A client signed in as the given user, with a real server-side session."""

    def sign_in(user: User) -> Client:
        client = client_factory()
        token = accounts.start_session(db, user, "127.0.0.1", days=1)
        db.commit()
        client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
        return client

    return sign_in


@pytest.fixture
def admin(make_user: Any) -> User:
    return make_user("admin", email="admin@example.org", full_name="Ada Admin")


@pytest.fixture
def officer(make_user: Any) -> User:
    return make_user("liaison_officer", email="officer@example.org", full_name="Omar Officer")


@pytest.fixture
def trainer(make_user: Any) -> User:
    return make_user("trainer", email="trainer@example.org", full_name="Tina Trainer")


# Organisations -----------------------------------------------------------------------------------------


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
        organisation = organisations.create_organisation(db, OrganisationIn(name=name, **values))
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
        contact = organisations.add_contact(db, organisation, ContactIn(full_name=full_name, **fields))
        db.commit()
        return contact

    return make
