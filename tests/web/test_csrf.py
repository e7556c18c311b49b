"""Every form POST must carry the CSRF token of the browser that loaded the page, in form or header."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.middleware.csrf import generate_csrf_token
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts import service
from crm.accounts.models import User
from tests.conftest import PASSWORD, SECRET

REDIRECTS = (302, 303)


@dataclass(frozen=True)
class Action:
    """A form the app serves, and how to tell whether posting it took effect."""

    path: str
    form: dict[str, Any]
    took_effect: Callable[[Any, Any, Session], bool]


def _signed_in_again(response: Any, client: Any, db: Session) -> bool:
    return response.status_code in REDIRECTS and "crm_session" in response.cookies


def _signed_out(response: Any, client: Any, db: Session) -> bool:
    return client.get("/", follow_redirects=False).status_code != 200


def _user_created(response: Any, client: Any, db: Session) -> bool:
    return db.scalar(select(User).where(User.email == "newcomer@example.org")) is not None


ACTIONS = {
    "login": Action("/login", {"email": "admin@example.org", "password": PASSWORD}, _signed_in_again),
    "logout": Action("/logout", {}, _signed_out),
    "new user": Action(
        "/admin/users/new",
        {
            "email": "newcomer@example.org",
            "roles": ["trainer"],
            "language": "en",
            "time_zone": "Europe/Paris",
            "is_active": "true",
            "password": "a long enough password",
        },
        _user_created,
    ),
}


@pytest.fixture(params=list(ACTIONS), ids=list(ACTIONS))
def action(request: pytest.FixtureRequest) -> Action:
    return ACTIONS[request.param]


@pytest.fixture
def browser(admin: User, login: Any) -> Any:
    """The admin's browser, holding a CSRF cookie as it would after loading any page."""
    client = login(admin)
    assert client.get("/").status_code == 200
    assert "csrftoken" in client.cookies
    return client


def _assert_refused(response: Any, client: Any, db: Session, action: Action) -> None:
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Access denied</h1>" in response.text
    db.expire_all()
    assert not action.took_effect(response, client, db)


def test_form_posted_without_csrf_token_is_refused(browser: Any, action: Action, db: Session) -> None:
    response = browser.post(action.path, data=action.form, follow_redirects=False)
    _assert_refused(response, browser, db, action)


def test_form_posted_with_a_forged_csrf_token_is_refused(browser: Any, action: Action, db: Session) -> None:
    forged = "0" * len(browser.csrf_token())
    response = browser.post(action.path, data={**action.form, "_csrf_token": forged}, follow_redirects=False)
    _assert_refused(response, browser, db, action)


def test_form_posted_with_another_browsers_csrf_token_is_refused(
    browser: Any, action: Action, db: Session
) -> None:
    # Validly signed by this app, as the attacker's own browser would have received it.
    attackers_token = generate_csrf_token(SECRET)
    assert attackers_token != browser.csrf_token()
    response = browser.post(
        action.path, data={**action.form, "_csrf_token": attackers_token}, follow_redirects=False
    )
    _assert_refused(response, browser, db, action)


def test_form_posted_with_a_token_but_no_csrf_cookie_is_refused(
    browser: Any, action: Action, db: Session
) -> None:
    token = browser.csrf_token()
    browser.cookies.delete("csrftoken")
    response = browser.post(action.path, data={**action.form, "_csrf_token": token}, follow_redirects=False)
    _assert_refused(response, browser, db, action)


def test_form_posted_with_its_csrf_token_works(browser: Any, action: Action, db: Session) -> None:
    response = browser.submit(action.path, action.form, follow_redirects=False)
    assert response.status_code in REDIRECTS
    db.expire_all()
    assert action.took_effect(response, browser, db)


def test_htmx_request_with_csrf_header_works(browser: Any, action: Action, db: Session) -> None:
    response = browser.post(
        action.path,
        data=action.form,
        headers={"x-csrftoken": browser.csrf_token(), "HX-Request": "true"},
        follow_redirects=False,
    )
    assert response.status_code in REDIRECTS
    db.expire_all()
    assert action.took_effect(response, browser, db)


def test_htmx_request_with_a_forged_csrf_header_is_refused(browser: Any, action: Action, db: Session) -> None:
    response = browser.post(
        action.path,
        data=action.form,
        headers={"x-csrftoken": "f" * len(browser.csrf_token()), "HX-Request": "true"},
        follow_redirects=False,
    )
    _assert_refused(response, browser, db, action)


def test_every_page_gives_htmx_the_csrf_token_of_the_cookie(browser: Any) -> None:
    page = browser.get("/admin/users")
    assert f'hx-headers=\'{{"x-csrftoken": "{browser.csrf_token()}"}}\'' in page.text


def test_api_post_with_a_bearer_token_needs_no_csrf_token(browser: Any, admin: User, db: Session) -> None:
    secret = service.create_api_token(db, admin, "feed").secret
    db.commit()
    browser.cookies.clear()
    response = browser.post("/api/v1/organisations", json={}, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code not in (401, 403)
    assert response.status_code < 500
    assert response.headers["content-type"].startswith("application/json")


def test_api_post_without_csrf_token_cannot_ride_on_the_session_cookie(browser: Any) -> None:
    # The CSRF exemption of /api/ is safe only because the API never trusts the session cookie.
    response = browser.post("/api/v1/organisations", json={"name": "Forged Organisation"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
