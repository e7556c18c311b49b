"""Each request's session ends when the response starts: committed on success, rolled back otherwise, and a
commit that fails is never reported to the client as a success."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations.models import Organisation
from tests.conftest import Client

NEW_ORGANISATION = {
    "name": "Committed Or Not Collective",
    "origin_country": "SN",
    "residence_country": "FR",
    "provenance": "officer_entry",
}


def organisations(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(Organisation)) or 0


def test_a_successful_form_is_committed(login: Any, officer: User, db: Session, reference: None) -> None:
    response = login(officer).submit("/organisations/new", NEW_ORGANISATION, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert organisations(db) == 1


def test_a_failed_commit_is_an_error_and_saves_nothing(
    app: Litestar, login: Any, officer: User, db: Session, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page was rendered before the commit; when the commit fails, the server answers 500 instead of it
    (as uvicorn does for an application error raised before the response started), never the success page."""
    signed_in = login(officer)
    client = Client(app=app, base_url="http://testserver.local", raise_server_exceptions=False)
    client.blocking_portal = signed_in.blocking_portal  # the first client runs the app's lifespan
    client.cookies = signed_in.cookies
    assert client.get("/organisations/new").status_code == 200

    commit = Session.commit

    def refuse_writes(self: Session) -> None:
        # The sign-in lookup's own read-only transaction commits as usual; the form's write fails.
        if self.info.get("writes"):
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))
        commit(self)

    monkeypatch.setattr(Session, "commit", refuse_writes)
    response = client.submit("/organisations/new", NEW_ORGANISATION, follow_redirects=False)
    monkeypatch.undo()

    assert response.status_code == 500
    assert "location" not in response.headers
    assert organisations(db) == 0


def test_an_error_response_rolls_back(login: Any, officer: User, db: Session, reference: None) -> None:
    """A refused form (here a stale version) leaves the database as it was."""
    client = login(officer)
    client.submit("/organisations/new", NEW_ORGANISATION, follow_redirects=False)
    organisation = db.scalar(select(Organisation))
    assert organisation is not None
    stale = {**NEW_ORGANISATION, "name": "Renamed Too Late", "version": str(organisation.version - 1)}
    response = client.submit(f"/organisations/{organisation.id}/edit", stale, follow_redirects=False)
    assert response.status_code == 409
    db.rollback()
    assert db.scalar(select(Organisation.name)) == "Committed Or Not Collective"
