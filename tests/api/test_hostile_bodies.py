"""Bodies built to hurt the API: control characters, JSON nested too deeply, huge lists. Each is a 400 in our
JSON error body that names what is wrong, and nothing is written; never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations.models import Contact, Organisation
from tests.api.conftest import assert_error, field_keys

API = "/api/v1/organisations"
NEW = {"name": "Rassemblement des Hommes de Mopti", "origin_country": "ML", "residence_country": "FR"}
CONTROL_MESSAGE = "Remove the invisible control characters from this text (they often come with pasted text)."
DEEP_BODIES = {
    "arrays": b"[" * 200_000,
    "objects": b'{"a":' * 40_000,
    "inside a field": b'{"name": "x", "sectors": ' + b"[" * 200_000,
}


def organisation_count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Organisation)) or 0


def field_messages(error: dict[str, Any]) -> dict[str, str]:
    return {str(field["key"]): field["message"] for field in error["fields"]}


@pytest.fixture
def organisation(make_organisation: Any) -> Organisation:
    return make_organisation("Rassemblement des Hommes de Mopti", acronym="RHM")


def update_of(organisation: Organisation, **changes: Any) -> dict[str, Any]:
    return {
        "name": organisation.name,
        "origin_country": organisation.origin_country,
        "residence_country": organisation.residence_country,
        "version": organisation.version,
        **changes,
    }


# Control characters -----------------------------------------------------------------------------------


def test_control_character_in_acronym_is_refused_naming_the_field(
    db: Session, officer: User, api_client: Any, reference: None
) -> None:
    error = assert_error(api_client(officer).post(API, json={**NEW, "acronym": "R\x01HM"}), 400)

    assert field_keys(error) == {"acronym"}
    assert field_messages(error) == {"acronym": CONTROL_MESSAGE}
    assert organisation_count(db) == 0


def test_representative_cannot_update_its_acronym_with_a_control_character(
    db: Session, make_representative: Any, api_client: Any, organisation: Organisation
) -> None:
    client = api_client(make_representative(organisation))

    response = client.put(f"{API}/{organisation.id}", json=update_of(organisation, acronym="R\x01HM"))

    assert field_keys(assert_error(response, 400)) == {"acronym"}
    db.expire_all()
    assert db.get(Organisation, organisation.id).acronym == "RHM"  # type: ignore[union-attr]


def test_control_character_in_a_contact_name_is_refused(
    db: Session, officer: User, api_client: Any, organisation: Organisation
) -> None:
    response = api_client(officer).post(
        f"{API}/{organisation.id}/contacts", json={"full_name": "Awa\x00 Diop"}
    )

    assert field_keys(assert_error(response, 400)) == {"full_name"}
    assert db.scalar(select(func.count()).select_from(Contact)) == 0


# JSON nested too deeply -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_deeply_nested_json_to_create_answers_400(
    body: bytes, db: Session, officer: User, api_client: Any, reference: None
) -> None:
    response = api_client(officer).post(API, content=body, headers={"Content-Type": "application/json"})

    assert "nested too deeply" in assert_error(response, 400)["detail"]
    assert organisation_count(db) == 0


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_deeply_nested_json_to_update_answers_400(
    body: bytes, db: Session, officer: User, api_client: Any, organisation: Organisation
) -> None:
    response = api_client(officer).put(
        f"{API}/{organisation.id}", content=body, headers={"Content-Type": "application/json"}
    )

    assert "nested too deeply" in assert_error(response, 400)["detail"]
    db.expire_all()
    assert db.get(Organisation, organisation.id).version == 1  # type: ignore[union-attr]


def test_json_nested_within_reason_is_still_just_invalid(
    officer: User, api_client: Any, reference: None
) -> None:
    body = {**NEW, "skills_offered": [[[["tutoring"]]]]}

    error = assert_error(api_client(officer).post(API, json=body), 400)

    assert "skills_offered" in {key.split(".")[0] for key in field_keys(error)}


# Lists ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "items"),
    [
        ("skills_offered", ["x" * 1_000_000]),
        ("skills_offered", ["tutoring", "y" * 101]),
        ("skills_offered", [f"skill {number}" for number in range(31)]),
        ("languages", ["f" * 1_000_000]),
        ("languages", ["fr"] * 21),
        ("sectors", ["s" * 1_000_000]),
        ("sectors", ["education"] * 51),
        ("capital_kinds", ["c" * 1_000_000]),
        ("audiences", ["youth"] * 51),
        ("contribution_modes", ["skills"] * 51),
    ],
    ids=[
        "one megabyte skill",
        "skill one character too long",
        "too many skills",
        "one megabyte language",
        "too many languages",
        "one megabyte sector",
        "too many sectors",
        "one megabyte capital kind",
        "too many audiences",
        "too many contribution modes",
    ],
)
def test_list_items_and_their_number_are_capped(
    field: str, items: list[str], db: Session, officer: User, api_client: Any, reference: None
) -> None:
    error = assert_error(api_client(officer).post(API, json={**NEW, field: items}), 400)

    assert {key.split(".")[0] for key in field_keys(error)} == {field}
    assert organisation_count(db) == 0


def test_a_skill_of_a_hundred_characters_is_accepted(
    db: Session, officer: User, api_client: Any, reference: None
) -> None:
    skills = ["z" * 100] * 30

    response = api_client(officer).post(API, json={**NEW, "skills_offered": skills})

    assert response.status_code == 201, response.text
    assert response.json()["skills_offered"] == skills
