"""The audit log records who created and changed what, never secrets, and cannot be rewritten."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from crm.accounts import service
from crm.accounts.models import User
from crm.db.audit import AuditLog


def audit_rows(db: Session, **where: Any) -> list[AuditLog]:
    db.expire_all()
    stmt = select(AuditLog).order_by(AuditLog.id)
    for column, value in where.items():
        stmt = stmt.where(getattr(AuditLog, column) == value)
    return list(db.scalars(stmt))


def new_user_form(**changes: Any) -> dict[str, Any]:
    form = {
        "email": "grace@example.org",
        "full_name": "Grace Newcomer",
        "roles": ["trainer"],
        "language": "en",
        "time_zone": "Europe/Paris",
        "is_active": "true",
        "password": "a long enough password",
    }
    form.update(changes)
    return form


def edit_form(user: User, **changes: Any) -> dict[str, Any]:
    form = {
        "email": user.email,
        "full_name": user.full_name,
        "roles": sorted(role.value for role in user.roles),
        "language": user.language,
        "time_zone": user.time_zone,
        "is_active": "true",
        "version": user.version,
        "password": "",
    }
    form.update(changes)
    return form


@pytest.fixture
def admin_browser(admin: User, login: Any) -> Any:
    return login(admin)


def test_user_created_by_the_admin_on_the_web_is_logged_with_the_admin_as_actor(
    admin_browser: Any, admin: User, db: Session
) -> None:
    admin_browser.submit("/admin/users/new", new_user_form())
    [row] = [
        r
        for r in audit_rows(db, entity="users", action="create")
        if r.changes["email"][1] == "grace@example.org"
    ]
    assert row.actor_id == admin.id
    assert row.changes["email"] == [None, "grace@example.org"]
    assert row.changes["full_name"] == [None, "Grace Newcomer"]
    assert row.occurred_at is not None


def test_creation_is_logged_under_the_new_records_id(admin_browser: Any, db: Session) -> None:
    admin_browser.submit("/admin/users/new", new_user_form())
    created = service.get_user_by_email(db, "grace@example.org")
    assert created is not None
    [row] = [
        r for r in audit_rows(db, entity="users", action="create") if r.changes["email"][1] == created.email
    ]
    assert row.entity_id == str(created.id)


def test_user_updated_by_the_admin_on_the_web_is_logged_with_old_and_new_values(
    admin_browser: Any, admin: User, officer: User, db: Session
) -> None:
    admin_browser.submit(f"/admin/users/{officer.id}", edit_form(officer, full_name="Omar O.", language="fr"))
    [row] = audit_rows(db, entity="users", action="update", entity_id=str(officer.id))
    assert row.actor_id == admin.id
    assert row.changes["full_name"] == ["Omar Officer", "Omar O."]
    assert row.changes["language"] == ["en", "fr"]
    assert "version" not in row.changes
    assert "updated_at" not in row.changes


def test_role_change_on_the_web_is_logged(
    admin_browser: Any, admin: User, officer: User, db: Session
) -> None:
    admin_browser.submit(
        f"/admin/users/{officer.id}", edit_form(officer, roles=["liaison_officer", "trainer"])
    )
    [row] = audit_rows(db, entity="users", action="roles", entity_id=str(officer.id))
    assert row.actor_id == admin.id
    assert row.changes == {"before": ["liaison_officer"], "after": ["liaison_officer", "trainer"]}


def test_saving_an_unchanged_user_logs_no_update(admin_browser: Any, officer: User, db: Session) -> None:
    admin_browser.submit(f"/admin/users/{officer.id}", edit_form(officer))
    assert audit_rows(db, entity="users", action="update", entity_id=str(officer.id)) == []


def test_changes_made_outside_the_web_have_no_actor(make_user: Any, db: Session) -> None:
    make_user("trainer", email="cli-made@example.org")
    [row] = audit_rows(db, entity="users", action="create")
    assert row.changes["email"] == [None, "cli-made@example.org"]
    assert row.actor_id is None


def test_password_hashes_never_reach_the_audit_log(admin_browser: Any, officer: User, db: Session) -> None:
    admin_browser.submit("/admin/users/new", new_user_form())
    admin_browser.submit(f"/admin/users/{officer.id}", edit_form(officer, password="a brand new password"))
    db.expire_all()
    hashes = [u.password_hash for u in db.scalars(select(User))]
    assert all(h.startswith("$argon2") for h in hashes)
    rows = audit_rows(db)
    assert {row.action for row in rows} >= {"create", "password"}
    logged = json.dumps([row.changes for row in rows])
    assert "$argon2" not in logged
    assert "password_hash" not in logged
    assert "a long enough password" not in logged
    assert "a brand new password" not in logged
    assert not [h for h in hashes if h in logged]


def test_password_change_is_logged_as_an_event_without_values(
    admin_browser: Any, admin: User, officer: User, db: Session
) -> None:
    admin_browser.submit(f"/admin/users/{officer.id}", edit_form(officer, password="a brand new password"))
    [row] = audit_rows(db, entity="users", action="password", entity_id=str(officer.id))
    assert row.actor_id == admin.id
    assert row.changes == {}


def test_audit_rows_cannot_be_changed(make_user: Any, db: Session) -> None:
    make_user("trainer")
    [row] = audit_rows(db)
    with pytest.raises((DBAPIError,)):
        db.execute(update(AuditLog).where(AuditLog.id == row.id).values(action="tampered"))
        db.flush()
    db.rollback()
    assert audit_rows(db)[0].action == "create"


def test_audit_rows_cannot_be_deleted(make_user: Any, db: Session) -> None:
    make_user("trainer")
    with pytest.raises((DBAPIError,)):
        db.execute(delete(AuditLog))
        db.flush()
    db.rollback()
    assert len(audit_rows(db)) == 1


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor_id = 42", "DELETE FROM audit_log WHERE action = 'create'"],
    ids=["update", "delete"],
)
def test_audit_log_refuses_raw_sql_rewrites(make_user: Any, engine: Any, statement: str) -> None:
    make_user("trainer")
    with pytest.raises((DBAPIError,)), engine.begin() as conn:
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), max(actor_id) FROM audit_log")).one() == (1, None)


def test_audit_log_still_accepts_new_rows(make_user: Any, db: Session) -> None:
    make_user("trainer", email="one@example.org")
    make_user("trainer", email="two@example.org")
    assert [row.action for row in audit_rows(db)] == ["create", "create"]
