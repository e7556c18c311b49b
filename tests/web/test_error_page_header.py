"""Error pages keep the header of every other page: a signed-in user who lands on an unknown address still
has the sign-out button, with a CSRF token that signs them out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from crm.accounts.models import User
from tests.conftest import Client

SIGN_OUT = re.compile(
    r'<form method="post" action="/logout"[^>]*>\s*<input type="hidden" name="_csrf_token" value="([^"]+)">'
)


def tools(html: str) -> str:
    """The header's tools (language, who is signed in, sign-out), without the language links' way back."""
    found = re.search(r'<ul class="site-nav-tools">(.*?)</ul>', html, re.S)
    assert found, "the page has the header's tools"
    return re.sub(r"\?next=[^\"]*", "", found.group(1))


@pytest.mark.parametrize("path", ["/no/such/page", "/organisations/999999"])
def test_a_signed_in_users_page_not_found_has_the_sign_out_form(login: Any, officer: User, path: str) -> None:
    browser: Client = login(officer)
    home = browser.get("/").text

    response = browser.get(path)

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.text
    assert SIGN_OUT.search(response.text), "the 404 page has the sign-out form"
    assert tools(response.text) == tools(home)


def test_the_sign_out_button_of_a_page_not_found_signs_out(login: Any, officer: User) -> None:
    browser: Client = login(officer)
    # A browser that has not been given a CSRF cookie yet gets one with the page.
    assert "csrftoken" not in browser.cookies

    page = browser.get("/no/such/page")
    token = SIGN_OUT.search(page.text)

    assert token is not None and browser.cookies.get("csrftoken") == token.group(1)
    signed_out = browser.post("/logout", data={"_csrf_token": token.group(1)}, follow_redirects=False)
    assert signed_out.status_code in (302, 303) and signed_out.headers["location"] == "/login"
    assert browser.get("/", follow_redirects=False).headers["location"] == "/login?next=/"


def test_a_page_not_found_keeps_the_csrf_cookie_the_browser_already_has(login: Any, officer: User) -> None:
    browser: Client = login(officer)
    browser.get("/")
    cookie = browser.cookies["csrftoken"]

    page = browser.get("/no/such/page")

    assert "set-cookie" not in page.headers or "csrftoken" not in page.headers["set-cookie"]
    found = SIGN_OUT.search(page.text)
    assert found is not None and found.group(1) == cookie


def test_a_visitors_page_not_found_has_no_sign_out_form(client: Client) -> None:
    response = client.get("/no/such/page")

    assert response.status_code == 404
    assert "Sign out" not in response.text and 'action="/logout"' not in response.text
