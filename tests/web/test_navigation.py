"""Each role sees the navigation links of its work, and the guards refuse the pages it may not open."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from crm.accounts.models import ApiToken, User
from tests.conftest import Client

ALL_LINKS = {
    "Directory": "/organisations",
    "Map": "/map",
    "Partners": "/partners",
    "Import": "/import/organisations",
    "API tokens": "/account/tokens",
    "Users": "/admin/users",
}
STAFF_LINKS = set(ALL_LINKS)
OFFICER_LINKS = STAFF_LINKS - {"Users"}
FIELD_LINKS = {"Directory", "Map"}

ROLES = {
    "admin": ("admin",),
    "liaison officer": ("liaison_officer",),
    "representative": ("org_representative",),
    "trainer": ("trainer",),
    "trainer and representative": ("trainer", "org_representative"),
}


def nav_links(html: str) -> dict[str, str]:
    """Label → address of the links in the page header (the home page's cards repeat some of them)."""
    header = re.search(r'<header class="site-header[^"]*">(.*?)</header>', html, re.S)
    assert header, "the page has the site header"
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', header.group(1))
    return {label.strip(): href for href, label in links}


@pytest.fixture
def home_of(make_user: Any, login: Any) -> Any:
    def open_home(role: str) -> dict[str, str]:
        user = make_user(*ROLES[role], full_name=f"A {role}")
        response = login(user).get("/")
        assert response.status_code == 200
        assert f"A {role}" in response.text
        return nav_links(response.text)

    return open_home


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("admin", STAFF_LINKS),
        ("liaison officer", OFFICER_LINKS),
        ("representative", FIELD_LINKS),
        ("trainer", FIELD_LINKS),
        ("trainer and representative", FIELD_LINKS),
    ],
)
def test_home_page_navigation_shows_the_links_of_the_role(home_of: Any, role: str, shown: set[str]) -> None:
    links = home_of(role)
    for label in shown:
        assert links.get(label) == ALL_LINKS[label], f"{role} should see {label}"
    for label in set(ALL_LINKS) - shown:
        assert label not in links, f"{role} should not see {label}"


def test_admin_sees_users_and_api_tokens(home_of: Any) -> None:
    links = home_of("admin")
    assert links["Users"] == "/admin/users"
    assert links["API tokens"] == "/account/tokens"


def test_officer_sees_api_tokens_and_import_but_not_users(home_of: Any) -> None:
    links = home_of("liaison officer")
    assert links["API tokens"] == "/account/tokens"
    assert links["Import"] == "/import/organisations"
    assert "Users" not in links


@pytest.mark.parametrize("role", ["representative", "trainer", "trainer and representative"])
def test_field_roles_see_directory_and_map_only(home_of: Any, role: str) -> None:
    links = home_of(role)
    assert links["Directory"] == "/organisations"
    assert links["Map"] == "/map"
    assert not {"Users", "API tokens", "Import"} & set(links)


def test_nav_marks_the_current_section(admin: Any, login: Any) -> None:
    html = login(admin).get("/admin/users").text
    assert re.search(r'<a href="/admin/users"\s+aria-current="page">Users</a>', html)
    assert not re.search(r'<a href="/account/tokens"\s+aria-current="page">', html)


def test_anonymous_visitor_of_home_is_sent_to_login(client: Client) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=/"


def test_anonymous_login_page_has_no_navigation(client: Client) -> None:
    links = nav_links(client.get("/login").text)
    assert not set(ALL_LINKS) & set(links)
    assert "Sign out" not in client.get("/login").text


GUARDED = [
    ("representative", "GET", "/admin/users"),
    ("representative", "GET", "/admin/users/new"),
    ("representative", "POST", "/admin/users/new"),
    ("trainer", "GET", "/admin/users"),
    ("trainer and representative", "GET", "/admin/users"),
    ("liaison officer", "GET", "/admin/users"),
    ("liaison officer", "GET", "/admin/users/new"),
    ("liaison officer", "POST", "/admin/users/new"),
]


@pytest.mark.parametrize(("role", "method", "path"), GUARDED)
def test_role_cannot_open_a_page_beyond_its_work(
    make_user: Any, login: Any, db: Any, role: str, method: str, path: str
) -> None:
    browser = login(make_user(*ROLES[role]))
    form = {"email": "sneaky@example.org", "roles": ["admin"], "password": "a long enough password"}
    form["name"] = "sneaky token"
    response = browser.submit(path, form) if method == "POST" else browser.get(path)
    assert response.status_code == 403
    assert "<h1>Access denied</h1>" in response.text
    assert db.scalar(select(User).where(User.email == "sneaky@example.org")) is None
    assert db.scalar(select(ApiToken).where(ApiToken.name == "sneaky token")) is None


def test_representative_cannot_open_user_admin(make_user: Any, login: Any) -> None:
    assert login(make_user("org_representative")).get("/admin/users").status_code == 403


@pytest.mark.parametrize("role", ["representative", "trainer", "trainer and representative"])
def test_every_signed_in_user_can_open_their_api_tokens(make_user: Any, login: Any, role: str) -> None:
    """The API gives a token's holder the rights of their pages, so everyone may hold (and revoke) tokens."""
    assert login(make_user(*ROLES[role])).get("/account/tokens").status_code == 200


def test_officer_cannot_open_user_admin(officer: Any, login: Any) -> None:
    assert login(officer).get("/admin/users").status_code == 403


def test_officer_can_open_api_tokens(officer: Any, login: Any) -> None:
    assert login(officer).get("/account/tokens").status_code == 200


def test_admin_can_open_user_admin_and_api_tokens(admin: Any, login: Any) -> None:
    browser = login(admin)
    assert browser.get("/admin/users").status_code == 200
    assert browser.get("/account/tokens").status_code == 200
