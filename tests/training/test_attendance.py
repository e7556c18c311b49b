"""Attendance and feedback as trainers and participants meet them: a trainer marks who came to an occurrence,
a participant rates it once (a second rating replaces the first, two sent at once never fail), the programme
shows its attendance rate and average rating, an organisation's page its participation, and a finished
programme its participants' capacity before and after it, each in a fixed number of queries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments import service as assessments
from crm.assessments.framework import parse_framework
from crm.assessments.models import AssessmentRound, Choice, Framework
from crm.db.engine import make_sessionmaker, will_write
from crm.organisations.models import Organisation
from crm.training import attendance, service
from crm.training.models import Feedback, Participant, Programme, ProgrammeStatus, SessionSeries
from crm.training.service import TrainingError
from tests.assessments.conftest import encode, framework_document

# Tuesdays 18:00 in Dublin, ten of them from 6 October 2026 (the clocks go back on 25 October).
FIRST = datetime(2026, 10, 6, 18)
SECOND = datetime(2026, 10, 13, 18)
AFTER_DST = datetime(2026, 10, 27, 18)


@pytest.fixture
def world(db: Session, trainer: User, make_organisation: Any, make_representative: Any) -> dict[str, Any]:
    """A running programme with a weekly Dublin series (one occurrence cancelled, one moved); an enrolled
    organisation sending its representative and a named participant; another on the waiting list."""
    lead = make_organisation("Finance Peers Network")
    member = make_organisation("Sahel Diaspora Network")
    waiting = make_organisation("Waiting Association")
    programme = service.create_programme(
        db,
        title="Bookkeeping",
        description="Simple, honest accounts.",
        lead_organisation_id=lead.id,
        places=1,
        domains=["finance"],
        trainers=[trainer.id],
        created_by=trainer,
        status=ProgrammeStatus.RUNNING.value,
    )
    representative = make_representative(member, full_name="Awa Participant")
    colleague = make_representative(member, full_name="Moussa Colleague")
    enrolment = service.enrol(db, programme, member.id)
    people = [service.add_participant(db, enrolment, user) for user in (representative, colleague)]
    named = service.add_participant(db, enrolment, None, "Fatou Named")
    waiting_rep = make_representative(waiting, full_name="Wendy Waiting")
    waiting_participant = service.add_participant(db, service.enrol(db, programme, waiting.id), waiting_rep)
    series = service.create_series(
        db,
        programme,
        service.SeriesInput(
            "Evening session",
            FIRST,
            datetime(2026, 10, 6, 19, 30),
            "Europe/Dublin",
            weekdays=(1,),
            count=10,
        ),
    )
    service.cancel_occurrence(db, series, datetime(2026, 10, 20, 18))
    service.move_occurrence(db, series, AFTER_DST, datetime(2026, 10, 28, 18), datetime(2026, 10, 28, 19, 30))
    db.commit()
    return {
        "programme": programme,
        "series": series,
        "member": member,
        "lead": lead,
        "representative": representative,
        "colleague": colleague,
        "participants": [*people, named],
        "waiting_rep": waiting_rep,
        "waiting_participant": waiting_participant,
    }


class QueryCount:
    """The SELECTs run on an engine while the block runs."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.count = engine, 0

    def __enter__(self) -> QueryCount:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN: a transaction, not a query
            self.count += 1


# Attendance -----------------------------------------------------------------------------------------------


def test_trainer_marks_attendance_and_marking_again_replaces_it(
    db: Session, trainer: User, world: Any
) -> None:
    series = world["series"]
    first, second, named = (p.id for p in world["participants"])

    marked = attendance.mark_attendance(db, series, FIRST, {first: True, second: False}, trainer)
    assert marked == {first: True, second: False}
    marked = attendance.mark_attendance(db, series, FIRST, {second: True, named: True}, trainer)
    db.commit()

    assert marked == {first: True, second: True, named: True}


def test_a_moved_occurrence_is_marked_under_its_original_start(
    db: Session, trainer: User, world: Any
) -> None:
    first = world["participants"][0].id
    assert attendance.mark_attendance(db, world["series"], AFTER_DST, {first: True}, trainer) == {first: True}


@pytest.mark.parametrize(
    ("original_start", "reason"),
    [
        (datetime(2026, 10, 20, 18), "cancelled"),  # the cancelled occurrence
        (datetime(2026, 10, 7, 18), "not an occurrence"),  # a Wednesday: the rule gives none
        (datetime(2026, 10, 6, 17), "not an occurrence"),  # the right day, the wrong hour
        (datetime(2026, 12, 15, 18), "not an occurrence"),  # after the tenth
        (datetime(2026, 10, 6, 18, tzinfo=UTC), "not an occurrence"),  # an aware time names none
    ],
)
def test_attendance_is_refused_for_an_occurrence_that_does_not_take_place(
    db: Session, trainer: User, world: Any, original_start: datetime, reason: str
) -> None:
    with pytest.raises(TrainingError, match=reason):
        attendance.mark_attendance(
            db, world["series"], original_start, {world["participants"][0].id: True}, trainer
        )


def test_attendance_is_refused_for_a_cancelled_series(db: Session, trainer: User, world: Any) -> None:
    service.cancel_series(db, world["series"])
    with pytest.raises(TrainingError, match="cancelled"):
        attendance.mark_attendance(db, world["series"], FIRST, {world["participants"][0].id: True}, trainer)


def test_attendance_is_refused_for_a_waiting_organisations_participant(
    db: Session, trainer: User, world: Any
) -> None:
    waiting = world["waiting_participant"].id
    with pytest.raises(TrainingError, match="not participants of an enrolled organisation"):
        attendance.mark_attendance(db, world["series"], FIRST, {waiting: True}, trainer)
    assert attendance.attendance_of(db, world["series"].id, FIRST) == {}


def test_participant_of_another_programme_cannot_be_marked(
    db: Session, trainer: User, world: Any, make_organisation: Any
) -> None:
    other = service.create_programme(
        db,
        title="Another programme",
        description="",
        lead_organisation_id=world["lead"].id,
        places=None,
        domains=[],
        trainers=[trainer.id],
        created_by=trainer,
    )
    stranger = service.add_participant(
        db, service.enrol(db, other, make_organisation("Elsewhere").id), None, "Someone Else"
    )
    with pytest.raises(TrainingError, match="not participants"):
        attendance.mark_attendance(db, world["series"], FIRST, {stranger.id: True}, trainer)


def test_participant_cannot_mark_attendance(db: Session, world: Any, make_user: Any) -> None:
    first = world["participants"][0].id
    for someone in (world["representative"], make_user("trainer", email="other.trainer@example.org")):
        with pytest.raises(TrainingError, match="trainers mark attendance"):
            attendance.mark_attendance(db, world["series"], FIRST, {first: True}, someone)


def test_an_officer_marks_attendance_of_any_programme(db: Session, officer: User, world: Any) -> None:
    first = world["participants"][0].id
    assert attendance.mark_attendance(db, world["series"], FIRST, {first: False}, officer) == {first: False}


# Feedback -------------------------------------------------------------------------------------------------


def test_participant_rates_an_occurrence_and_a_second_rating_replaces_theirs(db: Session, world: Any) -> None:
    series, representative = world["series"], world["representative"]
    attendance.rate_occurrence(db, series, FIRST, representative, 3, "  Clear, a bit fast.  ")
    feedback = attendance.rate_occurrence(db, series, FIRST, representative, 5, "Better on second thought.")
    db.commit()

    stored = db.scalars(select(Feedback).where(Feedback.series_id == series.id)).all()
    assert [(f.rating, f.comment, f.id) for f in stored] == [(5, "Better on second thought.", feedback.id)]
    # Another occurrence is rated apart.
    attendance.rate_occurrence(db, series, SECOND, representative, 4)
    assert db.scalar(select(func.count()).where(Feedback.series_id == series.id)) == 2


@pytest.mark.parametrize("rating", [0, 6, -1, True, 3.5, "4"])
def test_a_rating_outside_one_to_five_is_refused(db: Session, world: Any, rating: Any) -> None:
    with pytest.raises(TrainingError, match="from 1 to 5"):
        attendance.rate_occurrence(db, world["series"], FIRST, world["representative"], rating)


def test_an_overlong_comment_is_refused(db: Session, world: Any) -> None:
    with pytest.raises(TrainingError, match="at most"):
        attendance.rate_occurrence(db, world["series"], FIRST, world["representative"], 4, "x" * 2001)


def test_only_participants_of_an_enrolled_organisation_rate(
    db: Session, trainer: User, officer: User, world: Any, make_organisation: Any, make_representative: Any
) -> None:
    outsider = make_representative(make_organisation("Outsider Association"))
    for someone in (trainer, officer, outsider, world["waiting_rep"]):
        with pytest.raises(TrainingError, match="only participants"):
            attendance.rate_occurrence(db, world["series"], FIRST, someone, 4)


def test_a_cancelled_or_missing_occurrence_cannot_be_rated(db: Session, world: Any) -> None:
    for original_start in (datetime(2026, 10, 20, 18), datetime(2026, 10, 21, 18)):
        with pytest.raises(TrainingError):
            attendance.rate_occurrence(db, world["series"], original_start, world["representative"], 4)


def _rate_at_once(engine: Engine, series_id: int, ratings: list[tuple[int, int]]) -> list[str]:
    """Each (user id, rating) sent from its own session and thread at the same time, as requests are."""
    sessions = make_sessionmaker(engine)

    def rate(entry: tuple[int, int]) -> str:
        user_id, rating = entry
        with sessions() as session:
            session.info["actor_id"] = user_id
            will_write(session)  # as a POST does: SQLite takes the write lock when the transaction begins
            series = session.get(SessionSeries, series_id)
            user = session.get(User, user_id)
            assert series is not None and user is not None
            attendance.rate_occurrence(session, series, FIRST, user, rating, f"rated {rating}")
            session.commit()
            return "saved"

    with ThreadPoolExecutor(max_workers=len(ratings)) as pool:
        return list(pool.map(rate, ratings))


def test_two_participants_rating_at_once_both_count(db: Session, engine: Engine, world: Any) -> None:
    people = [world["representative"].id, world["colleague"].id]
    assert _rate_at_once(engine, world["series"].id, [(people[0], 2), (people[1], 4)]) == ["saved"] * 2
    db.expire_all()
    stored = db.execute(
        select(Feedback.user_id, Feedback.rating).where(Feedback.series_id == world["series"].id)
    ).all()
    assert sorted(stored) == sorted([(people[0], 2), (people[1], 4)])


def test_one_participant_rating_twice_at_once_keeps_one_rating(
    db: Session, engine: Engine, world: Any
) -> None:
    me = world["representative"].id
    assert _rate_at_once(engine, world["series"].id, [(me, 2), (me, 5), (me, 3), (me, 1)]) == ["saved"] * 4
    db.expire_all()
    stored = db.scalars(select(Feedback.rating).where(Feedback.series_id == world["series"].id)).all()
    assert len(stored) == 1 and stored[0] in (1, 2, 3, 5)


# Figures --------------------------------------------------------------------------------------------------


def test_the_programme_shows_its_attendance_rate_and_average_rating(
    db: Session, engine: Engine, trainer: User, world: Any
) -> None:
    series, (first, second, named) = world["series"], world["participants"]
    empty = attendance.programme_figures(db, world["programme"].id)
    assert (empty.attendance_rate, empty.average_rating, empty.ratings) == (None, None, 0)

    attendance.mark_attendance(db, series, FIRST, {first.id: True, second.id: False, named.id: True}, trainer)
    attendance.mark_attendance(db, series, SECOND, {first.id: True}, trainer)
    attendance.rate_occurrence(db, series, FIRST, world["representative"], 5)
    attendance.rate_occurrence(db, series, FIRST, world["colleague"], 2)
    attendance.rate_occurrence(db, series, SECOND, world["representative"], 4)
    db.commit()

    with QueryCount(engine) as queries:
        figures = attendance.programme_figures(db, world["programme"].id)
    assert (figures.attendance.marked, figures.attendance.present) == (4, 3)
    assert figures.attendance_rate == 0.75
    assert (figures.ratings, figures.average_rating) == (3, pytest.approx(11 / 3))
    assert queries.count == 2


def test_the_organisation_page_shows_its_participation_to_those_who_may_see_it(
    db: Session,
    engine: Engine,
    trainer: User,
    officer: User,
    world: Any,
    make_organisation: Any,
    make_representative: Any,
    make_user: Any,
) -> None:
    series, (first, second, _named) = world["series"], world["participants"]
    attendance.mark_attendance(db, series, FIRST, {first.id: True, second.id: False}, trainer)
    planned = service.create_programme(
        db,
        title="Still being planned",
        description="",
        lead_organisation_id=world["lead"].id,
        places=None,
        domains=[],
        trainers=[trainer.id],
        created_by=trainer,
    )
    service.enrol(db, planned, world["member"].id)
    db.commit()
    member = world["member"].id

    def seen_by(user: User) -> dict[str, Any]:
        return {
            p.programme.title: (p.participants, p.attendance and (p.attendance.marked, p.attendance.present))
            for p in attendance.organisation_participation(db, member, user)
        }

    with QueryCount(engine) as queries:
        assert seen_by(officer) == {"Bookkeeping": (3, (2, 1)), "Still being planned": (0, (0, 0))}
    assert queries.count <= 3
    assert seen_by(world["representative"]) == {
        "Bookkeeping": (3, (2, 1))
    }  # a planned programme is not listed
    assert seen_by(trainer) == {"Bookkeeping": (3, (2, 1)), "Still being planned": (0, (0, 0))}
    outsider = make_representative(make_organisation("Outsider Association"))
    assert seen_by(outsider) == {
        "Bookkeeping": (3, None)
    }  # listed in the catalogue; attendance is not theirs
    other_trainer = make_user("trainer", email="other.trainer@example.org")
    assert seen_by(other_trainer) == {"Bookkeeping": (3, None)}
    # The waiting organisation took part in nothing yet.
    waiting_org = world["waiting_rep"].organisation_id
    assert attendance.organisation_participation(db, waiting_org, officer) == []


# Before and after -----------------------------------------------------------------------------------------


def _validated(
    db: Session, organisation: Organisation, framework: Framework, officer: User, level: str, on: date
) -> AssessmentRound:
    """A round answered at one level for every indicator, submitted and validated; validated two weeks after
    it opened."""
    respondent = db.scalar(select(User).where(User.organisation_id == organisation.id).limit(1))
    assert respondent is not None
    shape = assessments.structure(db, framework)
    round_ = assessments.start_round(db, organisation, respondent, framework, on)
    response = assessments.response_of(db, round_, respondent)
    for indicator in shape.all_indicators():
        assessments.save_answer(db, response, indicator, Choice(level), None, None)
    assessments.submit_response(db, response, shape)
    assessments.submit_round(db, round_, shape)
    assessments.validate_round(db, round_, officer, None, shape)
    round_.validated_at = datetime.combine(on, datetime.min.time(), UTC).replace(day=on.day + 14)
    db.commit()
    return round_


def test_a_finished_programme_shows_capacity_before_and_after_in_the_targeted_domains(
    db: Session, engine: Engine, officer: User, world: Any, make_organisation: Any, make_representative: Any
) -> None:
    framework, _ = assessments.load_framework(db, parse_framework(encode(framework_document())))
    programme: Programme = world["programme"]
    member: Organisation = world["member"]
    late = make_organisation("Late Joiner")  # enrolled, but assessed only once, after the programme
    make_representative(late)
    programme.places = 2
    service.enrol(db, programme, late.id)
    db.commit()
    _validated(db, member, framework, officer, "1", date(2025, 3, 1))
    _validated(db, member, framework, officer, "2", date(2026, 3, 1))  # validated 15 March: before October
    _validated(db, member, framework, officer, "4", date(2027, 3, 1))  # the next one after the programme
    _validated(db, member, framework, officer, "1", date(2028, 3, 1))  # a later one does not count
    _validated(db, late, framework, officer, "3", date(2027, 4, 1))

    assert attendance.before_and_after(db, programme) is None  # still running
    programme.status = ProgrammeStatus.FINISHED.value
    db.commit()

    with QueryCount(engine) as queries:
        result = attendance.before_and_after(db, programme)
    assert queries.count <= 6
    assert result is not None
    assert result.domains == ["finance"]
    # Ten Tuesdays, the third cancelled, the fourth moved to a Wednesday; Dublin is on UTC+1 until 25 October.
    assert result.first_start == datetime(2026, 10, 6, 17, tzinfo=UTC)
    assert result.last_end == datetime(2026, 12, 8, 19, 30, tzinfo=UTC)
    by_name = {o.name: o for o in result.organisations}
    assert set(by_name) == {"Late Joiner", "Sahel Diaspora Network"}  # not the waiting one
    sahel = by_name["Sahel Diaspora Network"]
    assert sahel.before is not None and sahel.after is not None
    assert (sahel.before.opened_on, sahel.after.opened_on) == (date(2026, 3, 1), date(2027, 3, 1))
    assert (sahel.before.scores, sahel.after.scores) == ({"finance": 2.0}, {"finance": 4.0})
    assert sahel.change("finance") == 2.0
    late_joiner = by_name["Late Joiner"]
    assert late_joiner.before is None and late_joiner.after is not None
    assert late_joiner.change("finance") is None
    assert result.average_change("finance") == 2.0


def test_a_finished_programme_without_sessions_has_no_before_and_after(
    db: Session, trainer: User, world: Any
) -> None:
    empty = service.create_programme(
        db,
        title="Never held",
        description="",
        lead_organisation_id=world["lead"].id,
        places=None,
        domains=["finance"],
        trainers=[trainer.id],
        created_by=trainer,
        status=ProgrammeStatus.FINISHED.value,
    )
    assert attendance.before_and_after(db, empty) is None
    assert db.scalar(select(func.count()).select_from(Participant)) == 4
