"""Every page is served with strict security headers and HTML that the strict CSP can run unchanged."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar

from crm.accounts.models import User
from tests.conftest import Client


@dataclass(frozen=True)
class Page:
    persona: str | None
    path: str
    status: int
    method: str = "GET"
    form: tuple[tuple[str, Any], ...] = ()


PAGES = {
    "login": Page(None, "/login", 200),
    "login with an error": Page(None, "/login", 200, "POST", (("email", "x@example.org"), ("password", "x"))),
    "home": Page("admin", "/", 200),
    "user list": Page("admin", "/admin/users", 200),
    "new user form": Page("admin", "/admin/users/new", 200),
    "user form with errors": Page("admin", "/admin/users/new", 200, "POST", (("email", ""),)),
    "edit user form": Page("admin", "/admin/users/{admin_id}", 200),
    "API tokens": Page("officer", "/account/tokens", 200),
    "new API token": Page("officer", "/account/tokens", 200, "POST", (("name", "Embassy feed"),)),
    "access denied page": Page("representative", "/admin/users", 403),
    "missing record page": Page("admin", "/admin/users/999999", 404),
    "bad request page": Page(None, "/language/xx", 400),
    "unknown page": Page(None, "/no/such/page", 404),
}
UNROUTED = {"unknown page"}


@pytest.fixture
def open_page(
    request: pytest.FixtureRequest, app: Litestar, admin: User, officer: User, make_user: Any, login: Any
) -> Callable[[str], Any]:
    """Fetch one of PAGES as its persona, with one browser per test."""

    def open_(name: str) -> Any:
        page = PAGES[name]
        if page.persona is None:
            browser = request.getfixturevalue("client")
        elif page.persona == "representative":
            browser = login(make_user("org_representative"))
        else:
            browser = login({"admin": admin, "officer": officer}[page.persona])
        path = page.path.format(admin_id=admin.id)
        response = browser.submit(path, dict(page.form)) if page.method == "POST" else browser.get(path)
        assert response.status_code == page.status, response.text
        assert response.headers["content-type"].startswith("text/html")
        return response

    return open_


def _pages() -> list[Any]:
    return [pytest.param(name) for name in PAGES]


def _csp(response: Any) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("name", _pages())
def test_page_has_a_csp_without_inline_scripts(open_page: Callable[[str], Any], name: str) -> None:
    csp = _csp(open_page(name))
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["style-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]


@pytest.mark.parametrize("name", _pages())
def test_page_refuses_framing_sniffing_and_leaking_referrers(
    open_page: Callable[[str], Any], name: str
) -> None:
    response = open_page(name)
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in (
        "same-origin",
        "no-referrer",
        "strict-origin-when-cross-origin",
    )


@pytest.mark.parametrize("name", _pages())
def test_page_loads_nothing_from_another_host(open_page: Callable[[str], Any], name: str) -> None:
    html = open_page(name).text
    assert re.search(r"<(?:link|script|a|img|form)\b", html)
    remote = re.findall(
        r"""\b(?:src|href|action|srcset)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]*)""", html, re.I
    )
    assert remote == []


@pytest.mark.parametrize("name", _pages())
def test_page_has_no_inline_script_or_style(open_page: Callable[[str], Any], name: str) -> None:
    html = open_page(name).text
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script\s*>", html, re.I | re.S)
    assert scripts, "the layout loads its scripts from /static"
    assert [body for body in scripts if body.strip()] == []
    assert re.findall(r"<[a-z][^>]*\sstyle\s*=", html, re.I) == []
    assert re.findall(r"<style\b", html, re.I) == []
    assert re.findall(r"<[a-z][^>]*\son[a-z]+\s*=", html, re.I) == []


def test_request_for_another_host_is_refused(client: Client) -> None:
    response = client.get("/login", headers={"Host": "evil.example.com"})
    assert response.status_code == 400
    assert "crm_session" not in response.headers.get("set-cookie", "")


def test_request_for_a_served_host_on_another_port_is_accepted(client: Client) -> None:
    assert client.get("/login", headers={"Host": "testserver.local:8443"}).status_code == 200


def test_host_that_only_ends_like_a_served_host_is_refused(client: Client) -> None:
    assert client.get("/login", headers={"Host": "eviltestserver.local"}).status_code == 400


def test_request_for_another_host_on_an_unknown_path_is_refused(client: Client) -> None:
    assert client.get("/no/such/page", headers={"Host": "evil.example.com"}).status_code == 400


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/vendor/htmx-2.0.11.min.js", "text/javascript"),
        ("/static/app.js", "text/javascript"),
        ("/static/app.css", "text/css"),
        ("/static/vendor/pico-2.1.1.min.css", "text/css"),
    ],
)
def test_static_file_is_served_with_its_type(client: Client, path: str, content_type: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert len(response.content) > 100


def test_static_folder_does_not_serve_files_outside_it(client: Client) -> None:
    response = client.get("/static/..%2f..%2fsettings.py")
    assert response.status_code == 404
    assert "SettingsError" not in response.text
