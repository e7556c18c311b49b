"""`crm user create --organisation`: the operator links a new representative to its organisation from the
command line, and every mistake is one readable line, exit code 1, no traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts import service
from crm.db.audit import AuditLog
from crm.db.engine import make_engine, make_sessionmaker
from crm.organisations import service as organisations
from crm.organisations.schemas import OrganisationIn
from tests import test_cli
from tests.test_cli import PASSWORD, Run, assert_one_line_error

# The fixtures that run the command, shared with tests/test_cli.py.
crm, migrated, database_url, base_env = (
    test_cli.crm,
    test_cli.migrated,
    test_cli.database_url,
    test_cli.base_env,
)


@contextmanager
def in_database(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def add_organisation(database_url: str, name: str, merged_into: int | None = None) -> int:
    """Arrange an organisation in-process (and merge it into `merged_into`), so each test runs one command."""
    with in_database(database_url) as session:
        organisation = organisations.create_organisation(
            session,
            OrganisationIn(name=name, origin_country="SN", residence_country="FR", consent_to_share=True),
        )
        if merged_into is not None:
            survivor = organisations.get_organisation(session, merged_into)
            assert survivor is not None
            organisations.merge_organisations(session, survivor, organisation)
        session.commit()
        return organisation.id


def represented(database_url: str, email: str) -> int | None:
    with in_database(database_url) as session:
        user = service.get_user_by_email(session, email)
        assert user is not None
        return user.organisation_id


def user_exists(database_url: str, email: str) -> bool:
    with in_database(database_url) as session:
        return service.get_user_by_email(session, email) is not None


def create_representative(run: Run, *options: str) -> object:
    return run(
        "user", "create", "fatou@example.org", "--name", "Fatou Sarr", *options,
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip


def test_operator_creates_a_representative_of_an_organisation(migrated: Run, database_url: str) -> None:
    organisation_id = add_organisation(database_url, "Regroupement des Haïtiens de Montréal")

    result = create_representative(
        migrated, "--role", "org_representative", "--organisation", str(organisation_id)
    )

    assert result.returncode == 0, result.stderr
    assert f"representing Regroupement des Haïtiens de Montréal ({organisation_id})" in result.stdout
    assert represented(database_url, "fatou@example.org") == organisation_id
    with in_database(database_url) as session:
        created = session.scalars(
            select(AuditLog).where(AuditLog.action == "create", AuditLog.entity == "users")
        ).one()
        assert created.changes["organisation_id"] == [None, organisation_id]


def test_operator_creates_a_trainer_who_also_represents_an_organisation(
    migrated: Run, database_url: str
) -> None:
    organisation_id = add_organisation(database_url, "Nigerian Professionals Association")

    result = create_representative(
        migrated, "--role", "trainer", "--role", "org_representative", "--organisation", str(organisation_id)
    )

    assert result.returncode == 0, result.stderr
    assert represented(database_url, "fatou@example.org") == organisation_id


def test_a_representative_created_without_an_organisation_represents_none(
    migrated: Run, database_url: str
) -> None:
    result = create_representative(migrated, "--role", "org_representative")

    assert result.returncode == 0, result.stderr
    assert "representing" not in result.stdout
    assert represented(database_url, "fatou@example.org") is None


def test_operator_naming_an_unknown_organisation_is_told_in_one_line(
    migrated: Run, database_url: str
) -> None:
    result = create_representative(migrated, "--role", "org_representative", "--organisation", "4242")

    assert_one_line_error(result, "organisation", "4242")
    assert not user_exists(database_url, "fatou@example.org")


def test_operator_naming_a_merged_organisation_is_told_which_one_survives(
    migrated: Run, database_url: str
) -> None:
    survivor = add_organisation(database_url, "Association Sénégalaise de Lyon")
    merged = add_organisation(database_url, "Association des Senegalais de Lyon", merged_into=survivor)

    result = create_representative(migrated, "--role", "org_representative", "--organisation", str(merged))

    assert_one_line_error(result, "organisation", "merged", "Association Sénégalaise de Lyon", str(survivor))
    assert not user_exists(database_url, "fatou@example.org")


def test_operator_giving_an_organisation_without_the_representative_role_is_told_in_one_line(
    migrated: Run, database_url: str
) -> None:
    organisation_id = add_organisation(database_url, "Regroupement des Haïtiens de Montréal")

    result = create_representative(migrated, "--role", "trainer", "--organisation", str(organisation_id))

    assert_one_line_error(result, "organisation", "representative")
    assert not user_exists(database_url, "fatou@example.org")


@pytest.mark.parametrize("number", ["0", "-3", "abc", "99999999999"])
def test_operator_giving_something_else_than_an_organisation_number_is_refused_without_traceback(
    migrated: Run, database_url: str, number: str
) -> None:
    result = create_representative(migrated, "--role", "org_representative", "--organisation", number)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "--organisation" in result.stderr
    assert not user_exists(database_url, "fatou@example.org")
