"""What people and programs get when something goes wrong: HTML pages with the layout, JSON under /api/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar

from crm.accounts import service
from crm.accounts.models import User
from tests.conftest import Client


@pytest.fixture
def browser(app: Litestar) -> Iterator[Client]:
    """A browser that sees what a real server would send, instead of the test client re-raising errors."""
    with Client(app=app, base_url="http://testserver.local", raise_server_exceptions=False) as client:
        yield client


def _is_html_page_with_layout(response: Any) -> bool:
    return (
        response.headers.get("content-type", "").startswith("text/html")
        and re.search(r'<header class="site-header[^"]*">', response.text) is not None
        and '<link rel="stylesheet" href="/static/app.css">' in response.text
    )


def test_visitor_opening_an_unknown_page_gets_a_page_not_found_page(browser: Client) -> None:
    response = browser.get("/no/such/page")
    assert response.status_code == 404
    assert _is_html_page_with_layout(response)
    assert "<h1>Page not found</h1>" in response.text


def test_signed_in_user_opening_an_unknown_page_gets_a_page_not_found_page(
    browser: Client, officer: User, db: Any
) -> None:
    browser.cookies.set("crm_session", service.start_session(db, officer, "127.0.0.1", days=1))
    db.commit()
    response = browser.get("/no/such/page")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.text
    assert "Omar Officer" in response.text


def test_page_asked_with_a_method_it_does_not_accept_gets_an_html_error_page(browser: Client) -> None:
    response = browser.get("/logout")
    assert response.status_code == 405
    assert _is_html_page_with_layout(response)
    assert "<h1>Method not allowed</h1>" in response.text


def test_language_can_be_switched_from_a_page_not_found_page(browser: Client) -> None:
    page = browser.get("/no/such/page")
    link = re.search(r'href="(/language/fr\?next=[^"]*)"', page.text)
    assert link is not None
    response = browser.get(link.group(1).replace("&amp;", "&"), follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/no/such/page"
    assert response.cookies.get("crm_lang") == "fr"


def test_unknown_api_address_gets_a_json_404(browser: Client) -> None:
    response = browser.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"]["status"] == 404
    assert body["error"]["title"] == "Page not found"
    assert body["error"]["detail"]


def test_missing_record_in_an_existing_route_gets_a_page_not_found_page(admin: User, login: Any) -> None:
    response = login(admin).get("/admin/users/999999")
    assert response.status_code == 404
    assert _is_html_page_with_layout(response)
    assert "<h1>Page not found</h1>" in response.text


def test_representative_opening_user_admin_gets_an_access_denied_page(make_user: Any, login: Any) -> None:
    representative = make_user("org_representative", full_name="Rita Representative")
    response = login(representative).get("/admin/users")
    assert response.status_code == 403
    assert _is_html_page_with_layout(response)
    assert "<h1>Access denied</h1>" in response.text
    assert "You do not have permission to see or change this." in response.text
    assert "Rita Representative" in response.text


def test_unknown_language_gets_a_bad_request_page(client: Client) -> None:
    response = client.get("/language/xx")
    assert response.status_code == 400
    assert _is_html_page_with_layout(response)
    assert "<h1>Bad request</h1>" in response.text
    assert "Unknown language." in response.text


def test_anonymous_htmx_request_is_told_to_go_to_login(client: Client) -> None:
    response = client.hx_get("/admin/users", follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/admin/users"
    assert "location" not in response.headers


def test_anonymous_htmx_request_keeps_its_query_in_the_login_redirect(client: Client) -> None:
    response = client.hx_get("/admin/users?q=ada&page=2", follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/admin/users%3Fq%3Dada%26page%3D2"


def test_anonymous_page_request_is_redirected_to_login(client: Client) -> None:
    response = client.get("/account/tokens", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=/account/tokens"


def test_an_api_request_without_a_token_reads_a_real_message(client: Client) -> None:
    response = client.get("/api/v1/organisations")
    assert response.status_code == 401
    detail = response.json()["error"]["detail"]
    assert "Project-Id-Version" not in detail and detail


def test_a_nul_byte_in_an_address_is_not_found_not_an_error(client: Client) -> None:
    assert client.get("/static/%00").status_code == 404
    assert client.get("/static/app.css%00.js").status_code == 404


def test_an_htmx_request_refused_gets_the_message_alone_not_a_second_page(
    make_user: Any, login: Any, make_organisation: Any
) -> None:
    private = make_organisation("Private Association", consent_to_share=False)
    browser = login(make_user("trainer"))
    response = browser.hx_get(f"/organisations/{private.id}/contacts")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.text
    assert '<header class="site-header' not in response.text and "<html" not in response.text
