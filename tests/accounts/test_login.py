"""Signing in and out, sessions shared through the database, and login throttling."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from crm.accounts.models import UserSession
from crm.db.audit import AuditLog
from tests.conftest import PASSWORD


def test_login_page_is_served_to_anonymous_visitors(client: Any) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="password"' in response.text


def test_anonymous_visitor_is_sent_to_login_with_next(client: Any) -> None:
    response = client.get("/admin/users", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=/admin/users"


def test_user_signs_in_with_right_password(client: Any, officer: Any) -> None:
    response = client.submit(
        "/login", {"email": "OFFICER@example.org", "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert response.status_code in (302, 303)
    assert "crm_session" in client.cookies
    home = client.get("/")
    assert home.status_code == 200
    assert "Omar Officer" in home.text


def test_login_writes_audit_event(client: Any, officer: Any, db: Any) -> None:
    client.submit("/login", {"email": officer.email, "password": PASSWORD})
    actions = db.scalars(select(AuditLog.action).where(AuditLog.entity == "users")).all()
    assert "login" in actions


def test_wrong_password_is_refused_with_a_message(client: Any, officer: Any) -> None:
    response = client.submit("/login", {"email": officer.email, "password": "wrong password"})
    assert response.status_code == 200
    assert "Wrong email or password." in response.text
    assert "crm_session" not in client.cookies


def test_login_never_redirects_to_another_site(client: Any, officer: Any) -> None:
    response = client.submit(
        "/login",
        {"email": officer.email, "password": PASSWORD, "next": "//evil.example.com/"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_logout_invalidates_the_session_server_side(client: Any, officer: Any, db: Any) -> None:
    client.submit("/login", {"email": officer.email, "password": PASSWORD})
    stolen_cookie = client.cookies["crm_session"]
    client.submit("/logout", {})
    assert db.scalar(select(func.count()).select_from(UserSession)) == 0
    client.cookies.set("crm_session", stolen_cookie)
    response = client.get("/", follow_redirects=False)
    assert response.headers["location"].startswith("/login")


def test_eleventh_bad_login_in_a_minute_gets_429(client: Any, officer: Any) -> None:
    for _ in range(10):
        assert client.submit("/login", {"email": officer.email, "password": "nope"}).status_code == 200
    response = client.submit("/login", {"email": officer.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    assert "crm_session" not in client.cookies


def test_throttling_is_per_account(client: Any, officer: Any, admin: Any) -> None:
    for _ in range(10):
        client.submit("/login", {"email": officer.email, "password": "nope"})
    response = client.submit("/login", {"email": admin.email, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code in (302, 303)


def test_disabled_user_cannot_sign_in(client: Any, make_user: Any, db: Any) -> None:
    user = make_user("trainer", email="gone@example.org")
    user.is_active = False
    db.commit()
    response = client.submit("/login", {"email": "gone@example.org", "password": PASSWORD})
    assert "Wrong email or password." in response.text


def test_session_cookie_is_http_only(client: Any, officer: Any) -> None:
    response = client.submit("/login", {"email": officer.email, "password": PASSWORD}, follow_redirects=False)
    cookie = [v for k, v in response.headers.multi_items() if k == "set-cookie" and "crm_session" in v][0]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
