"""A token carries its holder's access while they have it: a demotion or a new password ends it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts import service
from crm.accounts.models import ApiToken, User


def active_tokens(db: Session, user: User) -> list[ApiToken]:
    db.expire_all()
    return list(
        db.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    )


def test_a_demoted_officer_token_stops_opening_the_api(
    officer: User, api_client: Any, db: Session, make_organisation: Any
) -> None:
    organisation = make_organisation(consent_to_share=False)
    client = api_client(officer)
    assert client.get(f"/api/v1/organisations/{organisation.id}").status_code == 200
    service.set_roles(db, officer, ["trainer"])
    db.commit()
    assert client.get(f"/api/v1/organisations/{organisation.id}").status_code == 401
    assert active_tokens(db, officer) == []


def test_a_new_password_revokes_every_token(officer: User, api_client: Any, db: Session) -> None:
    client = api_client(officer)
    assert client.get("/api/v1/organisations").status_code == 200
    service.set_password(db, officer, "a brand new long password")
    db.commit()
    assert client.get("/api/v1/organisations").status_code == 401


def test_a_demoted_user_still_sees_and_revokes_their_tokens(officer: User, login: Any, db: Session) -> None:
    service.create_api_token(db, officer, "kept while demoted")
    service.set_roles(db, officer, ["org_representative"])
    db.commit()
    page = login(officer).get("/account/tokens")
    assert page.status_code == 200


def test_adding_a_role_keeps_the_tokens(officer: User, api_client: Any, db: Session) -> None:
    client = api_client(officer)
    service.set_roles(db, officer, ["liaison_officer", "trainer"])
    db.commit()
    assert client.get("/api/v1/organisations").status_code == 200
