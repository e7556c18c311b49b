"""The rules of editing sessions: "this occurrence", "this and following", "the whole series", cancellations,
and trainers booked twice."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations.service import StaleVersion
from crm.training import recurrence, schedule, service
from crm.training.models import Programme, SessionSeries
from crm.training.service import SeriesInput, TrainingError

WINDOW = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
MONDAYS = SeriesInput(
    "Evening session", datetime(2027, 3, 1, 18), datetime(2027, 3, 1, 19), "Europe/Dublin", (0,), count=6
)


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
        status="open",
    )
    db.commit()
    return programme


def starts(db: Session, series: SessionSeries) -> list[datetime]:
    """The local wall times the series' sessions start at, as its occurrences give them."""
    changes = service.changes_of(db, [series.id]).get(series.id, [])
    found = recurrence.occurrences(service.as_series(series, changes), *WINDOW)
    return [o.start.replace(tzinfo=None) for o in found]


def test_moving_one_occurrence_shows_it_at_its_new_time(db: Session, programme: Programme) -> None:
    series = schedule.create(db, programme, MONDAYS)

    schedule.move_this(
        db, series, datetime(2027, 3, 8, 18), datetime(2027, 3, 9, 17), datetime(2027, 3, 9, 18)
    )

    assert datetime(2027, 3, 9, 17) in starts(db, series)
    assert datetime(2027, 3, 8, 18) not in starts(db, series)
    occurrence = schedule.occurrence_of(db, series, datetime(2027, 3, 8, 18))
    assert occurrence is not None and occurrence.moved


def test_cancelling_one_occurrence_leaves_the_others(db: Session, programme: Programme) -> None:
    series = schedule.create(db, programme, MONDAYS)

    schedule.cancel_this(db, series, datetime(2027, 3, 15, 18))

    assert len(starts(db, series)) == 5
    assert datetime(2027, 3, 15, 18) not in starts(db, series)


def test_a_time_that_is_no_occurrence_is_refused(db: Session, programme: Programme) -> None:
    series = schedule.create(db, programme, MONDAYS)

    with pytest.raises(TrainingError):
        schedule.cancel_this(db, series, datetime(2027, 3, 16, 18))


def test_this_and_following_splits_the_series_under_a_new_uid(db: Session, programme: Programme) -> None:
    series = schedule.create(db, programme, MONDAYS)
    uid, sequence = series.uid, series.sequence
    schedule.cancel_this(db, series, datetime(2027, 3, 29, 18))
    schedule.cancel_this(db, series, datetime(2027, 3, 8, 18))

    following = schedule.change_following(
        db, series, datetime(2027, 3, 22, 18), time(19), time(20, 30), "Later session", "Room 2", ""
    )

    assert series.uid == uid and following.uid != uid
    assert series.sequence == sequence + 1
    assert following.programme_id == programme.id and following.location == "Room 2"
    # Together they hold the edited plan: 1 March, 15 March (8 March cancelled), then 22 March and 5 April
    # at the new time (29 March stays cancelled, under the new series).
    together = sorted(starts(db, series) + starts(db, following))
    assert together == [
        datetime(2027, 3, 1, 18),
        datetime(2027, 3, 15, 18),
        datetime(2027, 3, 22, 19),
        datetime(2027, 4, 5, 19),
    ]
    moved_changes = service.changes_of(db, [following.id])[following.id]
    assert [c.original_start for c in moved_changes] == [datetime(2027, 3, 29, 19)]


def test_this_and_following_is_refused_on_the_first_occurrence(db: Session, programme: Programme) -> None:
    series = schedule.create(db, programme, MONDAYS)

    with pytest.raises(TrainingError):
        schedule.change_following(db, series, series.start_local, time(19), time(20), "Again", "", "")


def test_the_whole_series_moves_and_keeps_its_uid(db: Session, programme: Programme) -> None:
    series = schedule.create(db, programme, MONDAYS)
    uid = series.uid
    schedule.cancel_this(db, series, datetime(2027, 3, 8, 18))
    schedule.cancel_this(db, series, datetime(2027, 3, 15, 18))

    # Now Mondays at 19:00, four times: the cancelled 8 and 15 March stay cancelled.
    schedule.change_whole(
        db,
        series,
        SeriesInput(
            "Evening session",
            datetime(2027, 3, 1, 19),
            datetime(2027, 3, 1, 20),
            "Europe/Dublin",
            (0,),
            count=4,
        ),
        series.version,
    )

    assert series.uid == uid and series.sequence == 1
    assert starts(db, series) == [datetime(2027, 3, 1, 19), datetime(2027, 3, 22, 19)]


def test_the_whole_series_drops_changes_the_new_rule_no_longer_holds(
    db: Session, programme: Programme
) -> None:
    series = schedule.create(db, programme, MONDAYS)
    schedule.cancel_this(db, series, datetime(2027, 3, 8, 18))

    # Tuesdays now: no Monday is an occurrence any more.
    schedule.change_whole(
        db,
        series,
        SeriesInput(
            "Evening session",
            datetime(2027, 3, 2, 18),
            datetime(2027, 3, 2, 19),
            "Europe/Dublin",
            (1,),
            count=6,
        ),
        series.version,
    )

    assert service.changes_of(db, [series.id]).get(series.id, []) == []
    assert len(starts(db, series)) == 6


def test_an_invalid_rule_is_refused_naming_the_field(db: Session, programme: Programme) -> None:
    series = schedule.create(db, programme, MONDAYS)

    with pytest.raises(TrainingError) as refused:
        schedule.change_whole(
            db,
            series,
            SeriesInput(
                "Evening", datetime(2027, 3, 2, 18), datetime(2027, 3, 2, 19), "Europe/Dublin", (0,), count=3
            ),
            series.version,
        )
    assert "series" in refused.value.errors or "date" in refused.value.errors


def test_a_stale_version_is_refused(db: Session, programme: Programme) -> None:
    series = schedule.create(db, programme, MONDAYS)

    with pytest.raises(StaleVersion):
        schedule.change_whole(db, series, MONDAYS, series.version + 1)


def test_cancelling_the_whole_series_raises_its_sequence(db: Session, programme: Programme) -> None:
    series = schedule.create(db, programme, MONDAYS)

    schedule.cancel_whole(db, series)

    assert series.cancelled_at is not None and series.sequence == 1
    with pytest.raises(TrainingError):
        schedule.cancel_this(db, series, datetime(2027, 3, 8, 18))


def test_a_trainer_booked_twice_is_found(
    db: Session, programme: Programme, trainer: User, make_user: Any
) -> None:
    other = service.create_programme(
        db,
        title="Grant writing",
        description="",
        lead_organisation_id=None,
        places=None,
        domains=[],
        trainers=[trainer.id],
        created_by=trainer,
        status="open",
    )
    # The same trainer in New York, 13:30–14:30 on two Mondays before the clocks change there: 18:30–19:30
    # UTC, half an hour into the Dublin sessions.
    schedule.create(
        db,
        other,
        SeriesInput(
            "Grants",
            datetime(2027, 3, 1, 13, 30),
            datetime(2027, 3, 1, 14, 30),
            "America/New_York",
            (0,),
            count=2,
        ),
    )
    now = datetime(2027, 2, 1, tzinfo=UTC)

    found = schedule.clashes(db, trainer, programme.id, schedule.planned_series(MONDAYS), now)

    assert [c.other.title for c in found] == ["Grants", "Grants"]
    assert found[0].trainer == trainer.display_name
    # Another time: no clash.
    later = SeriesInput(
        "Late", datetime(2027, 3, 1, 21), datetime(2027, 3, 1, 22), "Europe/Dublin", (0,), count=6
    )
    assert schedule.clashes(db, trainer, programme.id, schedule.planned_series(later), now) == []


def test_the_form_maps_the_rules_problems_to_its_fields() -> None:
    form = schedule.SessionIn.model_validate(
        {
            "title": "Evening",
            "date": "2027-03-02",
            "start_time": "18:00",
            "end_time": "17:00",
            "tz": "Europe/Dublin",
            "repeat": True,
            "weekdays": [0],
            "count": 3,
        }
    )
    with pytest.raises(TrainingError) as refused:
        form.to_input()
    assert set(refused.value.errors) == {"end_time"}

    form = form.model_copy(update={"end_time": time(19)})
    with pytest.raises(TrainingError) as refused:
        form.to_input()
    assert set(refused.value.errors) == {"date"}


def test_an_occurrence_key_must_be_exact() -> None:
    assert schedule.parse_occurrence_key("2027-03-01T18:00") == datetime(2027, 3, 1, 18)
    assert schedule.parse_occurrence_key("2027-3-1T18:00") is None
    assert schedule.parse_occurrence_key("nonsense") is None
