"""Session series in local wall time: the weekly rule, its ends, DST changes, moved and cancelled occurrences,
"this and following" edits, and the problems validate() reports."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from crm.training.recurrence import (
    Change,
    Occurrence,
    Recurrence,
    Series,
    is_occurrence,
    local_to_aware,
    occurrences,
    split,
    validate,
    with_until,
)

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2027, 1, 1, tzinfo=UTC)


def weekly(
    start: datetime,
    weekdays: tuple[int, ...],
    tz: str = "Europe/Dublin",
    minutes: int = 90,
    changes: tuple[Change, ...] = (),
    **rule: int | date | None,
) -> Series:
    return Series(
        uid="series@crm",
        start=start,
        end=start + timedelta(minutes=minutes),
        tz=tz,
        recurrence=Recurrence(weekdays=weekdays, **rule),  # type: ignore[arg-type]
        changes=changes,
    )


def starts(found: list[Occurrence]) -> list[datetime]:
    return [o.original_start for o in found]


def in_year(series: Series, include_cancelled: bool = False) -> list[Occurrence]:
    return occurrences(series, YEAR_START, YEAR_END, include_cancelled)


def test_mondays_and_wednesdays_every_other_week_stop_after_the_count() -> None:
    series = weekly(datetime(2026, 1, 5, 18), (0, 2), interval=2, count=5)

    assert starts(in_year(series)) == [
        datetime(2026, 1, 5, 18),
        datetime(2026, 1, 7, 18),
        datetime(2026, 1, 19, 18),
        datetime(2026, 1, 21, 18),
        datetime(2026, 2, 2, 18),
    ]


def test_the_until_day_holds_its_session_and_nothing_after_it() -> None:
    series = weekly(datetime(2026, 1, 5, 18), (0, 2), until=date(2026, 1, 14))

    assert starts(in_year(series))[-1] == datetime(2026, 1, 14, 18)
    assert len(in_year(series)) == 4


def test_an_open_ended_series_runs_through_any_window() -> None:
    series = weekly(datetime(2020, 1, 6, 18), (0,))
    window_start = datetime(2031, 6, 1, tzinfo=UTC)

    found = occurrences(series, window_start, window_start + timedelta(days=30))

    assert starts(found) == [datetime(2031, 6, day, 18) for day in (2, 9, 16, 23, 30)]


def test_a_month_of_a_five_year_old_series_is_expanded_quickly() -> None:
    series = weekly(datetime(2021, 1, 4, 18), (0, 1, 2, 3, 4))
    window_start = datetime(2026, 3, 1, tzinfo=UTC)

    began = time.perf_counter()
    found = occurrences(series, window_start, window_start + timedelta(days=31))
    elapsed = time.perf_counter() - began

    assert len(found) == 22
    assert elapsed < 0.2


@pytest.mark.parametrize(
    ("tz", "utc_hours"),
    [
        # Europe/Dublin: GMT in winter, IST (UTC+1) from the last Sunday of March to the last of October.
        ("Europe/Dublin", {date(2026, 3, 26): 18, date(2026, 3, 29): 17, date(2026, 3, 30): 17}),
        ("Europe/Dublin", {date(2026, 10, 22): 17, date(2026, 10, 25): 18, date(2026, 10, 26): 18}),
        # America/New_York: EDT from the second Sunday of March to the first Sunday of November.
        ("America/New_York", {date(2026, 3, 5): 23, date(2026, 3, 8): 22, date(2026, 3, 9): 22}),
        ("America/New_York", {date(2026, 10, 29): 22, date(2026, 11, 1): 23, date(2026, 11, 2): 23}),
    ],
)
def test_sessions_stay_at_1800_local_when_the_clocks_change(tz: str, utc_hours: dict[date, int]) -> None:
    """The Thursday before the change, its Sunday and the Monday after it."""
    series = weekly(datetime(2026, 1, 1, 18), (0, 3, 6), tz=tz)

    found = [o for o in in_year(series) if o.original_start.date() in utc_hours]

    assert [o.start.date() for o in found] == list(utc_hours)
    assert [o.start.strftime("%H:%M") for o in found] == ["18:00"] * 3
    assert [o.end.strftime("%H:%M") for o in found] == ["19:30"] * 3
    assert [o.start.astimezone(UTC).hour for o in found] == list(utc_hours.values())
    assert {str(o.start.tzinfo) for o in found} == {tz}


def test_a_session_in_the_hour_skipped_in_spring_starts_an_hour_later() -> None:
    series = weekly(datetime(2026, 3, 22, 1, 30), (6,), minutes=60)

    found = occurrences(series, datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC))

    assert len(found) == 1
    assert found[0].original_start == datetime(2026, 3, 29, 1, 30)
    assert found[0].start.replace(tzinfo=None) == datetime(2026, 3, 29, 2, 30)
    assert found[0].start.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert found[0].end.astimezone(UTC) == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)


def test_a_session_across_the_night_the_clocks_change_lasts_as_long_as_the_others() -> None:
    """RFC 5545 (section 3.8.5.3) gives every occurrence the exact duration DTEND gives the first: two hours
    from 00:30 end at 03:30 when clocks go forward at 01:00, and at 01:30 when they go back at 02:00."""
    series = weekly(datetime(2026, 3, 22, 0, 30), (6,), minutes=120)

    found = in_year(series)

    assert {o.end.astimezone(UTC) - o.start.astimezone(UTC) for o in found} == {timedelta(hours=2)}
    by_day = {o.start.date(): o.end.strftime("%H:%M") for o in found}
    assert (by_day[date(2026, 3, 22)], by_day[date(2026, 3, 29)], by_day[date(2026, 10, 25)]) == (
        "02:30",
        "03:30",
        "01:30",
    )


def test_a_wall_time_in_the_gap_moves_forward_by_the_gap() -> None:
    dublin = local_to_aware(datetime(2026, 3, 29, 1, 30), "Europe/Dublin")
    new_york = local_to_aware(datetime(2026, 3, 8, 2, 15), "America/New_York")

    assert (dublin.replace(tzinfo=None), dublin.utcoffset()) == (
        datetime(2026, 3, 29, 2, 30),
        timedelta(hours=1),
    )
    assert (new_york.replace(tzinfo=None), new_york.utcoffset()) == (
        datetime(2026, 3, 8, 3, 15),
        timedelta(hours=-4),
    )


def test_a_wall_time_that_happens_twice_is_the_first() -> None:
    dublin = local_to_aware(datetime(2026, 10, 25, 1, 30), "Europe/Dublin")

    assert dublin.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert dublin.replace(tzinfo=None) == datetime(2026, 10, 25, 1, 30)


def test_an_ordinary_wall_time_keeps_its_clock_reading() -> None:
    aware = local_to_aware(datetime(2026, 7, 1, 18), "Asia/Tokyo")

    assert aware.replace(tzinfo=None) == datetime(2026, 7, 1, 18)
    assert aware.astimezone(UTC) == datetime(2026, 7, 1, 9, tzinfo=UTC)


MOVED = Change(
    original_start=datetime(2026, 1, 12, 18),
    cancelled=False,
    start=datetime(2026, 1, 15, 9),
    end=datetime(2026, 1, 15, 11),
    sequence=2,
)
CANCELLED = Change(original_start=datetime(2026, 1, 19, 18), cancelled=True, sequence=1)


def with_changes() -> Series:
    return weekly(datetime(2026, 1, 5, 18), (0,), count=4, changes=(MOVED, CANCELLED))


def test_a_moved_occurrence_appears_at_its_new_time() -> None:
    found = in_year(with_changes())

    assert [(o.original_start, o.start.replace(tzinfo=None), o.moved) for o in found] == [
        (datetime(2026, 1, 5, 18), datetime(2026, 1, 5, 18), False),
        (datetime(2026, 1, 12, 18), datetime(2026, 1, 15, 9), True),
        (datetime(2026, 1, 26, 18), datetime(2026, 1, 26, 18), False),
    ]
    assert found[1].end.replace(tzinfo=None) == datetime(2026, 1, 15, 11)


def test_a_moved_occurrence_is_judged_against_the_window_at_its_new_time() -> None:
    around_original = occurrences(
        with_changes(), datetime(2026, 1, 12, tzinfo=UTC), datetime(2026, 1, 13, tzinfo=UTC)
    )
    around_new = occurrences(
        with_changes(), datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 1, 16, tzinfo=UTC)
    )

    assert around_original == []
    assert starts(around_new) == [datetime(2026, 1, 12, 18)]


def test_a_cancelled_occurrence_disappears_unless_asked_for() -> None:
    shown = in_year(with_changes())
    everything = in_year(with_changes(), include_cancelled=True)

    assert datetime(2026, 1, 19, 18) not in starts(shown)
    cancelled = [o for o in everything if o.cancelled]
    assert [(o.original_start, o.start.replace(tzinfo=None)) for o in cancelled] == [
        (datetime(2026, 1, 19, 18), datetime(2026, 1, 19, 18))
    ]
    assert len(everything) == len(shown) + 1


def test_the_window_holds_what_overlaps_it_and_is_read_in_any_zone() -> None:
    series = weekly(datetime(2026, 1, 5, 18), (0,), count=3)
    # 18:00–19:30 Dublin in January is 18:00–19:30 UTC, 13:00–14:30 in New York.
    new_york = datetime(
        2026, 1, 12, 14, tzinfo=local_to_aware(datetime(2026, 1, 1), "America/New_York").tzinfo
    )

    assert starts(occurrences(series, new_york, new_york + timedelta(hours=1))) == [datetime(2026, 1, 12, 18)]
    assert (
        occurrences(series, datetime(2026, 1, 12, 19, 30, tzinfo=UTC), datetime(2026, 1, 13, tzinfo=UTC))
        == []
    )
    assert occurrences(series, datetime(2026, 1, 12, tzinfo=UTC), datetime(2026, 1, 12, 18, tzinfo=UTC)) == []


def test_a_single_session_happens_once() -> None:
    single = Series("one@crm", datetime(2026, 5, 4, 10), datetime(2026, 5, 4, 12), "Asia/Tokyo", None)

    found = in_year(single)

    assert [(o.start.isoformat(), o.end.isoformat()) for o in found] == [
        ("2026-05-04T10:00:00+09:00", "2026-05-04T12:00:00+09:00")
    ]


def test_weeks_start_on_monday_for_an_every_other_week_rule() -> None:
    series = weekly(datetime(2026, 1, 4, 10), (0, 6), interval=2, count=4)

    assert [o.start.date() for o in in_year(series)] == [
        date(2026, 1, 4),
        date(2026, 1, 12),
        date(2026, 1, 18),
        date(2026, 1, 26),
    ]


def test_with_until_ends_the_series_on_that_day_and_drops_later_changes() -> None:
    series = weekly(datetime(2026, 1, 5, 18), (0,), changes=(MOVED, CANCELLED))

    shortened = with_until(series, date(2026, 1, 18))

    assert shortened.recurrence == Recurrence(weekdays=(0,), until=date(2026, 1, 18))
    assert shortened.changes == (MOVED,)
    assert starts(in_year(shortened)) == [datetime(2026, 1, 5, 18), datetime(2026, 1, 12, 18)]


def test_with_until_turns_a_count_into_the_until_day() -> None:
    series = weekly(datetime(2026, 1, 5, 18), (0, 2), interval=2, count=6)

    shortened = with_until(series, date(2026, 1, 20))

    assert shortened.recurrence == Recurrence(weekdays=(0, 2), interval=2, until=date(2026, 1, 20))
    assert len(in_year(shortened)) == 3


def test_with_until_never_lengthens_a_series() -> None:
    counted = weekly(datetime(2026, 1, 5, 18), (0,), count=2)
    until = weekly(datetime(2026, 1, 5, 18), (0,), until=date(2026, 1, 12))

    assert with_until(counted, date(2026, 6, 1)).recurrence == Recurrence(
        weekdays=(0,), until=date(2026, 1, 12)
    )
    assert with_until(until, date(2026, 6, 1)) == until
    assert in_year(with_until(counted, date(2026, 6, 1))) == in_year(counted)


def test_with_until_refuses_a_day_before_the_first_session() -> None:
    with pytest.raises(ValueError):
        with_until(weekly(datetime(2026, 1, 5, 18), (0,)), date(2026, 1, 4))


@pytest.mark.parametrize(
    "rule",
    [{"count": 12}, {"until": date(2026, 3, 25)}, {}],
    ids=["count", "until", "open-ended"],
)
def test_split_parts_together_hold_the_original_occurrences(rule: dict[str, int | date]) -> None:
    changes = (MOVED, CANCELLED, Change(datetime(2026, 2, 18, 18), cancelled=True))
    series = weekly(datetime(2026, 1, 5, 18), (0, 2), interval=2, changes=changes, **rule)
    at = datetime(2026, 2, 4, 18)  # a Wednesday, so the second part starts mid-week

    first, second = split(series, at, "second@crm")

    assert first.uid == series.uid and second.uid == "second@crm"
    assert first.recurrence is not None and first.recurrence.until == date(2026, 2, 3)
    assert second.start == at and second.end == at + (series.end - series.start)
    assert second.changes == (changes[2],) and first.changes == (MOVED, CANCELLED)
    assert second.recurrence is not None
    if "count" in rule:
        assert second.recurrence.count == 12 - 5  # 5, 7, 19, 21 January and 2 February
    assert second.recurrence.until == rule.get("until")

    def keys(found: list[Occurrence]) -> list[tuple[object, ...]]:
        return [(o.original_start, o.start, o.end, o.moved, o.cancelled) for o in found]

    joined = keys(in_year(first, True)) + keys(in_year(second, True))
    assert joined == keys(in_year(series, True))
    assert max(o.original_start for o in in_year(first, True)) < at


def test_split_refuses_the_first_occurrence_and_a_time_that_is_none() -> None:
    series = weekly(datetime(2026, 1, 5, 18), (0,), count=4)

    with pytest.raises(ValueError):
        split(series, datetime(2026, 1, 5, 18), "new@crm")
    with pytest.raises(ValueError):
        split(series, datetime(2026, 1, 13, 18), "new@crm")
    with pytest.raises(ValueError):
        split(series, datetime(2026, 2, 2, 18), "new@crm")


def test_a_sound_series_has_no_problem() -> None:
    assert validate(with_changes()) == []
    assert (
        validate(Series("one@crm", datetime(2026, 5, 4, 10), datetime(2026, 5, 4, 12), "Asia/Tokyo", None))
        == []
    )


MONDAY = datetime(2026, 1, 5, 18)


@pytest.mark.parametrize(
    ("series", "problem"),
    [
        (weekly(MONDAY, (0, 7)), "weekday 7 is not between 0 (Monday) and 6 (Sunday)"),
        (weekly(MONDAY, (-1, 0)), "weekday -1 is not between 0 (Monday) and 6 (Sunday)"),
        (weekly(MONDAY, ()), "a weekly rule needs at least one weekday"),
        (weekly(MONDAY, (2, 0)), "weekdays must be sorted and each given once"),
        (weekly(MONDAY, (0, 0)), "weekdays must be sorted and each given once"),
        (weekly(MONDAY, (0,), interval=0), "interval 0 is not between 1 and 52 weeks"),
        (weekly(MONDAY, (0,), interval=53), "interval 53 is not between 1 and 52 weeks"),
        (
            weekly(MONDAY, (0,), count=3, until=date(2026, 2, 1)),
            "a rule ends after a count or on an until day, not both",
        ),
        (weekly(MONDAY, (0,), count=0), "count 0 is below 1"),
        (weekly(MONDAY, (0,), until=date(2026, 1, 4)), "until day 2026-01-04 is before the first start"),
        (weekly(MONDAY, (1, 2)), "the first start falls on weekday 0, which the rule does not name"),
        (weekly(MONDAY, (0,), minutes=0), "end must be after start"),
        (weekly(MONDAY, (0,), tz="Europe/Atlantis"), "unknown time zone 'Europe/Atlantis'"),
        (weekly(MONDAY.replace(tzinfo=UTC), (0,)), "start and end must be naive local wall times"),
        (
            weekly(MONDAY, (0,), changes=(Change(datetime(2026, 1, 6, 18), cancelled=True),)),
            "change at 2026-01-06 18:00:00 matches no occurrence of the rule",
        ),
        (
            weekly(MONDAY, (0,), count=2, changes=(Change(datetime(2026, 1, 19, 18), cancelled=True),)),
            "change at 2026-01-19 18:00:00 matches no occurrence of the rule",
        ),
        (
            weekly(MONDAY, (0,), changes=(Change(MONDAY, cancelled=False, start=MONDAY),)),
            "change at 2026-01-05 18:00:00 is neither cancelled nor given a new start and end",
        ),
        (
            weekly(MONDAY, (0,), changes=(Change(MONDAY, cancelled=False, start=MONDAY, end=MONDAY),)),
            "moved occurrence at 2026-01-05 18:00:00 does not end after it starts",
        ),
        (
            weekly(MONDAY, (0,), changes=(Change(MONDAY, cancelled=True), Change(MONDAY, cancelled=True))),
            "two changes for the occurrence at 2026-01-05 18:00:00",
        ),
        (
            weekly(MONDAY, (0,), changes=(Change(MONDAY.replace(tzinfo=UTC), cancelled=True),)),
            "change at 2026-01-05 18:00:00+00:00 must use naive local wall times",
        ),
        (
            Series(
                "one@crm", MONDAY, MONDAY + timedelta(hours=1), "UTC", None, (Change(MONDAY, cancelled=True),)
            ),
            "a single session has no changes: edit its start and end instead",
        ),
    ],
)
def test_validate_names_each_problem(series: Series, problem: str) -> None:
    assert validate(series) == [problem]


def test_is_occurrence_names_the_rules_wall_times_only() -> None:
    weekly = Series(
        uid="s",
        start=datetime(2026, 3, 2, 18),
        end=datetime(2026, 3, 2, 19),
        tz="Europe/Dublin",
        recurrence=Recurrence(weekdays=(0,), count=3),
    )
    assert is_occurrence(weekly, datetime(2026, 3, 16, 18))
    assert not is_occurrence(weekly, datetime(2026, 3, 23, 18))  # after the third
    assert not is_occurrence(weekly, datetime(2026, 3, 9, 17))
