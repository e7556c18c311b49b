"""Merging a duplicate into the record that survives: everything moves, nothing is lost, history stays."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.db.audit import AuditLog
from crm.organisations import service
from crm.organisations.models import Activity, Contact, Initiative, Organisation


@pytest.fixture
def survivor(make_organisation: Any) -> Organisation:
    return make_organisation(
        "Association Sénégalaise de Lyon",
        residence_city="Lyon",
        sectors=["education"],
        description="Tutoring and homework help.",
    )


@pytest.fixture
def duplicate(
    make_organisation: Any, make_contact: Any, make_activity: Any, make_initiative: Any
) -> Organisation:
    organisation = make_organisation(
        "Association des Senegalais de Lyon",
        acronym="ADSL",
        website="https://adsl.example.org",
        sectors=["education", "culture"],
        audiences=["youth"],
    )
    make_contact(organisation, "Awa Diop", email="awa.diop@example.org")
    make_activity(organisation, "Met at the embassy")
    make_initiative(organisation, "Summer school in Thiès")
    return organisation


def reloaded(db: Session, organisation_id: int) -> Organisation:
    db.expire_all()
    organisation = service.get_organisation(db, organisation_id, full=True)
    assert organisation is not None
    return organisation


def merge_events(db: Session) -> list[AuditLog]:
    return list(db.scalars(select(AuditLog).where(AuditLog.action == "merge")))


def test_an_officer_merges_a_duplicate_and_everything_moves_to_the_survivor(
    login: Any,
    officer: User,
    db: Session,
    survivor: Organisation,
    duplicate: Organisation,
    make_representative: Any,
) -> None:
    representative = make_representative(duplicate)

    response = login(officer).submit(
        f"/organisations/{survivor.id}/merge", {"duplicate": str(duplicate.id)}, follow_redirects=False
    )

    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"/organisations/{survivor.id}"
    db.expire_all()
    assert db.scalars(select(Contact.full_name).where(Contact.organisation_id == survivor.id)).all() == [
        "Awa Diop"
    ]
    assert db.scalars(select(Activity.summary).where(Activity.organisation_id == survivor.id)).all() == [
        "Met at the embassy"
    ]
    assert db.scalars(select(Initiative.title).where(Initiative.organisation_id == survivor.id)).all() == [
        "Summer school in Thiès"
    ]
    assert db.get(User, representative.id).organisation_id == survivor.id
    assert db.scalar(select(Contact).where(Contact.organisation_id == duplicate.id)) is None


def test_the_duplicate_is_kept_marked_as_merged(
    login: Any, officer: User, db: Session, survivor: Organisation, duplicate: Organisation
) -> None:
    login(officer).submit(f"/organisations/{survivor.id}/merge", {"duplicate": str(duplicate.id)})

    kept = reloaded(db, duplicate.id)
    assert kept.merged_into_id == survivor.id
    assert kept.name == "Association des Senegalais de Lyon"


def test_the_survivor_takes_what_it_lacked_from_the_duplicate(
    login: Any, officer: User, db: Session, survivor: Organisation, duplicate: Organisation
) -> None:
    completeness_before = survivor.completeness

    login(officer).submit(f"/organisations/{survivor.id}/merge", {"duplicate": str(duplicate.id)})

    merged = reloaded(db, survivor.id)
    assert merged.website == "https://adsl.example.org"
    assert merged.acronym == "ADSL"
    assert merged.description == "Tutoring and homework help."
    assert sorted(merged.sectors) == ["culture", "education"]
    assert merged.audiences == ["youth"]
    assert merged.completeness > completeness_before


def test_the_merged_duplicate_disappears_from_the_directory_but_the_survivor_is_found_by_its_name(
    login: Any, officer: User, survivor: Organisation, duplicate: Organisation
) -> None:
    client = login(officer)

    client.submit(f"/organisations/{survivor.id}/merge", {"duplicate": str(duplicate.id)})
    directory = client.get("/organisations?q=lyon").text

    assert f'href="/organisations/{duplicate.id}"' not in directory
    assert f'href="/organisations/{survivor.id}"' in directory
    assert "1 organisation" in directory
    assert f'href="/organisations/{survivor.id}"' in client.get("/organisations?q=adsl").text


def test_the_merge_is_written_to_the_audit_log_with_both_records(
    login: Any, officer: User, db: Session, survivor: Organisation, duplicate: Organisation
) -> None:
    login(officer).submit(f"/organisations/{survivor.id}/merge", {"duplicate": str(duplicate.id)})

    (event,) = merge_events(db)
    assert event.entity == "organisations"
    assert event.entity_id == str(survivor.id)
    assert event.actor_id == officer.id
    assert event.changes["survivor_id"] == survivor.id
    assert event.changes["merged_id"] == duplicate.id
    assert event.changes["moved"]["contacts"] == 1


def test_after_merging_the_survivor_page_confirms_it(
    login: Any, officer: User, survivor: Organisation, duplicate: Organisation
) -> None:
    page = login(officer).submit(f"/organisations/{survivor.id}/merge", {"duplicate": str(duplicate.id)}).text

    assert "“Association des Senegalais de Lyon” was merged into this organisation." in page


# Refusals ----------------------------------------------------------------------------------------------


def test_an_organisation_cannot_be_merged_into_itself(
    login: Any, officer: User, db: Session, survivor: Organisation
) -> None:
    response = login(officer).submit(f"/organisations/{survivor.id}/merge", {"duplicate": str(survivor.id)})

    assert response.status_code == 200
    assert 'class="form-error"' in response.text
    assert reloaded(db, survivor.id).merged_into_id is None
    assert merge_events(db) == []


def test_an_already_merged_record_cannot_be_merged_again(
    login: Any,
    officer: User,
    db: Session,
    survivor: Organisation,
    duplicate: Organisation,
    make_organisation: Any,
) -> None:
    third = make_organisation("ASL Lyon")
    service.merge_organisations(db, survivor, duplicate)
    db.commit()

    again = login(officer).submit(f"/organisations/{third.id}/merge", {"duplicate": str(duplicate.id)})

    assert again.status_code == 200
    assert 'class="form-error"' in again.text
    assert reloaded(db, duplicate.id).merged_into_id == survivor.id
    assert db.scalar(select(Contact.organisation_id)) == survivor.id
    assert len(merge_events(db)) == 1


def test_nothing_can_be_merged_into_an_already_merged_record(
    login: Any,
    officer: User,
    db: Session,
    survivor: Organisation,
    duplicate: Organisation,
    make_organisation: Any,
) -> None:
    third = make_organisation("ASL Lyon")
    service.merge_organisations(db, survivor, duplicate)
    db.commit()

    response = login(officer).submit(f"/organisations/{duplicate.id}/merge", {"duplicate": str(third.id)})

    assert response.status_code == 200
    assert 'class="form-error"' in response.text
    assert reloaded(db, third.id).merged_into_id is None


@pytest.mark.parametrize("value", ["", "abc", "0", "999999", "-1", "99999999999999999999999"])
def test_a_missing_or_unknown_duplicate_is_refused_with_a_message(
    login: Any, officer: User, db: Session, survivor: Organisation, value: str
) -> None:
    response = login(officer).submit(f"/organisations/{survivor.id}/merge", {"duplicate": value})

    assert response.status_code in (200, 400)
    assert response.status_code != 500
    assert merge_events(db) == []


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("itself", "An organisation cannot be merged into itself."),
        ("unknown", "Choose the duplicate to merge into this organisation."),
    ],
)
def test_a_refused_merge_says_why(
    login: Any, officer: User, survivor: Organisation, case: str, message: str
) -> None:
    duplicate = str(survivor.id) if case == "itself" else "999999"

    response = login(officer).submit(f"/organisations/{survivor.id}/merge", {"duplicate": duplicate})

    assert message in response.text


@pytest.mark.parametrize("persona", ["representative", "trainer"])
def test_only_staff_may_merge(
    login: Any,
    trainer: User,
    make_representative: Any,
    db: Session,
    survivor: Organisation,
    duplicate: Organisation,
    persona: str,
) -> None:
    user = make_representative(survivor) if persona == "representative" else trainer
    client = login(user)

    opened = client.get(f"/organisations/{survivor.id}/merge")
    posted = client.submit(f"/organisations/{survivor.id}/merge", {"duplicate": str(duplicate.id)})

    assert opened.status_code == 403
    assert posted.status_code == 403
    assert reloaded(db, duplicate.id).merged_into_id is None
    assert db.scalar(select(Contact.organisation_id)) == duplicate.id


def test_the_merge_button_is_offered_to_staff_only(
    login: Any, officer: User, make_representative: Any, survivor: Organisation
) -> None:
    link = f'href="/organisations/{survivor.id}/merge"'

    assert link in login(officer).get(f"/organisations/{survivor.id}").text
    assert link not in login(make_representative(survivor)).get(f"/organisations/{survivor.id}").text


# Candidates --------------------------------------------------------------------------------------------


def test_the_merge_page_proposes_the_near_duplicate_in_the_same_country(
    login: Any, officer: User, survivor: Organisation, duplicate: Organisation, make_organisation: Any
) -> None:
    elsewhere = make_organisation("Association des Sénégalais de Lyon", residence_country="CA")
    unrelated = make_organisation("Kenya Investors Circle")

    page = login(officer).get(f"/organisations/{survivor.id}/merge").text

    candidates = re.findall(r'<input type="radio" name="duplicate" value="(\d+)"', page)
    assert candidates == [str(duplicate.id)]
    assert "Association des Senegalais de Lyon" in page
    assert re.search(r"\d+% — similar name", page)
    assert str(elsewhere.id) not in candidates
    assert str(unrelated.id) not in candidates
    assert 'data-confirm="Merge the selected organisation into this one?' in page


def test_a_merged_record_is_no_longer_proposed(
    login: Any,
    officer: User,
    db: Session,
    survivor: Organisation,
    duplicate: Organisation,
    make_organisation: Any,
) -> None:
    third = make_organisation("Association Senegalaise Lyon")
    service.merge_organisations(db, third, duplicate)
    db.commit()

    page = login(officer).get(f"/organisations/{survivor.id}/merge").text

    candidates = re.findall(r'<input type="radio" name="duplicate" value="(\d+)"', page)
    assert str(duplicate.id) not in candidates
    assert str(third.id) in candidates


def test_the_merge_page_says_when_no_duplicate_is_found(
    login: Any, officer: User, make_organisation: Any
) -> None:
    lonely = make_organisation("Kenya Investors Circle", residence_country="GB")

    page = login(officer).get(f"/organisations/{lonely.id}/merge").text

    assert "No likely duplicate found in the same country." in page
    assert 'name="duplicate" type="number"' in page
