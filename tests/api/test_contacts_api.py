"""The contacts API: personal data that only staff and the organisation's own representatives see or change."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations.models import Contact
from crm.partners.models import PartnerActor
from tests.api.conftest import assert_error, field_keys

ORGANISATIONS = "/api/v1/organisations"
CONTACTS = "/api/v1/contacts"


def full_names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["full_name"] for item in response.json()["items"]]


@pytest.fixture
def organisation(make_organisation: Any) -> Any:
    return make_organisation("Home association")


@pytest.fixture
def contact(organisation: Any, make_contact: Any) -> Contact:
    return make_contact(organisation, "Awa Diop", email="awa@example.org", consent="given")


# Listing an organisation's contacts ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "liaison_officer"])
def test_staff_list_an_organisation_contacts(
    role: str, make_user: Any, api_client: Any, organisation: Any, make_contact: Any
) -> None:
    make_contact(organisation, "Moussa Ba")
    make_contact(organisation, "Awa Diop", email="awa@example.org")
    response = api_client(make_user(role)).get(f"{ORGANISATIONS}/{organisation.id}/contacts")
    assert full_names(response) == ["Awa Diop", "Moussa Ba"]
    assert response.json()["total"] == 2
    assert response.json()["items"][0]["email"] == "awa@example.org"


def test_representative_lists_own_organisation_contacts(
    api_client: Any, organisation: Any, contact: Contact, make_representative: Any
) -> None:
    client = api_client(make_representative(organisation))
    assert full_names(client.get(f"{ORGANISATIONS}/{organisation.id}/contacts")) == ["Awa Diop"]


def test_representative_cannot_list_contacts_of_other_organisation(
    api_client: Any, make_organisation: Any, make_contact: Any, make_representative: Any
) -> None:
    public_other = make_organisation("Public other")
    private_other = make_organisation("Private other", consent_to_share=False)
    make_contact(public_other)
    make_contact(private_other)
    client = api_client(make_representative(make_organisation("Own")))
    assert_error(client.get(f"{ORGANISATIONS}/{public_other.id}/contacts"), 403)
    assert_error(client.get(f"{ORGANISATIONS}/{private_other.id}/contacts"), 404)


def test_trainer_cannot_list_an_organisation_contacts(
    trainer: User, api_client: Any, organisation: Any, contact: Contact
) -> None:
    assert_error(api_client(trainer).get(f"{ORGANISATIONS}/{organisation.id}/contacts"), 403)


def test_organisation_contacts_are_paged(
    officer: User, api_client: Any, organisation: Any, make_contact: Any
) -> None:
    for name in ("A", "B", "C"):
        make_contact(organisation, name)
    body = api_client(officer).get(f"{ORGANISATIONS}/{organisation.id}/contacts?per_page=2&page=2").json()
    assert [item["full_name"] for item in body["items"]] == ["C"]
    assert (body["page"], body["per_page"], body["total"]) == (2, 2, 3)


# Adding a contact ---------------------------------------------------------------------------------------


def test_representative_adds_a_contact_to_own_organisation(
    db: Session, api_client: Any, organisation: Any, make_representative: Any
) -> None:
    client = api_client(make_representative(organisation))
    response = client.post(
        f"{ORGANISATIONS}/{organisation.id}/contacts",
        json={
            "full_name": "Fatou Sow",
            "email": "fatou@example.org",
            "consent": "given",
            "consent_date": "2025-03-01",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["organisation_id"] == organisation.id
    assert (body["full_name"], body["consent"], body["consent_date"]) == ("Fatou Sow", "given", "2025-03-01")
    assert body["version"] == 1
    stored = db.get(Contact, body["id"])
    assert stored is not None and stored.email == "fatou@example.org"


def test_representative_cannot_add_a_contact_to_other_organisation(
    db: Session, api_client: Any, make_organisation: Any, make_representative: Any
) -> None:
    other = make_organisation("Other")
    client = api_client(make_representative(make_organisation("Own")))
    assert_error(client.post(f"{ORGANISATIONS}/{other.id}/contacts", json={"full_name": "Intruder"}), 403)
    assert db.scalar(select(Contact)) is None


def test_trainer_cannot_add_a_contact(db: Session, trainer: User, api_client: Any, organisation: Any) -> None:
    response = api_client(trainer).post(
        f"{ORGANISATIONS}/{organisation.id}/contacts", json={"full_name": "X"}
    )
    assert_error(response, 403)
    assert db.scalar(select(Contact)) is None


def test_contact_with_invalid_fields_answers_400_listing_them(
    officer: User, api_client: Any, organisation: Any
) -> None:
    response = api_client(officer).post(
        f"{ORGANISATIONS}/{organisation.id}/contacts",
        json={"full_name": "", "email": "nope", "consent": "maybe", "consent_date": "yesterday"},
    )
    assert field_keys(assert_error(response, 400)) == {"full_name", "email", "consent", "consent_date"}


# One contact --------------------------------------------------------------------------------------------


def test_representative_reads_own_organisation_contact(
    api_client: Any, organisation: Any, contact: Contact, make_representative: Any
) -> None:
    response = api_client(make_representative(organisation)).get(f"{CONTACTS}/{contact.id}")
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "awa@example.org"


def test_representative_cannot_read_contact_of_other_organisation(
    api_client: Any, make_organisation: Any, make_contact: Any, make_representative: Any
) -> None:
    public_contact = make_contact(make_organisation("Public other"))
    private_contact = make_contact(make_organisation("Private other", consent_to_share=False))
    client = api_client(make_representative(make_organisation("Own")))
    assert_error(client.get(f"{CONTACTS}/{public_contact.id}"), 403)
    assert_error(client.get(f"{CONTACTS}/{private_contact.id}"), 404)


def test_trainer_cannot_read_a_contact(trainer: User, api_client: Any, contact: Contact) -> None:
    assert_error(api_client(trainer).get(f"{CONTACTS}/{contact.id}"), 403)


def test_partner_contact_is_for_staff_only(
    db: Session,
    officer: User,
    trainer: User,
    api_client: Any,
    make_organisation: Any,
    make_representative: Any,
) -> None:
    partner = PartnerActor(name="Ministry of Diaspora", type="ministry")
    db.add(partner)
    db.flush()
    contact = Contact(partner_id=partner.id, full_name="Jean Dupont")
    db.add(contact)
    db.commit()
    assert api_client(officer).get(f"{CONTACTS}/{contact.id}").json()["partner_id"] == partner.id
    assert_error(api_client(trainer).get(f"{CONTACTS}/{contact.id}"), 404)
    representative = make_representative(make_organisation())
    assert_error(
        api_client(representative).put(f"{CONTACTS}/{contact.id}", json={"full_name": "X", "version": 1}), 404
    )


@pytest.mark.parametrize("contact_id", ["123456", "99999999999999999999"])
def test_unknown_contact_answers_404(contact_id: str, officer: User, api_client: Any) -> None:
    assert_error(api_client(officer).get(f"{CONTACTS}/{contact_id}"), 404)


def test_representative_updates_own_organisation_contact(
    db: Session, api_client: Any, organisation: Any, contact: Contact, make_representative: Any
) -> None:
    client = api_client(make_representative(organisation))
    response = client.put(
        f"{CONTACTS}/{contact.id}",
        json={"full_name": "Awa Diop", "role_title": "Chair", "version": contact.version},
    )
    assert response.status_code == 200, response.text
    assert response.json()["role_title"] == "Chair"
    assert response.json()["version"] == contact.version + 1


def test_stale_contact_update_returns_409_and_changes_nothing(
    db: Session, officer: User, api_client: Any, contact: Contact
) -> None:
    client = api_client(officer)
    version = contact.version
    assert (
        client.put(f"{CONTACTS}/{contact.id}", json={"full_name": "First", "version": version}).status_code
        == 200
    )
    assert_error(
        client.put(f"{CONTACTS}/{contact.id}", json={"full_name": "Second", "version": version}), 409
    )
    db.expire_all()
    assert db.get(Contact, contact.id).full_name == "First"  # type: ignore[union-attr]


def test_representative_cannot_update_contact_of_other_organisation(
    db: Session, api_client: Any, make_organisation: Any, make_contact: Any, make_representative: Any
) -> None:
    other_contact = make_contact(make_organisation("Other"), "Kept")
    client = api_client(make_representative(make_organisation("Own")))
    response = client.put(f"{CONTACTS}/{other_contact.id}", json={"full_name": "Changed", "version": 1})
    assert_error(response, 403)
    db.expire_all()
    assert db.get(Contact, other_contact.id).full_name == "Kept"  # type: ignore[union-attr]


# Every contact (staff) ----------------------------------------------------------------------------------


def test_officer_lists_every_contact_and_filters_by_organisation(
    officer: User, api_client: Any, make_organisation: Any, make_contact: Any
) -> None:
    first = make_organisation("First")
    second = make_organisation("Second", consent_to_share=False)
    make_contact(first, "Binta")
    make_contact(second, "Cheikh")
    make_contact(second, "Aminata")
    client = api_client(officer)
    assert full_names(client.get(CONTACTS)) == ["Aminata", "Binta", "Cheikh"]
    assert full_names(client.get(CONTACTS, params={"organisation": second.id})) == ["Aminata", "Cheikh"]
    assert full_names(client.get(CONTACTS, params={"per_page": 1, "page": 2})) == ["Binta"]


@pytest.mark.parametrize("role", ["org_representative", "trainer"])
def test_only_staff_list_every_contact(role: str, make_user: Any, api_client: Any, contact: Contact) -> None:
    assert_error(api_client(make_user(role)).get(CONTACTS), 403)


@pytest.mark.parametrize("organisation_id", ["abc", "0", "99999999999999999999"])
def test_invalid_organisation_filter_answers_400(
    organisation_id: str, officer: User, api_client: Any
) -> None:
    error = assert_error(api_client(officer).get(CONTACTS, params={"organisation": organisation_id}), 400)
    assert field_keys(error) == {"organisation"}
