"""When the sessions of a series take place. A series is kept in local wall time plus an IANA zone, so 18:00
in Europe/Dublin stays 18:00 when the clocks change: the weekly rule runs on naive wall times (dateutil's
rrule) and each occurrence gets its zone only at the end. An occurrence that was moved or cancelled is a
change keyed by the wall time the rule gives it. Pure: no database, no clock."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule


@dataclass(frozen=True)
class Recurrence:
    """Weekly on some weekdays (0 = Monday … 6 = Sunday), every `interval` weeks, ending after `count`
    occurrences or on the local day `until` (inclusive), or never."""

    weekdays: tuple[int, ...]
    interval: int = 1
    count: int | None = None
    until: date | None = None


@dataclass(frozen=True)
class Change:
    """One occurrence cancelled, or moved to a new local start and end (wall times in the series' zone)."""

    original_start: datetime
    cancelled: bool
    start: datetime | None = None
    end: datetime | None = None
    sequence: int = 0
    last_modified: datetime | None = None


@dataclass(frozen=True)
class Series:
    """Sessions from `start` to `end` (naive wall times in `tz`), repeated by `recurrence`, or held once."""

    uid: str
    start: datetime
    end: datetime
    tz: str
    recurrence: Recurrence | None
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class Occurrence:
    """One session as it takes place: `start` and `end` are aware, in the series' zone."""

    uid: str
    original_start: datetime
    start: datetime
    end: datetime
    moved: bool
    cancelled: bool


def local_to_aware(naive: datetime, tz: str) -> datetime:
    """The instant a wall time names in the zone, as an aware datetime in that zone. A wall time that does not
    exist (the hour skipped when clocks go forward) is read with the offset before the gap, so 01:30 becomes
    02:30 when clocks jump from 01:00 to 02:00; a wall time that happens twice (clocks going back) is the
    first of the two. Both are PEP 495's fold=0 and RFC 5545's reading (section 3.3.5)."""
    zone = ZoneInfo(tz)
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


def _rule(series: Series) -> rrule.rrule:
    """The wall times the series starts at; a single session is a rule of one. The week starts on Monday
    (RFC 5545's default WKST), which decides the weeks an `interval` above 1 skips."""
    recurrence = series.recurrence
    if recurrence is None:
        return rrule.rrule(rrule.DAILY, dtstart=series.start, count=1)
    until = None if recurrence.until is None else datetime.combine(recurrence.until, time.max)
    return rrule.rrule(
        rrule.WEEKLY,
        dtstart=series.start,
        interval=recurrence.interval,
        wkst=rrule.MO,
        byweekday=recurrence.weekdays,
        count=recurrence.count,
        until=until,
    )


def _is_moved(change: Change) -> bool:
    return not change.cancelled and change.start is not None and change.end is not None


def _known_zone(tz: str) -> bool:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _is_naive(*moments: datetime | None) -> bool:
    return all(moment is None or moment.tzinfo is None for moment in moments)


def _elapsed(series: Series) -> timedelta:
    """How long each occurrence lasts: the exact, elapsed time the first one does, as RFC 5545 has it for a
    DTEND (section 3.8.5.3). It is the wall-clock difference unless the first session spans a clock change."""
    zone_start = local_to_aware(series.start, series.tz).astimezone(UTC)
    return local_to_aware(series.end, series.tz).astimezone(UTC) - zone_start


def _end_of(series: Series, start: datetime) -> datetime:
    """The aware end of the occurrence the rule starts at a wall time: that start plus the elapsed time."""
    begins = local_to_aware(start, series.tz)
    return (begins.astimezone(UTC) + _elapsed(series)).astimezone(begins.tzinfo)


def _recurrence_problems(recurrence: Recurrence, start: datetime) -> list[str]:
    """RFC 5545 counts DTSTART as the first occurrence even on a day the rule does not name, where dateutil
    does not: the first start must fall on one of the weekdays so that both read the series alike."""
    problems = []
    if not recurrence.weekdays:
        problems.append("a weekly rule needs at least one weekday")
    problems += [
        f"weekday {day} is not between 0 (Monday) and 6 (Sunday)"
        for day in recurrence.weekdays
        if not 0 <= day <= 6
    ]
    if recurrence.weekdays != tuple(sorted(set(recurrence.weekdays))):
        problems.append("weekdays must be sorted and each given once")
    if not 1 <= recurrence.interval <= 52:
        problems.append(f"interval {recurrence.interval} is not between 1 and 52 weeks")
    if recurrence.count is not None and recurrence.until is not None:
        problems.append("a rule ends after a count or on an until day, not both")
    if recurrence.count is not None and recurrence.count < 1:
        problems.append(f"count {recurrence.count} is below 1")
    if recurrence.until is not None and recurrence.until < start.date():
        problems.append(f"until day {recurrence.until} is before the first start")
    if recurrence.weekdays and start.weekday() not in recurrence.weekdays:
        problems.append(f"the first start falls on weekday {start.weekday()}, which the rule does not name")
    return problems


def _change_problems(series: Series) -> list[str]:
    """A single session is edited, not changed; a change names an occurrence of the rule, once; a moved
    occurrence has a naive start and a later end."""
    if series.changes and series.recurrence is None:
        return ["a single session has no changes: edit its start and end instead"]
    problems = []
    rule = _rule(series)
    seen: set[datetime] = set()
    for change in series.changes:
        original = change.original_start
        if not _is_naive(original, change.start, change.end):
            problems.append(f"change at {original} must use naive local wall times")
            continue
        if original in seen:
            problems.append(f"two changes for the occurrence at {original}")
        seen.add(original)
        if original not in rule:
            problems.append(f"change at {original} matches no occurrence of the rule")
        if change.cancelled:
            continue
        if change.start is None or change.end is None:
            problems.append(f"change at {original} is neither cancelled nor given a new start and end")
        elif change.end <= change.start:
            problems.append(f"moved occurrence at {original} does not end after it starts")
    return problems


def is_occurrence(series: Series, original_start: datetime) -> bool:
    """Whether the rule starts an occurrence at this wall time (the key a change is stored under)."""
    return original_start.tzinfo is None and original_start in _rule(series)


def validate(series: Series) -> list[str]:
    """What is wrong with a series, in plain words for developers; empty when nothing is. The zone is known,
    start and end are naive and end comes after start (on the wall and in elapsed time), the rule is sound
    (see _recurrence_problems) and each change fits it (see _change_problems)."""
    problems = []
    naive = _is_naive(series.start, series.end)
    known_zone = _known_zone(series.tz)
    if not known_zone:
        problems.append(f"unknown time zone {series.tz!r}")
    if not naive:
        problems.append("start and end must be naive local wall times")
    elif series.end <= series.start or (known_zone and _elapsed(series) <= timedelta()):
        problems.append("end must be after start")
    if not naive:
        return problems
    if series.recurrence is not None:
        rule_problems = _recurrence_problems(series.recurrence, series.start)
        if rule_problems:
            return problems + rule_problems
    return problems + _change_problems(series)


def occurrences(
    series: Series, window_start: datetime, window_end: datetime, include_cancelled: bool = False
) -> list[Occurrence]:
    """The occurrences of a valid series that overlap [window_start, window_end) (aware, any zone), sorted by
    start. Each starts at the rule's wall time and lasts as long as the first (see _elapsed): 18:00–19:30
    every week. A moved occurrence is found and judged at its new time; a cancelled one is left out unless
    include_cancelled, and then shown at its original time. Only the rule's starts up to the window are
    produced, so an open-ended series costs what its weeks up to the window cost."""
    zone = ZoneInfo(series.tz)
    changes = {change.original_start: change for change in series.changes}
    # Wall-time bounds widened by a day on each side so that no offset change loses an occurrence; the exact
    # overlap test on aware times follows.
    earliest = window_start.astimezone(zone).replace(tzinfo=None) - _elapsed(series) - timedelta(days=1)
    latest = window_end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    found = []
    for original in _rule(series).between(earliest, latest, inc=True):
        change = changes.get(original)
        if change is not None and _is_moved(change):
            continue
        cancelled = change is not None and change.cancelled
        if cancelled and not include_cancelled:
            continue
        start = local_to_aware(original, series.tz)
        end = _end_of(series, original)
        found.append(Occurrence(series.uid, original, start, end, moved=False, cancelled=cancelled))
    for change in series.changes:
        if change.cancelled or change.start is None or change.end is None:
            continue
        start = local_to_aware(change.start, series.tz)
        end = local_to_aware(change.end, series.tz)
        found.append(Occurrence(series.uid, change.original_start, start, end, moved=True, cancelled=False))
    in_window = [o for o in found if o.start < window_end and o.end > window_start]
    return sorted(in_window, key=lambda o: (o.start, o.original_start))


def _last_day(series: Series) -> date | None:
    """The last local day the rule may hold an occurrence on, or None when it never ends."""
    recurrence = series.recurrence
    if recurrence is None:
        return series.start.date()
    if recurrence.count is not None:
        return list(_rule(series))[-1].date()
    return recurrence.until


def with_until(series: Series, last_local_day: date) -> Series:
    """The series ended on a local day (inclusive), for "this and following" cancellations: the rule ends on
    that day or earlier if it already did (a count becomes the matching until day) and the changes to
    occurrences after it go. A series cannot end before its first start: delete it instead."""
    if last_local_day < series.start.date():
        raise ValueError(f"{series.uid} would end on {last_local_day}, before its first start")
    changes = tuple(c for c in series.changes if c.original_start.date() <= last_local_day)
    if series.recurrence is None:
        return replace(series, changes=changes)
    last = _last_day(series)
    until = last_local_day if last is None else min(last, last_local_day)
    return replace(series, recurrence=replace(series.recurrence, count=None, until=until), changes=changes)


def split(series: Series, at_original_start: datetime, new_uid: str) -> tuple[Series, Series]:
    """A "this and following" edit: the series up to the day before an occurrence, and a new series under
    `new_uid` from that occurrence on with the same rule, the count less the occurrences already held, the
    same until day, and the changes that fall in it. Their occurrences together are the original's. The
    occurrence must be one of the rule's, and not the first (edit the whole series then)."""
    rule = _rule(series)
    if series.recurrence is None or at_original_start == series.start or at_original_start not in rule:
        raise ValueError(f"{at_original_start} is not a later occurrence of {series.uid}")
    before = with_until(series, at_original_start.date() - timedelta(days=1))
    held = sum(1 for _ in itertools.takewhile(lambda start: start < at_original_start, rule))
    count = series.recurrence.count
    after = Series(
        uid=new_uid,
        start=at_original_start,
        end=_end_of(series, at_original_start).replace(tzinfo=None),
        tz=series.tz,
        recurrence=replace(series.recurrence, count=None if count is None else count - held),
        changes=tuple(c for c in series.changes if c.original_start >= at_original_start),
    )
    return before, after
