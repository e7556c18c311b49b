"""A deleted record's id is never given to another, on either engine, so the audit log's entries about it keep
naming it alone; the SQLite migration that made keys AUTOINCREMENT kept every trigger, index and search."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from crm.db import migrate
from crm.db.audit import AuditLog
from crm.db.engine import make_engine
from crm.organisations import service

NEW_ORGANISATION = (
    "INSERT INTO organisations (name, origin_country, residence_country, languages, skills_offered, "
    "contribution_modes, provenance, consent_to_share, completeness, search_text, created_at, updated_at, "
    "version) VALUES (:name, 'SN', 'FR', '[]', '[]', '[]', 'officer_entry', true, 0, :name, "
    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
)


def audit_entries(db: Session, organisation_id: int) -> list[AuditLog]:
    query = select(AuditLog).where(
        AuditLog.entity == "organisations", AuditLog.entity_id == str(organisation_id)
    )
    return list(db.scalars(query.order_by(AuditLog.id)))


def test_organisation_created_after_a_deletion_gets_a_new_id(db: Session, make_organisation: Any) -> None:
    deleted = make_organisation("Amicale des Maliens de Lyon")
    deleted_id = deleted.id
    service.delete_organisation(db, deleted)
    db.commit()

    created = make_organisation("Cercle des Comoriens")

    assert created.id > deleted_id


def test_audit_entries_of_a_deleted_organisation_never_name_the_next_one(
    db: Session, make_organisation: Any
) -> None:
    deleted = make_organisation("Amicale des Maliens de Lyon")
    deleted_id = deleted.id
    service.delete_organisation(db, deleted)
    db.commit()

    created = make_organisation("Cercle des Comoriens")

    assert [entry.action for entry in audit_entries(db, deleted_id)] == ["create", "delete"]
    assert [entry.action for entry in audit_entries(db, created.id)] == ["create"]


# The migration (SQLite: PostgreSQL's sequences never went back, and the migration does nothing there) -------


@pytest.fixture
def sqlite_at_0004(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    migrate.upgrade(url, "0004")
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


def schema_objects(engine: Engine, kind: str) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = :kind"), {"kind": kind})
        return {name: sql for name, sql in rows if not name.startswith("sqlite_")}


def searched(engine: Engine, word: str) -> list[int]:
    with engine.connect() as conn:
        query = text("SELECT rowid FROM organisations_fts WHERE organisations_fts MATCH :word ORDER BY rowid")
        return list(conn.execute(query, {"word": word}).scalars())


def test_migration_keeps_the_triggers_and_indexes_of_the_rebuilt_tables(
    sqlite_at_0004: tuple[str, Engine],
) -> None:
    url, engine = sqlite_at_0004
    triggers, indexes = schema_objects(engine, "trigger"), schema_objects(engine, "index")
    assert {"audit_log_no_update", "organisations_fts_insert"} <= set(triggers)

    migrate.upgrade(url, "0005")

    assert schema_objects(engine, "trigger") == triggers
    assert schema_objects(engine, "index") == indexes
    assert "AUTOINCREMENT" in schema_objects(engine, "table")["audit_log"]


def test_search_finds_organisations_from_before_and_after_the_migration(
    sqlite_at_0004: tuple[str, Engine],
) -> None:
    url, engine = sqlite_at_0004
    with engine.begin() as conn:
        conn.execute(text(NEW_ORGANISATION), {"name": "amicale"})

    migrate.upgrade(url)
    with engine.begin() as conn:
        conn.execute(text(NEW_ORGANISATION), {"name": "cercle"})
        conn.execute(text("UPDATE organisations SET search_text = 'fondation' WHERE search_text = 'amicale'"))

    assert searched(engine, "amicale") == []
    assert searched(engine, "fondation") == [1]
    assert searched(engine, "cercle") == [2]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM organisations WHERE id = 2"))
    assert searched(engine, "cercle") == []


def test_audit_log_stays_append_only_after_the_migration(sqlite_at_0004: tuple[str, Engine]) -> None:
    url, engine = sqlite_at_0004
    migrate.upgrade(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (occurred_at, action, entity, entity_id, changes) "
                "VALUES (CURRENT_TIMESTAMP, 'create', 'organisations', '1', '{}')"
            )
        )

    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


def test_ids_named_in_the_audit_log_before_the_migration_are_not_given_again(
    sqlite_at_0004: tuple[str, Engine],
) -> None:
    """Organisation 7 was deleted before the migration, while organisation 1 is the highest left."""
    url, engine = sqlite_at_0004
    with engine.begin() as conn:
        conn.execute(text(NEW_ORGANISATION), {"name": "amicale"})
        conn.execute(
            text(
                "INSERT INTO audit_log (occurred_at, action, entity, entity_id, changes) "
                "VALUES (CURRENT_TIMESTAMP, 'delete', 'organisations', '7', '{}')"
            )
        )

    migrate.upgrade(url)
    with engine.begin() as conn:
        conn.execute(text(NEW_ORGANISATION), {"name": "cercle"})
        ids = list(conn.execute(text("SELECT id FROM organisations ORDER BY id")).scalars())

    assert ids == [1, 8]


def test_downgrade_gives_the_tables_back_without_autoincrement(sqlite_at_0004: tuple[str, Engine]) -> None:
    url, engine = sqlite_at_0004
    triggers, indexes = schema_objects(engine, "trigger"), schema_objects(engine, "index")
    migrate.upgrade(url)

    migrate.downgrade(url, "0004")

    assert not any("AUTOINCREMENT" in sql for sql in schema_objects(engine, "table").values())
    assert schema_objects(engine, "trigger") == triggers
    assert schema_objects(engine, "index") == indexes
    migrate.upgrade(url)
    migrate.check(url)
