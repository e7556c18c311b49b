"""The administrator lists, searches, creates and edits users through /admin/users."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.accounts import service
from crm.accounts.models import User
from crm.accounts.permissions import SESSION_COOKIE
from crm.accounts.roles import Role
from tests.conftest import PASSWORD

NEW_PASSWORD = "a brand new password"


def new_user_form(**changes: Any) -> dict[str, Any]:
    form = {
        "email": "grace@example.org",
        "full_name": "Grace Newcomer",
        "roles": ["trainer", "org_representative"],
        "language": "fr",
        "time_zone": "Africa/Dakar",
        "is_active": "true",
        "password": "a long enough password",
    }
    form.update(changes)
    return form


def edit_form(user: User, **changes: Any) -> dict[str, Any]:
    """What the edit page posts back when the admin changes nothing but `changes`."""
    form = {
        "email": user.email,
        "full_name": user.full_name,
        "roles": sorted(role.value for role in user.roles),
        "language": user.language,
        "time_zone": user.time_zone,
        "is_active": "true" if user.is_active else None,
        "version": user.version,
        "password": "",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<small class="field-error" id="([^"]+)-error">([^<]*)</small>', html))


def user_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


def signs_in(db: Session, email: str, password: str) -> bool:
    db.expire_all()
    return service.check_credentials(db, email, password) is not None


def reload(db: Session, user: User) -> User:
    db.expire_all()
    found = db.get(User, user.id)
    assert found is not None
    return found


@pytest.fixture
def admin_browser(admin: User, login: Any) -> Any:
    return login(admin)


# Listing -------------------------------------------------------------------------------------------------


@pytest.fixture
def thirty_members(make_user: Any) -> list[User]:
    return [make_user("trainer", email=f"member{n:02d}@example.org") for n in range(1, 31)]


def listed_emails(html: str) -> list[str]:
    return re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', html)


def test_admin_sees_the_first_page_of_users_sorted_by_email(admin_browser: Any, thirty_members: Any) -> None:
    response = admin_browser.get("/admin/users")
    assert response.status_code == 200
    emails = listed_emails(response.text)
    assert emails == ["admin@example.org"] + [f"member{n:02d}@example.org" for n in range(1, 25)]
    assert "31 users" in response.text
    assert 'href="/admin/users?page=2"' in response.text


def test_admin_sees_the_rest_of_the_users_on_page_two(admin_browser: Any, thirty_members: Any) -> None:
    response = admin_browser.get("/admin/users?page=2")
    assert response.status_code == 200
    assert listed_emails(response.text) == [f"member{n:02d}@example.org" for n in range(25, 31)]
    assert 'href="/admin/users?page=1"' in response.text
    assert 'rel="next"' not in response.text


def test_admin_finds_a_user_by_part_of_the_email(admin_browser: Any, thirty_members: Any) -> None:
    response = admin_browser.get("/admin/users?q=MEMBER07")
    assert listed_emails(response.text) == ["member07@example.org"]
    assert "1 user" in response.text


def test_admin_finds_a_user_by_name(admin_browser: Any, make_user: Any) -> None:
    make_user("trainer", email="t1@example.org", full_name="Aminata Touré")
    make_user("trainer", email="t2@example.org", full_name="Bruno Lefèvre")
    assert listed_emails(admin_browser.get("/admin/users?q=aminata").text) == ["t1@example.org"]


def test_search_pages_keep_the_search(admin_browser: Any, thirty_members: Any) -> None:
    response = admin_browser.get("/admin/users?q=member")
    assert "30 users" in response.text
    assert 'href="/admin/users?q=member&amp;page=2"' in response.text
    page_two = admin_browser.get("/admin/users?q=member&page=2")
    assert listed_emails(page_two.text) == [f"member{n:02d}@example.org" for n in range(26, 31)]


def test_search_that_matches_nobody_says_so(admin_browser: Any) -> None:
    response = admin_browser.get("/admin/users?q=nobody-at-all")
    assert response.status_code == 200
    assert "No user matches this search." in response.text


# Creating ------------------------------------------------------------------------------------------------


def test_admin_creates_a_user_with_several_roles(admin_browser: Any, db: Session) -> None:
    response = admin_browser.submit("/admin/users/new", new_user_form(), follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/admin/users"
    created = service.get_user_by_email(db, "grace@example.org")
    assert created is not None
    assert created.roles == {Role.TRAINER, Role.ORG_REPRESENTATIVE}
    assert created.full_name == "Grace Newcomer"
    assert (created.language, created.time_zone, created.is_active) == ("fr", "Africa/Dakar", True)
    assert signs_in(db, "grace@example.org", "a long enough password")
    assert "User grace@example.org created." in admin_browser.get("/admin/users").text


def test_created_user_can_sign_in(admin_browser: Any, db: Session) -> None:
    admin_browser.submit("/admin/users/new", new_user_form(email="Grace@Example.org"))
    admin_browser.cookies.clear()  # Grace's own browser
    response = admin_browser.submit(
        "/login", {"email": "grace@example.org", "password": "a long enough password"}, follow_redirects=False
    )
    assert response.status_code in (302, 303)
    assert "Grace Newcomer" in admin_browser.get("/").text


def test_user_created_without_the_active_box_cannot_sign_in(admin_browser: Any, db: Session) -> None:
    form = new_user_form()
    del form["is_active"]
    admin_browser.submit("/admin/users/new", form)
    created = service.get_user_by_email(db, "grace@example.org")
    assert created is not None and created.is_active is False
    assert not signs_in(db, "grace@example.org", "a long enough password")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password": "too short"}, "password", "Password must be at least 10 characters long."),
        ({"password": ""}, "password", "Set a first password."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone."),
        ({"language": "de"}, "language", "Choose one of the options."),
        ({"roles": ["admin", "emperor"]}, "roles", "Choose one of the options."),
    ],
    ids=[
        "short password",
        "no password",
        "invalid email",
        "unknown time zone",
        "unknown language",
        "unknown role",
    ],
)
def test_invalid_new_user_form_is_shown_again_with_the_message_next_to_the_field(
    admin_browser: Any, db: Session, changes: dict[str, Any], field: str, message: str
) -> None:
    before = user_count(db)
    response = admin_browser.submit("/admin/users/new", new_user_form(**changes))
    assert response.status_code == 200
    assert field_errors(response.text) == {field: message}
    assert "Please correct the fields marked below." in response.text
    assert 'value="Grace Newcomer"' in response.text
    assert user_count(db) == before


@pytest.mark.parametrize(
    ("changes", "field", "messages"),
    [
        ({"email": ""}, "email", {"This field is required."}),
        ({"roles": []}, "roles", {"Choose at least one.", "This field is required."}),
    ],
    ids=["missing email", "no role"],
)
def test_missing_email_or_role_is_explained_in_the_users_words(
    admin_browser: Any, db: Session, changes: dict[str, Any], field: str, messages: set[str]
) -> None:
    before = user_count(db)
    response = admin_browser.submit("/admin/users/new", new_user_form(**changes))
    assert response.status_code == 200
    assert user_count(db) == before
    assert field_errors(response.text)[field] in messages


@pytest.mark.parametrize(("changes", "field"), [({"email": ""}, "email"), ({"roles": []}, "roles")])
def test_new_user_without_email_or_role_is_refused_next_to_the_field(
    admin_browser: Any, db: Session, changes: dict[str, Any], field: str
) -> None:
    before = user_count(db)
    response = admin_browser.submit("/admin/users/new", new_user_form(**changes))
    assert response.status_code == 200
    assert list(field_errors(response.text)) == [field]
    assert user_count(db) == before


def test_second_user_with_the_same_email_is_refused(admin_browser: Any, officer: User, db: Session) -> None:
    before = user_count(db)
    response = admin_browser.submit("/admin/users/new", new_user_form(email=" Officer@Example.org "))
    assert response.status_code == 200
    assert field_errors(response.text) == {"email": "A user with this email already exists."}
    assert user_count(db) == before
    assert reload(db, officer).full_name == "Omar Officer"


# Editing -------------------------------------------------------------------------------------------------


def test_admin_edits_a_users_name_roles_and_language(admin_browser: Any, officer: User, db: Session) -> None:
    version = officer.version
    page = admin_browser.get(f"/admin/users/{officer.id}")
    assert page.status_code == 200
    assert f'name="version" value="{version}"' in page.text
    form = edit_form(officer, full_name="Omar O.", roles=["liaison_officer", "trainer"], language="fr")
    response = admin_browser.submit(f"/admin/users/{officer.id}", form, follow_redirects=False)
    assert response.status_code in (302, 303)
    saved = reload(db, officer)
    assert (saved.full_name, saved.language) == ("Omar O.", "fr")
    assert saved.roles == {Role.LIAISON_OFFICER, Role.TRAINER}
    assert saved.version == version + 1


def test_edit_cannot_change_the_email(admin_browser: Any, officer: User, db: Session) -> None:
    admin_browser.submit(f"/admin/users/{officer.id}", edit_form(officer, email="someone-else@example.org"))
    assert reload(db, officer).email == "officer@example.org"


def test_edit_of_a_user_changed_meanwhile_is_refused_and_changes_nothing(
    admin_browser: Any, officer: User, db: Session
) -> None:
    stale = edit_form(officer, full_name="Stale Name", roles=["trainer"])
    officer.full_name = "Changed Meanwhile"
    db.commit()
    response = admin_browser.submit(f"/admin/users/{officer.id}", stale)
    assert response.status_code == 200
    assert "Someone else changed this user after you opened it." in response.text
    saved = reload(db, officer)
    assert saved.full_name == "Changed Meanwhile"
    assert saved.roles == {Role.LIAISON_OFFICER}


def test_admin_cannot_remove_own_admin_role(admin_browser: Any, admin: User, db: Session) -> None:
    response = admin_browser.submit(f"/admin/users/{admin.id}", edit_form(admin, roles=["liaison_officer"]))
    assert response.status_code == 200
    assert field_errors(response.text) == {"roles": "You cannot remove your own administrator access."}
    assert reload(db, admin).roles == {Role.ADMIN}


def test_admin_cannot_disable_own_account(admin_browser: Any, admin: User, db: Session) -> None:
    response = admin_browser.submit(f"/admin/users/{admin.id}", edit_form(admin, is_active=None))
    assert response.status_code == 200
    assert "You cannot remove your own administrator access." in response.text
    assert reload(db, admin).is_active is True


def test_admin_can_remove_another_admins_role(admin_browser: Any, make_user: Any, db: Session) -> None:
    other = make_user("admin", "trainer", email="other-admin@example.org")
    admin_browser.submit(f"/admin/users/{other.id}", edit_form(other, roles=["trainer"]))
    assert reload(db, other).roles == {Role.TRAINER}


def test_edit_with_a_short_new_password_changes_nothing(
    admin_browser: Any, officer: User, db: Session
) -> None:
    form = edit_form(officer, full_name="Half Saved", roles=["trainer"], password="short")
    response = admin_browser.submit(f"/admin/users/{officer.id}", form)
    assert response.status_code == 200
    assert field_errors(response.text) == {"password": "Password must be at least 10 characters long."}
    saved = reload(db, officer)
    assert saved.full_name == "Omar Officer"
    assert saved.roles == {Role.LIAISON_OFFICER}


def test_new_password_set_by_the_admin_ends_the_users_sessions(
    admin_browser: Any, officer: User, db: Session
) -> None:
    officers_session = service.start_session(db, officer, "10.0.0.7", days=1)
    db.commit()
    admins_session = admin_browser.cookies[SESSION_COOKIE]

    response = admin_browser.submit(f"/admin/users/{officer.id}", edit_form(officer, password=NEW_PASSWORD))
    assert response.status_code == 200
    assert "User officer@example.org saved." in response.text

    # The same test browser plays the officer's browser: one test client per app is all conftest allows.
    admin_browser.cookies.set(SESSION_COOKIE, officers_session, domain="testserver.local")
    kicked_out = admin_browser.get("/", follow_redirects=False)
    assert kicked_out.status_code in (302, 303)
    assert kicked_out.headers["location"] == "/login?next=/"
    assert signs_in(db, officer.email, NEW_PASSWORD)
    assert not signs_in(db, officer.email, PASSWORD)

    admin_browser.cookies.set(SESSION_COOKIE, admins_session, domain="testserver.local")
    assert admin_browser.get("/admin/users").status_code == 200


def test_saving_without_a_new_password_keeps_the_users_sessions(
    admin_browser: Any, officer: User, db: Session
) -> None:
    officers_session = service.start_session(db, officer, "10.0.0.7", days=1)
    db.commit()
    admin_browser.submit(f"/admin/users/{officer.id}", edit_form(officer, full_name="Omar O."))
    admin_browser.cookies.set(SESSION_COOKIE, officers_session, domain="testserver.local")
    assert admin_browser.get("/", follow_redirects=False).status_code == 200
    assert signs_in(db, officer.email, PASSWORD)


def test_disabled_user_is_signed_out_at_the_next_request(
    admin_browser: Any, officer: User, db: Session
) -> None:
    officers_session = service.start_session(db, officer, "10.0.0.7", days=1)
    db.commit()
    admin_browser.submit(f"/admin/users/{officer.id}", edit_form(officer, is_active=None))
    admin_browser.cookies.set(SESSION_COOKIE, officers_session, domain="testserver.local")
    assert admin_browser.get("/", follow_redirects=False).status_code in (302, 303)


def test_editing_an_unknown_user_gets_404(admin_browser: Any, officer: User) -> None:
    assert admin_browser.get("/admin/users/999999").status_code == 404
    assert admin_browser.submit("/admin/users/999999", edit_form(officer)).status_code == 404
