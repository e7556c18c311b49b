"""The demo shows peer training at first run: five programmes led by consenting peer organisations, weekly
series in three time zones and more across a clock change, a moved and a cancelled occurrence, a full programme
with a waiting list, attendance and ratings of past sessions ("my sessions" of the demo representative among
them), and a finished programme whose participants show their capacity before and after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import seeding
from crm.accounts import service as accounts
from crm.assessments.models import DomainScore
from crm.organisations.models import Organisation
from crm.training import attendance, recurrence, service
from crm.training.demo import load_demo_training
from crm.training.models import (
    Enrolment,
    EnrolmentStatus,
    Feedback,
    OccurrenceChange,
    Participant,
    Programme,
    ProgrammeStatus,
    ProgrammeTrainer,
    SessionSeries,
)

DEMO_TODAY = datetime(2026, 12, 1, tzinfo=UTC)


def _spans_a_clock_change(series: SessionSeries) -> bool:
    found = recurrence.occurrences(
        service.as_series(series), datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
    )
    return len({o.start.utcoffset() for o in found}) > 1


def test_the_demo_holds_the_peer_training_the_issue_lists(db: Session) -> None:
    seeding.load_demo(db)
    db.commit()

    programmes = db.scalars(select(Programme).order_by(Programme.id)).all()
    assert len(programmes) >= 5
    leads = {p.lead_organisation_id for p in programmes}
    consenting = set(db.scalars(select(Organisation.id).where(Organisation.peer_trainer_consent)))
    assert None not in leads and leads <= consenting
    trainer = accounts.get_user_by_email(db, "trainer@demo.example.org")
    assert trainer is not None
    trained = set(
        db.scalars(select(ProgrammeTrainer.programme_id).where(ProgrammeTrainer.user_id == trainer.id))
    )
    assert 1 <= len(trained) < len(programmes)

    series = db.scalars(select(SessionSeries)).all()
    zones = {s.tz for s in series}
    assert {"Europe/Dublin", "America/New_York"} <= zones and len(zones) >= 3
    assert all(s.weekdays for s in series)  # weekly
    assert {s.tz for s in series if _spans_a_clock_change(s)} >= {"Europe/Dublin", "America/New_York"}
    starts = [recurrence.local_to_aware(s.start_local, s.tz) for s in series]
    assert min(starts) < DEMO_TODAY < max(starts) + timedelta(weeks=20)  # past and upcoming sessions
    changes = db.scalars(select(OccurrenceChange)).all()
    assert any(c.cancelled for c in changes) and any(not c.cancelled and c.start_local for c in changes)

    waiting = db.scalars(select(Enrolment).where(Enrolment.status == EnrolmentStatus.WAITING.value)).all()
    assert waiting
    full = db.get(Programme, waiting[0].programme_id)
    assert full is not None and full.places is not None
    taken = db.scalar(
        select(func.count()).where(
            Enrolment.programme_id == full.id, Enrolment.status == EnrolmentStatus.ENROLLED
        )
    )
    assert taken == full.places

    for programme in programmes:
        # The domains taught are weak for the participants: below the lead organisation's level.
        codes = service.domain_codes(db, programme.id)
        enrolled = select(Enrolment.organisation_id).where(Enrolment.programme_id == programme.id)
        theirs = db.scalar(
            select(func.avg(DomainScore.validated_score)).where(
                DomainScore.latest,
                DomainScore.domain_code.in_(codes),
                DomainScore.organisation_id.in_(enrolled),
            )
        )
        lead = db.scalar(
            select(func.avg(DomainScore.validated_score)).where(
                DomainScore.latest,
                DomainScore.domain_code.in_(codes),
                DomainScore.organisation_id == programme.lead_organisation_id,
            )
        )
        assert theirs is not None and lead is not None and theirs < lead, programme.title
    running = [p for p in programmes if p.status in (ProgrammeStatus.RUNNING, ProgrammeStatus.FINISHED)]
    for programme in running:
        figures = attendance.programme_figures(db, programme.id)
        assert figures.attendance.marked > 0 and figures.ratings > 0
        assert figures.attendance_rate is not None and 0.5 < figures.attendance_rate < 1
        assert figures.average_rating is not None and 1 <= figures.average_rating <= 5
    assert (db.scalar(select(func.count()).where(Feedback.comment != "")) or 0) > 0

    rep = accounts.get_user_by_email(db, "rep@demo.example.org")
    assert rep is not None
    mine = db.scalar(select(func.count()).where(Participant.user_id == rep.id))
    assert mine and mine >= 1
    participation = attendance.organisation_participation(db, rep.organisation_id or 0, rep)
    assert participation and all(p.attendance is not None and p.attendance.marked for p in participation)

    finished = [p for p in programmes if p.status == ProgrammeStatus.FINISHED]
    assert finished
    result = attendance.before_and_after(db, finished[0])
    assert result is not None and result.last_end < DEMO_TODAY
    assessed = [o for o in result.organisations if o.before is not None and o.after is not None]
    assert assessed
    code = result.domains[0]
    assert all(o.change(code) is not None for o in assessed)
    assert result.average_change(code) is not None


def test_the_training_demo_is_the_same_every_time_and_loaded_once(db: Session) -> None:
    seeding.load_demo(db)
    db.commit()

    def snapshot() -> list[tuple[object, ...]]:
        return [
            *db.execute(select(Programme.title, Programme.status, Programme.lead_organisation_id)).all(),
            *db.execute(
                select(Enrolment.programme_id, Enrolment.organisation_id, Enrolment.status).order_by(
                    Enrolment.id
                )
            ).all(),
            *db.execute(
                select(Feedback.series_id, Feedback.user_id, Feedback.rating).order_by(Feedback.id)
            ).all(),
        ]

    before = snapshot()
    users = {u.email: u for u in [accounts.get_user_by_email(db, "trainer@demo.example.org")] if u}
    load_demo_training(db, {}, users, "unused")
    db.commit()
    assert snapshot() == before
    # Times are local wall times in their zone: 18:00 in Dublin on both sides of the October change.
    dublin = db.scalars(select(SessionSeries).where(SessionSeries.tz == "Europe/Dublin")).first()
    assert dublin is not None
    hours = {
        o.start.astimezone(ZoneInfo("Europe/Dublin")).hour
        for o in recurrence.occurrences(
            service.as_series(dublin), datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
        )
    }
    assert hours == {dublin.start_local.hour}
