"""Programmes as their users meet them before any page: who may see one (the check and its SQL form agree),
enrolment with a waiting list that never overfills, even when organisations enrol at once, and calendar-feed
tokens that only work until revoked."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.db.engine import make_sessionmaker, will_write
from crm.organisations.models import Organisation
from crm.training import permissions, service
from crm.training.models import EnrolmentStatus, FeedScope, Programme, ProgrammeStatus


@pytest.fixture
def lead(make_organisation: Any) -> Organisation:
    return make_organisation("Finance Peers Network")


def programme_with(
    db: Session, trainer: User, lead: Organisation, status: ProgrammeStatus, places: int | None = None
) -> Programme:
    programme = service.create_programme(
        db,
        title=f"Bookkeeping for associations ({status.value})",
        description="Six evenings on simple, honest accounts.",
        lead_organisation_id=lead.id,
        places=places,
        domains=["finance"],
        trainers=[trainer.id],
        created_by=trainer,
        status=status.value,
    )
    db.commit()
    return programme


def test_who_sees_a_programme_by_the_check_and_by_sql_alike(
    db: Session,
    trainer: User,
    officer: User,
    lead: Organisation,
    make_organisation: Any,
    make_representative: Any,
    make_user: Any,
) -> None:
    programmes = {status: programme_with(db, trainer, lead, status) for status in ProgrammeStatus}
    people = {
        "officer": officer,
        "trainer": trainer,
        "lead representative": make_representative(lead),
        "other representative": make_representative(make_organisation("Other Association")),
        "another trainer": make_user("trainer", email="other.trainer@example.org"),
    }
    for name, user in people.items():
        by_check = {
            status
            for status, programme in programmes.items()
            if permissions.can_view(user, programme, service.trainer_ids(db, programme.id))
        }
        by_sql = {
            ProgrammeStatus(p.status)
            for p in db.scalars(select(Programme).where(permissions.visible_programmes(user)))
        }
        assert by_check == by_sql, name
    catalogue = set(permissions.CATALOGUE_STATUSES)
    assert by_check == catalogue  # the last one: another trainer sees the catalogue only
    assert {
        s
        for s, p in programmes.items()
        if permissions.can_view(people["other representative"], p, service.trainer_ids(db, p.id))
    } == catalogue
    assert all(permissions.can_view(people["lead representative"], p, set()) for p in programmes.values())


def test_a_full_programme_puts_the_next_organisation_on_the_waiting_list_and_a_withdrawal_frees_its_place(
    db: Session, trainer: User, lead: Organisation, make_organisation: Any
) -> None:
    programme = programme_with(db, trainer, lead, ProgrammeStatus.OPEN, places=2)
    first, second, third = (make_organisation(f"Association {n}") for n in (1, 2, 3))

    statuses = [service.enrol(db, programme, o.id).status for o in (first, second, third)]
    assert statuses == ["enrolled", "enrolled", "waiting"]
    # Enrolling again changes nothing.
    assert service.enrol(db, programme, first.id).status == EnrolmentStatus.ENROLLED

    enrolment = next(e for e in service.enrolments_of(db, programme.id) if e.organisation_id == first.id)
    promoted = service.withdraw(db, programme, enrolment)

    assert promoted is not None and promoted.organisation_id == third.id
    assert promoted.status == EnrolmentStatus.ENROLLED


def test_organisations_enrolling_at_once_never_overfill_the_programme(
    db: Session, engine: Engine, trainer: User, lead: Organisation, make_organisation: Any
) -> None:
    programme = programme_with(db, trainer, lead, ProgrammeStatus.OPEN, places=3)
    organisations = [make_organisation(f"Association {n}").id for n in range(8)]
    db.commit()
    sessions = make_sessionmaker(engine)

    def enrol(organisation_id: int) -> str:
        with sessions() as session:
            session.info["actor_id"] = None
            will_write(session)  # as a POST does: SQLite takes the write lock when the transaction begins
            mine = session.get(Programme, programme.id)
            assert mine is not None
            status = service.enrol(session, mine, organisation_id).status
            session.commit()
            return status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(enrol, organisations))

    assert sorted(statuses) == ["enrolled"] * 3 + ["waiting"] * 5
    stored = [e.status for e in service.enrolments_of(db, programme.id)]
    assert sorted(stored) == sorted(statuses)


def test_a_feed_address_works_until_it_is_revoked_or_replaced(db: Session, trainer: User) -> None:
    key = "test-secret-key"
    first = service.feed_secret(key, service.new_feed_token(db, trainer, FeedScope.MINE, None))
    assert service.feed_token(db, key, first) is not None
    # The address is read again from the page: the same one while it lives.
    current = service.current_feed_token(db, trainer, FeedScope.MINE, None)
    assert current is not None and service.feed_secret(key, current) == first
    # Under another server key, or altered by one character, it names nothing.
    assert service.feed_token(db, "another-key", first) is None
    assert service.feed_token(db, key, first[:-1] + ("A" if first[-1] != "A" else "B")) is None

    second = service.feed_secret(key, service.new_feed_token(db, trainer, FeedScope.MINE, None))
    assert service.feed_token(db, key, first) is None
    assert service.feed_token(db, key, second) is not None

    service.revoke_feed_tokens(db, trainer, FeedScope.MINE, None)
    assert service.feed_token(db, key, second) is None
    assert service.current_feed_token(db, trainer, FeedScope.MINE, None) is None
    for malformed in ("", "x" * 500, "abc", "-", "99999999999999-x", "1-"):
        assert service.feed_token(db, key, malformed) is None
