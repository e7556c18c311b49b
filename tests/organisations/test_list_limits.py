"""The profile form caps its lists (skills, languages, vocabularies): each item's length and their number, as the
API does, since both pass through the same schema."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations.models import Organisation
from tests.organisations.test_organisation_edit import edit_form, reloaded


@pytest.fixture
def organisation(make_organisation: Any) -> Organisation:
    return make_organisation("Amicale des Maliens de Lyon", skills_offered=["tutoring"])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("skills_offered", "tutoring, " + "x" * 1_000_000, "This value is too long."),
        ("skills_offered", "tutoring, " + "y" * 101, "This value is too long."),
        ("skills_offered", ", ".join(f"skill {number}" for number in range(31)), "Too many entries."),
        ("sectors", ["education"] * 51, "Too many entries."),
        ("audiences", ["a" * 1_000_000], "This value is too long."),
    ],
    ids=[
        "one megabyte skill",
        "skill one character too long",
        "too many skills",
        "too many sectors",
        "huge audience",
    ],
)
def test_representative_cannot_save_oversized_lists_through_the_form(
    login: Any,
    make_representative: Any,
    db: Session,
    organisation: Organisation,
    field: str,
    value: Any,
    message: str,
) -> None:
    client = login(make_representative(organisation))

    response = client.submit(
        f"/organisations/{organisation.id}/edit", edit_form(organisation, **{field: value})
    )

    assert response.status_code == 200
    assert f'<small class="field-error" id="{field}-error">{message}</small>' in response.text
    saved = reloaded(db, organisation)
    assert (saved.version, saved.skills_offered) == (1, ["tutoring"])


def test_thirty_skills_of_a_hundred_characters_are_saved(
    login: Any, officer: User, db: Session, organisation: Organisation
) -> None:
    skills = [f"{number:02d}" + "z" * 98 for number in range(30)]

    response = login(officer).submit(
        f"/organisations/{organisation.id}/edit",
        edit_form(organisation, skills_offered=", ".join(skills)),
        follow_redirects=False,
    )

    assert response.status_code in (302, 303)
    assert reloaded(db, organisation).skills_offered == skills
