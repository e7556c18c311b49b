"""The training calendar: month, week and list in the viewer's time zone across clock changes, only the
sessions of programmes the viewer may see, filters, htmx swaps of the calendar region, and a bounded number
of statements whatever the number of series."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.training import schedule, service
from crm.training.models import Programme, SessionSeries
from crm.training.service import SeriesInput
from tests.assessments.test_results_queries import counting


def make_programme(db: Session, trainer: User, title: str, status: str = "open", **fields: Any) -> Programme:
    programme = service.create_programme(
        db,
        title=title,
        description="",
        lead_organisation_id=fields.get("lead"),
        places=None,
        domains=[],
        trainers=[trainer.id],
        created_by=trainer,
        status=status,
    )
    db.commit()
    return programme


@pytest.fixture
def dublin(db: Session, trainer: User) -> Programme:
    """Mondays 18:00–19:00 in Dublin, 8 times from 1 March 2027: New York changes its clocks on 14 March,
    Dublin on 28 March."""
    programme = make_programme(db, trainer, "Dublin circle")
    schedule.create(
        db,
        programme,
        SeriesInput(
            "Dublin evening",
            datetime(2027, 3, 1, 18),
            datetime(2027, 3, 1, 19),
            "Europe/Dublin",
            (0,),
            count=8,
        ),
    )
    db.commit()
    return programme


def in_new_york(make_user: Any) -> User:
    return make_user("liaison_officer", time_zone="America/New_York")


@pytest.mark.parametrize("view", ["month", "week", "list"])
def test_sessions_show_in_the_viewers_zone_across_clock_changes(
    login: Any, make_user: Any, dublin: Programme, view: str
) -> None:
    client = login(in_new_york(make_user))
    # Dublin 18:00 is 13:00 in New York before 14 March, 14:00 between the two changes, 13:00 again after.
    expected = {"2027-03-08": "13:00", "2027-03-15": "14:00", "2027-03-22": "14:00", "2027-03-29": "13:00"}

    for day, hour in expected.items():
        page = client.get(f"/training/calendar?view={view}&date={day}")
        assert page.status_code == 200
        assert f'datetime="{day}T{hour}:00-0' in page.text, (view, day)


def test_the_list_also_shows_the_sessions_own_time(login: Any, make_user: Any, dublin: Programme) -> None:
    page = login(in_new_york(make_user)).get("/training/calendar?view=list&date=2027-03-01").text

    assert "13:00–14:00" in page
    assert "18:00–19:00 in Europe/Dublin" in page


def test_a_moved_occurrence_shows_at_its_new_time(
    db: Session, login: Any, trainer: User, dublin: Programme
) -> None:
    found = schedule.occurrences_between(
        db,
        trainer,
        datetime.fromisoformat("2027-03-01T00:00+00:00"),
        datetime.fromisoformat("2027-03-09T00:00+00:00"),
    )
    stored = db.get(SessionSeries, found[0].series_id)
    schedule.move_this(
        db, stored, datetime(2027, 3, 8, 18), datetime(2027, 3, 10, 9), datetime(2027, 3, 10, 10)
    )
    db.commit()

    page = login(trainer).get("/training/calendar?view=week&date=2027-03-08").text

    assert 'datetime="2027-03-10T' in page
    assert 'datetime="2027-03-08T' not in page


def test_someone_who_may_not_see_a_programme_never_sees_its_sessions(
    db: Session,
    login: Any,
    trainer: User,
    make_organisation: Any,
    make_representative: Any,
    dublin: Programme,
) -> None:
    planned = make_programme(db, trainer, "Quiet planning", status="planned")
    schedule.create(
        db,
        planned,
        SeriesInput(
            "Secret session",
            datetime(2027, 3, 2, 18),
            datetime(2027, 3, 2, 19),
            "Europe/Dublin",
            (1,),
            count=4,
        ),
    )
    db.commit()
    outsider = make_representative(make_organisation("Outside network"))

    for view in ("month", "week", "list"):
        page = login(outsider).get(f"/training/calendar?view={view}&date=2027-03-02").text
        assert "Secret session" not in page and "Quiet planning" not in page
        assert "Dublin evening" in page
    trainers_page = login(trainer).get("/training/calendar?view=list&date=2027-03-02").text
    assert "Secret session" in trainers_page


def test_filters_and_htmx_swap_only_the_calendar(
    db: Session, login: Any, trainer: User, dublin: Programme
) -> None:
    other = make_programme(db, trainer, "Other circle")
    schedule.create(
        db,
        other,
        SeriesInput(
            "Other session",
            datetime(2027, 3, 3, 18),
            datetime(2027, 3, 3, 19),
            "Europe/Dublin",
            (2,),
            count=2,
        ),
    )
    db.commit()
    client = login(trainer)

    fragment = client.hx_get(f"/training/calendar?view=list&date=2027-03-01&programme={dublin.id}")

    assert fragment.status_code == 200
    assert (
        fragment.text.lstrip().startswith('<div id="calendar-region"')
        or 'id="calendar-region"' in fragment.text
    )
    assert "<html" not in fragment.text
    assert "Dublin evening" in fragment.text and "Other session" not in fragment.text


def test_an_empty_period_says_so(login: Any, trainer: User) -> None:
    page = login(trainer).get("/training/calendar?view=month&date=2031-01-01")

    assert page.status_code == 200
    assert "No session in this period." in page.text


def test_malformed_parameters_fall_back(login: Any, trainer: User) -> None:
    page = login(trainer).get("/training/calendar?view=year&date=31-31-31&programme=x&trainer=-1")

    assert page.status_code == 200


def test_the_month_costs_the_same_statements_whatever_the_number_of_series(
    db: Session, engine: Engine, login: Any, trainer: User
) -> None:
    client = login(trainer)
    url = "/training/calendar?view=month&date=2027-03-01"

    def add(n: int) -> None:
        programme = make_programme(db, trainer, f"Programme {n}")
        for k in range(n):
            start = datetime(2027, 3, 1, 8) + timedelta(days=k % 7, hours=k % 10)
            series = schedule.create(
                db,
                programme,
                SeriesInput(
                    f"S{k}", start, start + timedelta(hours=1), "Europe/Dublin", (start.weekday(),), count=10
                ),
            )
            schedule.cancel_this(db, series, start + timedelta(days=7))
        db.commit()

    add(2)
    client.get(url)
    with counting(engine) as few:
        assert client.get(url).status_code == 200
    add(40)
    with counting(engine) as many:
        assert client.get(url).status_code == 200

    assert many.count == few.count
    assert many.count <= 12
