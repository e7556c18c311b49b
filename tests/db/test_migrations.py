"""Migrations build the whole schema on an empty database, undo it completely, and match the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from crm.db import migrate
from crm.db.engine import make_engine

FOUNDATION_TABLES = {"users", "user_roles", "user_sessions", "login_attempts", "api_tokens", "audit_log"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A brand-new, empty database of each engine (PostgreSQL only when CRM_TEST_POSTGRES_URL is set)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("postgres_url_factory")("migrations")


@pytest.fixture
def engine_of(empty_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_url)
    yield engine
    engine.dispose()


def head(url: str) -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    found = script.get_current_head()
    assert found is not None
    return found


def revisions_oldest_first(url: str) -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def leftovers(engine: Engine) -> list[Any]:
    """What a downgrade left besides alembic_version: views, triggers, functions, types, sequences."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return list(
                conn.execute(
                    text(
                        "SELECT type, name FROM sqlite_master "
                        "WHERE name NOT LIKE 'sqlite_%' AND tbl_name != 'alembic_version'"
                    )
                )
            )
        return list(
            conn.execute(
                text(
                    "SELECT 'function', proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = 'public' "
                    "UNION ALL SELECT 'type', typname FROM pg_type t "
                    "JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0 "
                    "UNION ALL SELECT 'sequence', sequencename FROM pg_sequences WHERE schemaname = 'public' "
                    "UNION ALL SELECT 'view', viewname FROM pg_views WHERE schemaname = 'public' "
                    "UNION ALL SELECT 'extension', extname FROM pg_extension WHERE extname != 'plpgsql'"
                )
            )
        )


def test_upgrade_builds_the_schema_on_an_empty_database(empty_url: str, engine_of: Engine) -> None:
    assert tables(engine_of) == set()
    migrate.upgrade(empty_url)
    assert FOUNDATION_TABLES | {"alembic_version"} <= tables(engine_of)
    assert migrate.current(empty_url) == f"{head(empty_url)} (head)"


def test_models_and_migrations_do_not_drift(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.check(empty_url)


def test_downgrade_to_base_leaves_nothing_but_alembic_version(empty_url: str, engine_of: Engine) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "base")
    assert tables(engine_of) == {"alembic_version"}
    assert leftovers(engine_of) == []
    assert migrate.current(empty_url) == ""


def test_upgrade_works_again_after_downgrade_to_base(empty_url: str, engine_of: Engine) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "base")
    migrate.upgrade(empty_url)
    assert tables(engine_of) >= FOUNDATION_TABLES
    migrate.check(empty_url)
    with pytest.raises((DBAPIError,)), engine_of.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (occurred_at, action, entity, entity_id, changes) "
                "VALUES (CURRENT_TIMESTAMP, 'create', 'users', '1', '{}')"
            )
        )
        conn.execute(text("DELETE FROM audit_log"))


def test_each_migration_steps_down_and_up_again(empty_url: str, engine_of: Engine) -> None:
    revisions = revisions_oldest_first(empty_url)
    migrate.upgrade(empty_url)
    for expected in reversed(revisions[:-1]):
        migrate.downgrade(empty_url, "-1")
        assert migrate.current(empty_url) == expected
    migrate.downgrade(empty_url, "-1")
    assert tables(engine_of) == {"alembic_version"}
    for expected in revisions:
        migrate.upgrade(empty_url, "+1")
        assert migrate.current(empty_url).split()[0] == expected
    migrate.check(empty_url)


def test_serves_vulnerable_is_filled_in_for_existing_organisations(empty_url: str, engine_of: Engine) -> None:
    """0004 adds a stored column; rows that existed before it get their value from their audiences."""
    migrate.upgrade(empty_url, "0003")
    with engine_of.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audiences (code, label_en, label_fr, position, vulnerable) VALUES "
                "('elderly', 'Elderly', 'Aînés', 0, true), ('youth', 'Youth', 'Jeunes', 1, false)"
            )
        )
        for number, audience in ((1, "elderly"), (2, "youth")):
            conn.execute(
                text(
                    "INSERT INTO organisations (id, name, origin_country, residence_country, languages, "
                    "skills_offered, contribution_modes, provenance, consent_to_share, completeness, search_text, "
                    "created_at, updated_at, version) VALUES (:id, :name, 'SN', 'FR', '[]', '[]', '[]', "
                    "'officer_entry', true, 0, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                ),
                {"id": number, "name": f"Organisation {number}"},
            )
            conn.execute(
                text(
                    "INSERT INTO organisation_audiences (organisation_id, audience_code) VALUES (:id, :code)"
                ),
                {"id": number, "code": audience},
            )
    migrate.upgrade(empty_url)
    with engine_of.connect() as conn:
        rows = conn.execute(text("SELECT id, serves_vulnerable FROM organisations ORDER BY id")).all()
    assert [(row[0], bool(row[1])) for row in rows] == [(1, True), (2, False)]


def test_name_key_is_filled_in_for_existing_organisations(empty_url: str, engine_of: Engine) -> None:
    """0006 adds the sort key; rows that existed before it get it from their name, as a save would."""
    migrate.upgrade(empty_url, "0005")
    with engine_of.begin() as conn:
        for number, name in ((1, "Sénégalais de Lyon"), (2, "Étudiants Maliens"), (3, "amicale des Comores")):
            conn.execute(
                text(
                    "INSERT INTO organisations (id, name, origin_country, residence_country, languages, "
                    "skills_offered, contribution_modes, provenance, consent_to_share, completeness, search_text, "
                    "serves_vulnerable, created_at, updated_at, version) VALUES (:id, :name, 'SN', 'FR', '[]', "
                    "'[]', '[]', 'officer_entry', true, 0, '', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                ),
                {"id": number, "name": name},
            )
    migrate.upgrade(empty_url)
    with engine_of.connect() as conn:
        names = conn.execute(text("SELECT name FROM organisations ORDER BY name_key")).scalars().all()
    assert names == ["amicale des Comores", "Étudiants Maliens", "Sénégalais de Lyon"]
