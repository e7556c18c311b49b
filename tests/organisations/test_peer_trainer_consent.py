"""An organisation's consent to be recommended to others as a peer trainer in the domains it is strong in:
given or withdrawn by form and by API (one rule set, OrganisationIn), shown on its page and in the exports,
off unless given, and never required of an import."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts import service as accounts
from crm.accounts.models import User
from crm.db.audit import AuditLog
from crm.organisations import service
from crm.organisations.imports import writer as importer
from crm.organisations.models import Organisation
from crm.organisations.schemas import OrganisationIn
from tests.api.conftest import ApiClient

CONSENT_LABEL = (
    "Agrees to be recommended to other organisations as a peer trainer in the domains it is strong in"
)


def consent_of(db: Session, organisation_id: int) -> bool:
    db.commit()  # a new transaction: SQLite would otherwise read the snapshot the last one began with
    db.expire_all()
    found = db.get(Organisation, organisation_id)
    assert found is not None
    return found.peer_trainer_consent


def edit_form(page: str) -> dict[str, Any]:
    """The fields of the edit form as shown (text inputs, chosen options and checked boxes)."""
    form: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "_csrf_token":
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                form.setdefault(name.group(1), []).append(value.group(1) if value else "on")
        else:
            form[name.group(1)] = value.group(1) if value else ""
    for select_name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        form[select_name] = chosen.group(1) if chosen else ""
    return {
        key: value[0] if isinstance(value, list) and len(value) == 1 else value for key, value in form.items()
    }


@pytest.fixture
def organisation(make_organisation: Any) -> Organisation:
    return make_organisation("Lyon Tutors", residence_city="Lyon", sectors=["education"])


@pytest.fixture
def as_officer(login: Any, officer: User) -> Any:
    return login(officer)


def test_a_new_organisation_has_not_agreed_until_it_says_so(organisation: Organisation) -> None:
    assert organisation.peer_trainer_consent is False
    assert OrganisationIn(name="X", origin_country="SN", residence_country="FR").peer_trainer_consent is False


def test_officer_records_the_consent_when_adding_an_organisation(
    as_officer: Any, db: Session, reference: None
) -> None:
    form = as_officer.get("/organisations/new").text
    assert f'name="peer_trainer_consent" value="true" > {CONSENT_LABEL}' in form

    response = as_officer.submit(
        "/organisations/new",
        {
            "name": "Berlin Clinics",
            "origin_country": "ML",
            "residence_country": "DE",
            "provenance": "officer_entry",
            "peer_trainer_consent": "true",
        },
        follow_redirects=False,
    )

    assert response.status_code == 303, response.text
    created = db.scalar(select(Organisation.id).where(Organisation.name == "Berlin Clinics"))
    assert created is not None and consent_of(db, created) is True


def test_a_representative_gives_then_withdraws_the_consent_on_the_edit_form(
    login: Any, db: Session, make_representative: Any, organisation: Organisation
) -> None:
    client = login(make_representative(organisation))
    url = f"/organisations/{organisation.id}/edit"

    form = edit_form(client.get(url).text)
    assert "peer_trainer_consent" not in form
    given = client.submit(url, {**form, "peer_trainer_consent": "true"}, follow_redirects=False)
    assert given.status_code == 303, given.text
    assert consent_of(db, organisation.id) is True

    form = edit_form(client.get(url).text)
    assert form["peer_trainer_consent"] == "true"
    form.pop("peer_trainer_consent")
    withdrawn = client.submit(url, form, follow_redirects=False)
    assert withdrawn.status_code == 303, withdrawn.text
    assert consent_of(db, organisation.id) is False


def test_the_organisation_page_says_whether_it_agreed(
    as_officer: Any, db: Session, organisation: Organisation
) -> None:
    assert "Peer trainer: not offered" in as_officer.get(f"/organisations/{organisation.id}").text

    organisation.peer_trainer_consent = True
    db.commit()

    page = as_officer.get(f"/organisations/{organisation.id}").text
    assert "Peer trainer: agrees to be recommended to other organisations as a peer trainer" in page


def test_the_api_reads_and_writes_the_consent(
    db: Session, client: Any, officer: User, organisation: Organisation, reference: None
) -> None:
    api = ApiClient(client, accounts.create_api_token(db, officer, "t").secret)
    db.commit()
    url = f"/api/v1/organisations/{organisation.id}"

    current = api.get(url).json()
    assert current["peer_trainer_consent"] is False
    body = {k: v for k, v in current.items() if k not in ("id", "completeness", "capacity_band")}
    updated = api.put(url, json={**body, "peer_trainer_consent": True})
    assert updated.status_code == 200, updated.text
    assert updated.json()["peer_trainer_consent"] is True
    assert consent_of(db, organisation.id) is True

    created = api.post(
        "/api/v1/organisations",
        json={
            "name": "Paris Doctors",
            "origin_country": "ML",
            "residence_country": "FR",
            "peer_trainer_consent": True,
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["peer_trainer_consent"] is True
    omitted = api.post(
        "/api/v1/organisations",
        json={"name": "Quiet Doctors", "origin_country": "ML", "residence_country": "FR"},
    )
    assert omitted.json()["peer_trainer_consent"] is False


@pytest.mark.parametrize("value", ["maybe", 3, [True]])
def test_the_api_refuses_a_consent_that_is_not_yes_or_no(
    db: Session, client: Any, officer: User, reference: None, value: Any
) -> None:
    api = ApiClient(client, accounts.create_api_token(db, officer, "t").secret)
    db.commit()

    response = api.post(
        "/api/v1/organisations",
        json={
            "name": "Unsure",
            "origin_country": "ML",
            "residence_country": "FR",
            "peer_trainer_consent": value,
        },
    )

    assert response.status_code == 400
    assert "peer_trainer_consent" in response.text


def test_the_export_lists_the_consent(as_officer: Any, db: Session, organisation: Organisation) -> None:
    organisation.peer_trainer_consent = True
    db.commit()

    response = as_officer.get("/organisations/export/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))

    assert [row["peer_trainer_consent"] for row in rows] == ["True"]


def test_an_import_without_the_column_creates_organisations_that_have_not_agreed(
    db: Session, reference: None
) -> None:
    data = "Name,Country of residence,Country of origin\nImported Group,France,Sénégal\n".encode()

    report = importer.import_organisations(
        db, io.BytesIO(data), "list.csv", dry_run=False, valid_only=False, source=None
    )
    db.commit()

    assert report.created == 1
    created = db.scalar(select(Organisation).where(Organisation.name == "Imported Group"))
    assert created is not None and created.peer_trainer_consent is False


def test_changing_the_consent_is_kept_in_the_audit_log(
    db: Session, organisation: Organisation, reference: None
) -> None:
    values = OrganisationIn.model_validate(
        {
            "name": organisation.name,
            "origin_country": organisation.origin_country,
            "residence_country": organisation.residence_country,
            "peer_trainer_consent": True,
        }
    )
    service.update_organisation(db, organisation, values, organisation.version)
    db.commit()

    entries = db.scalars(
        select(AuditLog).where(AuditLog.entity == "organisations", AuditLog.entity_id == str(organisation.id))
    ).all()
    assert any("peer_trainer_consent" in entry.changes for entry in entries)
