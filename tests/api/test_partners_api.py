"""The partner actors API: staff read, add and change them; as on the partner pages, nobody else sees them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.partners.models import PartnerActor
from tests.api.conftest import assert_error, field_keys

API = "/api/v1/partners"


@pytest.fixture
def make_partner(db: Session) -> Any:
    def make(name: str, type: str = "ngo", **fields: Any) -> PartnerActor:
        partner = PartnerActor(name=name, type=type, **fields)
        db.add(partner)
        db.commit()
        return partner

    return make


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


@pytest.mark.parametrize("role", ["admin", "liaison_officer"])
def test_staff_list_partners(role: str, make_user: Any, api_client: Any, make_partner: Any) -> None:
    make_partner("Ministry of Foreign Affairs", "ministry")
    make_partner("Africa Foundation", "foundation")
    response = api_client(make_user(role)).get(API)
    assert names(response) == ["Africa Foundation", "Ministry of Foreign Affairs"]
    assert response.json()["total"] == 2


@pytest.mark.parametrize("role", ["org_representative", "trainer"])
def test_non_staff_cannot_list_or_read_partners_as_on_the_partner_pages(
    role: str, make_user: Any, api_client: Any, login: Any, make_partner: Any
) -> None:
    partner = make_partner("Ministry of Foreign Affairs", "ministry")
    user = make_user(role)
    assert login(user).get("/partners").status_code == 403
    assert_error(api_client(user).get(API), 403)
    assert_error(api_client(user).get(f"{API}/{partner.id}"), 403)


def test_partners_filter_by_name_and_type_and_page(officer: User, api_client: Any, make_partner: Any) -> None:
    make_partner("Ministry of Foreign Affairs", "ministry")
    make_partner("Ministry of Labour", "ministry")
    make_partner("Embassy in Paris", "embassy_consulate")
    client = api_client(officer)
    assert names(client.get(API, params={"q": "ministry"})) == [
        "Ministry of Foreign Affairs",
        "Ministry of Labour",
    ]
    assert names(client.get(API, params={"type": "embassy_consulate"})) == ["Embassy in Paris"]
    assert names(client.get(API, params={"q": "LABOUR", "type": "ministry"})) == ["Ministry of Labour"]
    assert names(client.get(API, params={"q": "%"})) == []
    body = client.get(API, params={"per_page": 2, "page": 2}).json()
    assert [item["name"] for item in body["items"]] == ["Ministry of Labour"]
    assert (body["page"], body["per_page"], body["total"]) == (2, 2, 3)


@pytest.mark.parametrize(
    "params",
    [
        {"type": "spaceship"},
        {"page": "0"},
        {"per_page": "101"},
        {"page": "x"},
        {"page": "99999999999999999999"},
    ],
)
def test_invalid_partner_list_parameters_answer_400(
    params: dict[str, str], officer: User, api_client: Any
) -> None:
    assert field_keys(assert_error(api_client(officer).get(API, params=params), 400)) == set(params)


def test_partner_list_without_token_answers_401(client: Any) -> None:
    assert_error(client.get(API), 401)


@pytest.mark.parametrize("role", ["admin", "liaison_officer"])
def test_staff_add_a_partner(role: str, db: Session, make_user: Any, api_client: Any) -> None:
    response = api_client(make_user(role)).post(
        API,
        json={
            "name": "Dakar Chamber of Commerce",
            "type": "private_company",
            "country": "sn",
            "website": "ccd.sn",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["country"], body["website"], body["version"]) == ("SN", "https://ccd.sn", 1)
    stored = db.get(PartnerActor, body["id"])
    assert stored is not None and stored.type == "private_company"


@pytest.mark.parametrize("role", ["org_representative", "trainer"])
def test_non_staff_cannot_add_a_partner(role: str, db: Session, make_user: Any, api_client: Any) -> None:
    assert_error(api_client(make_user(role)).post(API, json={"name": "X", "type": "ngo"}), 403)
    assert db.scalar(select(PartnerActor)) is None


def test_partner_with_invalid_fields_answers_400_listing_them(
    db: Session, officer: User, api_client: Any
) -> None:
    response = api_client(officer).post(API, json={"name": "", "type": "pirate", "country": "Atlantis"})
    assert field_keys(assert_error(response, 400)) == {"name", "type", "country"}
    assert db.scalar(select(PartnerActor)) is None


def test_officer_reads_a_partner(officer: User, api_client: Any, make_partner: Any) -> None:
    partner = make_partner("Embassy in Paris", "embassy_consulate", country="FR")
    body = api_client(officer).get(f"{API}/{partner.id}").json()
    assert (body["id"], body["name"], body["type"], body["country"]) == (
        partner.id,
        "Embassy in Paris",
        "embassy_consulate",
        "FR",
    )


@pytest.mark.parametrize("partner_id", ["4242", "99999999999999999999"])
def test_unknown_partner_answers_404(partner_id: str, officer: User, api_client: Any) -> None:
    assert_error(api_client(officer).get(f"{API}/{partner_id}"), 404)


def test_officer_updates_a_partner_and_gets_the_new_version(
    db: Session, officer: User, api_client: Any, make_partner: Any
) -> None:
    partner = make_partner("Old name")
    response = api_client(officer).put(
        f"{API}/{partner.id}", json={"name": "New name", "type": "ngo", "version": partner.version}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["version"]) == ("New name", 2)
    db.expire_all()
    assert db.get(PartnerActor, partner.id).name == "New name"  # type: ignore[union-attr]


def test_stale_partner_update_returns_409_and_changes_nothing(
    db: Session, officer: User, api_client: Any, make_partner: Any
) -> None:
    partner = make_partner("Original")
    client = api_client(officer)
    stale = {"type": "ngo", "version": partner.version}
    assert client.put(f"{API}/{partner.id}", json={**stale, "name": "First"}).status_code == 200
    assert_error(client.put(f"{API}/{partner.id}", json={**stale, "name": "Second"}), 409)
    db.expire_all()
    assert db.get(PartnerActor, partner.id).name == "First"  # type: ignore[union-attr]


@pytest.mark.parametrize("role", ["org_representative", "trainer"])
def test_non_staff_cannot_update_a_partner(
    role: str, db: Session, make_user: Any, api_client: Any, make_partner: Any
) -> None:
    partner = make_partner("Kept")
    response = api_client(make_user(role)).put(
        f"{API}/{partner.id}", json={"name": "Changed", "type": "ngo", "version": 1}
    )
    assert_error(response, 403)
    db.expire_all()
    assert db.get(PartnerActor, partner.id).name == "Kept"  # type: ignore[union-attr]
