"""API tokens at /account/tokens, for every signed-in user: shown once, stored hashed, revoked by their owner,
and ended with the access they carried (a demotion, a new password)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from crm.accounts import service
from crm.accounts.models import ApiToken, User


def shown_secret(html: str) -> str | None:
    found = re.search(r'<pre class="secret"><code[^>]*>([^<]+)</code></pre>', html)
    return found.group(1) if found else None


def active_tokens(db: Session, user: User) -> list[ApiToken]:
    db.expire_all()
    return list(
        db.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    )


@pytest.fixture
def officer_browser(officer: User, login: Any) -> Any:
    return login(officer)


def test_officer_creates_a_token_and_sees_its_secret_once(
    officer_browser: Any, officer: User, db: Session
) -> None:
    response = officer_browser.submit("/account/tokens", {"name": "Embassy feed"})
    assert response.status_code == 200
    secret = shown_secret(response.text)
    assert secret is not None and secret.startswith("crm_")
    assert len(secret) >= 40
    assert "Copy this token now: it will not be shown again." in response.text

    again = officer_browser.get("/account/tokens")
    assert secret not in again.text
    assert "Embassy feed" in again.text
    assert f"<code>{secret[:10]}…</code>" in again.text


def test_the_page_shows_how_to_send_a_token_with_a_visible_placeholder(officer_browser: Any) -> None:
    page = officer_browser.get("/account/tokens").text

    assert "<code>Authorization: Bearer YOUR_TOKEN</code>" in page
    assert "Bearer <token>" not in page
    assert 'placeholder="e.g. Embassy data feed"' in page


def test_the_new_secret_comes_with_a_copy_button_and_a_live_region(officer_browser: Any) -> None:
    page = officer_browser.submit("/account/tokens", {"name": "Embassy feed"}).text

    button = re.search(r"<button [^>]*data-copy=\"new-token\"[^>]*>", page)
    assert button is not None
    assert 'data-copy-status="new-token-status"' in button.group(0)
    assert 'data-copied="Copied"' in button.group(0)
    assert '<code id="new-token">crm_' in page
    assert re.search(r'<span id="new-token-status"[^>]*aria-live="polite"', page)


def test_only_the_sha256_of_the_secret_is_stored(officer_browser: Any, officer: User, db: Session) -> None:
    secret = shown_secret(officer_browser.submit("/account/tokens", {"name": "Embassy feed"}).text)
    assert secret is not None
    [token] = active_tokens(db, officer)
    assert token.name == "Embassy feed"
    assert token.token_hash != secret
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [
        str(value)
        for table in ("api_tokens", "audit_log")
        for row in db.execute(text(f"SELECT * FROM {table}"))
        for value in row
    ]
    assert not [value for value in stored if secret in value]
    assert not [value for value in stored if secret[10:] in value]


def test_each_token_gets_its_own_secret(officer_browser: Any, officer: User, db: Session) -> None:
    first = shown_secret(officer_browser.submit("/account/tokens", {"name": "one"}).text)
    second = shown_secret(officer_browser.submit("/account/tokens", {"name": "two"}).text)
    assert first and second and first != second
    assert len(active_tokens(db, officer)) == 2


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_token_without_a_proper_name_is_refused(
    officer_browser: Any, officer: User, db: Session, name: str
) -> None:
    response = officer_browser.submit("/account/tokens", {"name": name})
    assert response.status_code == 200
    assert shown_secret(response.text) is None
    assert 'class="field-error" id="name-error"' in response.text
    assert active_tokens(db, officer) == []


def test_officer_revokes_own_token(officer_browser: Any, officer: User, db: Session) -> None:
    token = service.create_api_token(db, officer, "Embassy feed").token
    db.commit()
    response = officer_browser.submit(f"/account/tokens/{token.id}/revoke", {}, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/account/tokens"
    assert active_tokens(db, officer) == []
    assert db.get(ApiToken, token.id).revoked_at is not None
    page = officer_browser.get("/account/tokens")
    assert "Token revoked." in page.text
    assert "Embassy feed" not in page.text


def test_revoking_a_token_twice_gets_404(officer_browser: Any, officer: User, db: Session) -> None:
    token = service.create_api_token(db, officer, "Embassy feed").token
    db.commit()
    officer_browser.submit(f"/account/tokens/{token.id}/revoke", {})
    assert officer_browser.submit(f"/account/tokens/{token.id}/revoke", {}).status_code == 404


@pytest.mark.parametrize(
    "other_roles", [("liaison_officer",), ("admin",)], ids=["another officer", "an admin"]
)
def test_another_user_cannot_revoke_the_token(
    officer: User, make_user: Any, login: Any, db: Session, other_roles: tuple[str, ...]
) -> None:
    token = service.create_api_token(db, officer, "Embassy feed").token
    db.commit()
    other = login(make_user(*other_roles, email="other@example.org"))
    response = other.submit(f"/account/tokens/{token.id}/revoke", {})
    assert response.status_code == 404
    assert [t.id for t in active_tokens(db, officer)] == [token.id]


def test_token_list_shows_only_ones_own_tokens(officer_browser: Any, admin: User, db: Session) -> None:
    service.create_api_token(db, admin, "Admin's secret feed")
    db.commit()
    page = officer_browser.get("/account/tokens")
    assert "Admin&#39;s secret feed" not in page.text
    assert "Admin's secret feed" not in page.text
    assert "You have no API token yet." in page.text


def test_token_opens_the_api_until_it_is_revoked(officer_browser: Any, officer: User, db: Session) -> None:
    secret = shown_secret(officer_browser.submit("/account/tokens", {"name": "Embassy feed"}).text)
    [token] = active_tokens(db, officer)
    bearer = {"Authorization": f"Bearer {secret}"}
    # The API authenticates by token alone: the cookies this test browser also sends do not count.
    assert officer_browser.get("/api/v1/organisations", headers=bearer).status_code == 200
    officer_browser.submit(f"/account/tokens/{token.id}/revoke", {})
    refused = officer_browser.get("/api/v1/organisations", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["error"]["status"] == 401


def test_api_ignores_the_session_cookie(officer_browser: Any) -> None:
    response = officer_browser.get("/api/v1/organisations")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")


def test_token_use_is_recorded(officer_browser: Any, officer: User, db: Session) -> None:
    secret = service.create_api_token(db, officer, "Embassy feed").secret
    db.commit()
    officer_browser.get("/api/v1/organisations", headers={"Authorization": f"Bearer {secret}"})
    [token] = active_tokens(db, officer)
    assert token.last_used_at is not None
    assert "Never" not in officer_browser.get("/account/tokens").text
    assert db.scalar(select(func.count()).select_from(ApiToken)) == 1
