"""Scheduling a session and changing one occurrence, the following ones or the whole series, through the
pages; the "add to calendar" file of a series."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.training import schedule, service
from crm.training.models import Programme, SessionSeries
from crm.training.service import SeriesInput

MONDAYS = SeriesInput(
    "Evening session", datetime(2027, 3, 1, 18), datetime(2027, 3, 1, 19), "Europe/Dublin", (0,), count=6
)
FORM = {
    "title": "Evening session",
    "date": "2027-03-01",
    "start_time": "18:00",
    "end_time": "19:00",
    "tz": "Europe/Dublin",
    "repeat": "true",
    "weekdays": ["0"],
    "interval": "1",
    "ends": "count",
    "count": "6",
    "location": "Dublin, Room 1",
}


@pytest.fixture
def programme(db: Session, trainer: User) -> Programme:
    programme = service.create_programme(
        db,
        title="Bookkeeping circle",
        description="",
        lead_organisation_id=None,
        places=None,
        domains=[],
        trainers=[trainer.id],
        created_by=trainer,
        status="planned",
    )
    db.commit()
    return programme


def reread(db: Session) -> None:
    db.rollback()
    db.expire_all()


def test_a_trainer_schedules_a_weekly_series(
    db: Session, login: Any, trainer: User, programme: Programme
) -> None:
    client = login(trainer)

    page = client.get(f"/training/programmes/{programme.id}/sessions/new")
    assert page.status_code == 200
    # The trainer's own zone comes first in the list.
    assert page.text.index(f'value="{trainer.time_zone}"') < page.text.index('value="Africa/Abidjan"')

    response = client.submit(
        f"/training/programmes/{programme.id}/sessions/new", FORM, follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"].endswith("/occurrences/2027-03-01T18:00")
    reread(db)
    series = db.scalar(select(SessionSeries).where(SessionSeries.programme_id == programme.id))
    assert series is not None and series.weekdays == "0" and series.count == 6


def test_the_form_shows_each_problem_next_to_its_field(
    login: Any, trainer: User, programme: Programme
) -> None:
    client = login(trainer)

    response = client.submit(
        f"/training/programmes/{programme.id}/sessions/new", {**FORM, "date": "2027-03-02", "tz": "Mars/Base"}
    )

    assert response.status_code == 422
    assert 'id="s-tz-error"' in response.text
    assert "Choose a time zone from the list." in response.text

    response = client.submit(
        f"/training/programmes/{programme.id}/sessions/new", {**FORM, "date": "2027-03-02"}
    )
    assert response.status_code == 422
    assert 'id="s-date-error"' in response.text


def test_a_double_booking_is_warned_then_scheduled_anyway(
    db: Session, login: Any, trainer: User, programme: Programme
) -> None:
    schedule.create(db, programme, MONDAYS)
    db.commit()
    client = login(trainer)
    url = f"/training/programmes/{programme.id}/sessions/new"

    warned = client.submit(url, {**FORM, "title": "Second"})

    assert warned.status_code == 200
    assert "A trainer would be in two sessions at once" in warned.text
    assert "Schedule anyway" in warned.text
    scheduled = client.submit(
        url, {**FORM, "title": "Second", "schedule_anyway": "true"}, follow_redirects=False
    )
    assert scheduled.status_code == 303


def test_a_representative_who_sees_the_programme_may_not_schedule(
    login: Any, make_organisation: Any, make_representative: Any, db: Session, programme: Programme
) -> None:
    lead = make_organisation("Lead network")
    programme.lead_organisation_id = lead.id
    db.commit()
    client = login(make_representative(lead))

    assert client.get(f"/training/programmes/{programme.id}/sessions/new").status_code == 403


def test_the_occurrence_page_shows_both_zones(
    db: Session, login: Any, make_organisation: Any, make_representative: Any, programme: Programme
) -> None:
    programme.status = "open"
    series = schedule.create(db, programme, MONDAYS)
    db.commit()
    viewer = make_representative(make_organisation("Far network"), time_zone="America/New_York")

    page = login(viewer).get(f"/training/sessions/{series.id}/occurrences/2027-03-01T18:00")

    assert page.status_code == 200
    assert "13:00–14:00" in page.text  # New York
    assert "18:00–19:00" in page.text  # Dublin, the session's zone
    assert "Move this session only" not in page.text  # the forms are for those who run the programme


def test_a_malformed_or_unknown_occurrence_is_not_found(
    db: Session, login: Any, trainer: User, programme: Programme
) -> None:
    series = schedule.create(db, programme, MONDAYS)
    db.commit()
    client = login(trainer)

    for start in ("2027-03-02T18:00", "2027-3-1T18:00", "tomorrow"):
        assert client.get(f"/training/sessions/{series.id}/occurrences/{start}").status_code == 404


def test_a_trainer_moves_then_cancels_occurrences(
    db: Session, login: Any, trainer: User, programme: Programme
) -> None:
    series = schedule.create(db, programme, MONDAYS)
    db.commit()
    client = login(trainer)
    base = f"/training/sessions/{series.id}/occurrences"

    moved = client.submit(
        f"{base}/2027-03-08T18:00/move",
        {"date": "2027-03-09", "start_time": "17:00", "end_time": "18:00"},
        follow_redirects=False,
    )
    asked = client.submit(f"{base}/2027-03-15T18:00/cancel")
    cancelled = client.submit(
        f"{base}/2027-03-15T18:00/cancel", {"confirmed": "true"}, follow_redirects=False
    )

    assert moved.status_code == 303
    assert asked.status_code == 200 and "Yes, cancel this session" in asked.text
    assert cancelled.status_code == 303
    reread(db)
    changes = {c.original_start: c for c in service.changes_of(db, [series.id])[series.id]}
    assert changes[datetime(2027, 3, 8, 18)].start_local == datetime(2027, 3, 9, 17)
    assert changes[datetime(2027, 3, 15, 18)].cancelled
    assert "Moved" in client.get(f"{base}/2027-03-08T18:00").text


def test_this_and_following_through_the_page(
    db: Session, login: Any, trainer: User, programme: Programme
) -> None:
    series = schedule.create(db, programme, MONDAYS)
    db.commit()
    client = login(trainer)

    response = client.submit(
        f"/training/sessions/{series.id}/occurrences/2027-03-22T18:00/following",
        {"title": "Evening session", "start_time": "19:00", "end_time": "20:00", "version": series.version},
        follow_redirects=False,
    )

    assert response.status_code == 303
    reread(db)
    both = db.scalars(select(SessionSeries).where(SessionSeries.programme_id == programme.id)).all()
    assert len(both) == 2
    assert response.headers["location"].endswith("/occurrences/2027-03-22T19:00")


def test_a_stale_whole_series_edit_answers_409_with_what_was_typed(
    db: Session, login: Any, trainer: User, programme: Programme
) -> None:
    series = schedule.create(db, programme, MONDAYS)
    db.commit()
    client = login(trainer)

    response = client.submit(
        f"/training/sessions/{series.id}/edit",
        {**FORM, "title": "Typed title", "version": series.version + 5},
    )

    assert response.status_code == 409
    assert "Typed title" in response.text
    assert "Someone else changed this series" in response.text


def test_cancelling_the_whole_series_asks_first(
    db: Session, login: Any, trainer: User, programme: Programme
) -> None:
    series = schedule.create(db, programme, MONDAYS)
    db.commit()
    client = login(trainer)

    asked = client.submit(f"/training/sessions/{series.id}/cancel")
    done = client.submit(
        f"/training/sessions/{series.id}/cancel",
        {"confirmed": "true", "version": series.version},
        follow_redirects=False,
    )

    assert asked.status_code == 200 and "Yes, cancel the whole series" in asked.text
    assert done.status_code == 303
    reread(db)
    assert db.get(SessionSeries, series.id).cancelled_at is not None


def test_the_add_to_calendar_file(db: Session, login: Any, trainer: User, programme: Programme) -> None:
    series = schedule.create(db, programme, MONDAYS)
    db.commit()

    response = login(trainer).get(f"/training/sessions/{series.id}/calendar.ics")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment")
    event = next(c for c in Calendar.from_ical(response.content).walk("VEVENT"))
    assert str(event["UID"]) == series.uid
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2027, 3, 1, 18, tzinfo=UTC)


def test_someone_who_may_not_see_the_programme_gets_no_file(
    db: Session,
    login: Any,
    make_user: Any,
    make_organisation: Any,
    make_representative: Any,
    programme: Programme,
) -> None:
    series = schedule.create(db, programme, MONDAYS)
    db.commit()
    outsider = make_representative(make_organisation("Elsewhere"))

    assert login(outsider).get(f"/training/sessions/{series.id}/calendar.ics").status_code == 404
    assert (
        login(outsider).get(f"/training/sessions/{series.id}/occurrences/2027-03-01T18:00").status_code == 404
    )
