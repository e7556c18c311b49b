"""The directory and organisation pages run a fixed number of SQL statements, however many rows there are.

Issue acceptance: "the number of SQL queries of the directory page and of the organisation page does not grow
with the number of rows". Each page is measured with a few rows, then again after many more rows (with
sectors, capital kinds, audiences, contacts, activities and initiatives) were added: the counts must be equal,
and stay under a bound so that an added query per request shows up here too.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations import service
from crm.organisations.models import Initiative, Organisation
from crm.organisations.schemas import ActivityIn, ContactIn, OrganisationIn

# Statements per request as measured (SQLite counts a BEGIN per transaction, which the engine issues itself;
# PostgreSQL does not). Every page: BEGIN, the signed-in user with their roles (a transaction of its own, so the
# connection goes back to the pool while the request waits for its handler's thread), BEGIN. Directory: the
# count, a page of rows, their sectors. Organisation: the record, its sectors, capital kinds and audiences (initiatives too on the profile),
# then the tab's rows (activities: and their authors). The vocabularies come from the per-process cache.
BOUNDS = {
    "directory": 6,
    "directory (htmx)": 6,
    "directory, filtered": 6,
    "profile": 8,
    "profile (htmx)": 8,
    "contacts": 9,
    "activities": 10,
    "activities (htmx)": 10,
}


def add_organisations(db: Session, count: int, start: int, authors: list[User]) -> None:
    """Organisations as full as real ones: linked vocabularies, contacts, activities and initiatives."""
    for number in range(start, start + count):
        organisation = service.create_organisation(
            db,
            OrganisationIn(
                name=f"Diaspora Organisation {number:03d}",
                origin_country=("SN", "ML", "MA")[number % 3],
                residence_country=("FR", "DE", "BE")[number % 3],
                consent_to_share=number % 4 != 0,
                sectors=["education", "health"] if number % 2 else ["culture"],
                capital_kinds=["social", "economic"],
                audiences=["youth", "refugees_displaced"],
                languages=["fr"],
            ),
        )
        add_people_and_history(db, organisation, 2, authors)
        db.add(
            Initiative(organisation_id=organisation.id, title=f"Initiative {number}", sector_code="health")
        )
    db.commit()


def add_people_and_history(db: Session, organisation: Organisation, count: int, authors: list[User]) -> None:
    for number in range(count):
        service.add_contact(
            db, organisation, ContactIn(full_name=f"Contact {number}", email=f"c{number}@example.org")
        )
        service.add_activity(
            db,
            organisation,
            authors[number % len(authors)],
            ActivityIn(
                kind="note", occurred_on=date(2024, 1, 1) + timedelta(days=number), summary=f"Note {number}"
            ),
        )


@pytest.fixture
def authors(make_user: Any, officer: User) -> list[User]:
    return [officer, *(make_user("liaison_officer", full_name=f"Officer {n}") for n in range(3))]


@pytest.fixture
def target(db: Session, make_organisation: Any, authors: list[User]) -> Organisation:
    """The organisation whose page is measured: 5 contacts, 5 activities by different authors, initiatives."""
    organisation = make_organisation(
        "Measured Organisation", sectors=["education"], capital_kinds=["social"], audiences=["youth"]
    )
    add_people_and_history(db, organisation, 5, authors)
    db.add(Initiative(organisation_id=organisation.id, title="First initiative"))
    db.commit()
    return organisation


def measure(client: Any, count_statements: Any, target: Organisation) -> dict[str, int]:
    pages = {
        "directory": ("get", "/organisations"),
        "directory (htmx)": ("hx_get", "/organisations?sort=-created"),
        "directory, filtered": ("get", "/organisations?sector=health&vulnerable=1&q=diaspora&page=2"),
        "profile": ("get", f"/organisations/{target.id}"),
        "profile (htmx)": ("hx_get", f"/organisations/{target.id}"),
        "contacts": ("get", f"/organisations/{target.id}/contacts"),
        "activities": ("get", f"/organisations/{target.id}/activities"),
        "activities (htmx)": ("hx_get", f"/organisations/{target.id}/activities"),
    }
    counts = {}
    for name, (method, url) in pages.items():
        getattr(client, method)(url)  # the first request also opens connections and reads server settings
        with count_statements() as counted:
            response = getattr(client, method)(url)
        assert response.status_code == 200, (name, response.text)
        counts[name] = counted.count
    return counts


def test_page_queries_do_not_grow_with_the_number_of_rows(
    login: Any,
    officer: User,
    db: Session,
    authors: list[User],
    target: Organisation,
    make_organisation: Any,
    count_statements: Any,
) -> None:
    add_organisations(db, 4, start=1, authors=authors)
    client = login(officer)
    few = measure(client, count_statements, target)

    add_organisations(db, 60, start=100, authors=authors)
    add_people_and_history(db, target, 15, authors)
    db.add_all(Initiative(organisation_id=target.id, title=f"Initiative {n}") for n in range(5))
    db.commit()
    many = measure(client, count_statements, target)

    assert many == few
    over = {name: (count, BOUNDS[name]) for name, count in many.items() if count > BOUNDS[name]}
    assert not over, f"more statements than allowed (count, bound): {over}"


def test_the_measured_pages_show_all_their_rows(
    login: Any, officer: User, db: Session, authors: list[User], target: Organisation
) -> None:
    add_organisations(db, 60, start=100, authors=authors)
    add_people_and_history(db, target, 15, authors)
    client = login(officer)

    directory = client.get("/organisations").text
    contacts = client.get(f"/organisations/{target.id}/contacts").text
    activities = client.get(f"/organisations/{target.id}/activities").text

    assert "61 organisations" in directory
    assert contacts.count("@example.org</td>") == 20
    assert activities.count('<span class="badge">Note</span>') == 20
    assert all(f"Officer {n}" in activities for n in range(3))


@pytest.mark.parametrize("persona", ["trainer", "representative"])
def test_the_directory_costs_the_same_for_every_role(
    login: Any,
    officer: User,
    trainer: User,
    make_representative: Any,
    db: Session,
    authors: list[User],
    target: Organisation,
    count_statements: Any,
    persona: str,
) -> None:
    add_organisations(db, 30, start=1, authors=authors)
    user = trainer if persona == "trainer" else make_representative(target)
    client = login(user)
    client.get("/organisations")

    with count_statements() as counted:
        assert client.get("/organisations?sector=health").status_code == 200

    assert counted.count <= BOUNDS["directory, filtered"]
