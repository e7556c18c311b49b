"""Session series as RFC 5545 calendars: the subscription feed of a programme and the "add to calendar" file
of one series, written so that Google, Outlook, Apple and Thunderbird read the same sessions. Times stay local
with their zone's TZID (never UTC, never floating), each zone gets a VTIMEZONE in the compact yearly form,
a cancelled occurrence is an EXDATE and a moved one an override sharing the series' UID. Pure: the caller
gives the clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, TimezoneDaylight, TimezoneStandard, vDuration

from crm.training import ics_text
from crm.training.recurrence import Series, local_to_aware

_PRODID = "-//CRM//Peer training sessions//EN"


@dataclass(frozen=True)
class FeedEvent:
    """A series as the calendar shows it. `sequence` is the series' SEQUENCE; `cancelled` cancels it whole."""

    series: Series
    summary: str
    description: str
    location: str
    url: str
    sequence: int
    last_modified: datetime
    created: datetime
    cancelled: bool = False


def calendar(
    name: str,
    events: Sequence[FeedEvent],
    now: datetime,
    refresh: timedelta = timedelta(hours=1),
    calendar_url: str | None = None,
) -> bytes:
    """A published calendar feed: named (NAME, and X-WR-CALNAME for older clients), asking to be fetched
    again every `refresh` (REFRESH-INTERVAL, and X-PUBLISHED-TTL for Outlook), stamped `now`."""
    feed = _calendar(events, now)
    feed.calendar_name = name
    feed.add("REFRESH-INTERVAL", vDuration(refresh), parameters={"VALUE": "DURATION"})
    feed.add("X-PUBLISHED-TTL", vDuration(refresh))
    if calendar_url is not None:
        feed.add("URL", calendar_url)
    return _with_events(feed, events, now)


def single_event(event: FeedEvent) -> bytes:
    """One series to add to a calendar. It has no name nor refresh interval, which would make some clients
    subscribe to it or file it in a calendar of its own, and is stamped with the series' last change so that
    the same series gives the same file."""
    return _with_events(_calendar([event], event.last_modified), [event], event.last_modified)


def _calendar(events: Sequence[FeedEvent], now: datetime) -> Calendar:
    """The parts both files share before the events: the calendar's properties and the VTIMEZONE of every
    zone used."""
    result = Calendar()
    result.add("VERSION", "2.0")
    result.add("PRODID", _PRODID)
    result.add("CALSCALE", "GREGORIAN")
    result.add("METHOD", "PUBLISH")
    for tz in sorted({event.series.tz for event in events}):
        in_zone = [event for event in events if event.series.tz == tz]
        first = min(_span_start(event.series) for event in in_zone)
        last = max(_span_end(event.series, now) for event in in_zone)
        result.add_component(vtimezone(tz, first, last))
    return result


def _with_events(feed: Calendar, events: Sequence[FeedEvent], now: datetime) -> bytes:
    """The calendar with each series and its overrides written in, before END:VCALENDAR. The events are
    written as text (crm.training.ics_text): icalendar's components cost ~0.4 ms each, and a feed holds
    thousands of them."""
    head = feed.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    stamp = ics_text.utc(now)
    lines = [line for event in events for line in ics_text.vevent_lines(event, stamp)]
    return head[: -len(end)] + ics_text.content(lines) + end


def _span_start(series: Series) -> date:
    moved = [change.start.date() for change in series.changes if change.start is not None]
    return min([series.start.date(), *moved])


def _span_end(series: Series, now: datetime) -> date:
    """A day after which the series holds no session, or today for one that never ends (its zone's yearly
    rules are left open then). A count is bounded by count × interval weeks: each week it runs holds at
    least one occurrence."""
    recurrence = series.recurrence
    moved = [change.end.date() for change in series.changes if change.end is not None]
    if recurrence is None:
        last = series.end.date()
    elif recurrence.until is not None:
        last = recurrence.until
    elif recurrence.count is not None:
        last = series.start.date() + timedelta(weeks=recurrence.count * recurrence.interval)
    else:
        last = max(series.start.date(), now.date())
    return max([last, *moved])


# VTIMEZONE -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Transition:
    """A change of UTC offset: `onset` is the wall time it happens at on the clock being left (what a
    VTIMEZONE's DTSTART says with TZOFFSETFROM), `instant` the same moment in UTC."""

    instant: datetime
    onset: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool


def vtimezone(tz: str, first: date, last: date) -> Timezone:
    """The zone as a VTIMEZONE that holds from `first` to `last` and, when its rules then still run, after.
    Each run of yearly changes is a STANDARD or DAYLIGHT with RRULE:FREQ=YEARLY;BYMONTH;BYDAY (with UNTIL when
    the run stops within the span), never a list of RDATEs, which Outlook mishandles; a change seen once is
    its DTSTART alone; a zone without changes is one STANDARD. The offsets are zoneinfo's, so parsers reach
    the same instants; only the STANDARD/DAYLIGHT labels are chosen (see _transition)."""
    zone = ZoneInfo(tz)
    # From a year before `first`: the change that sets the clock on `first` happened before it.
    scan_start = local_to_aware(datetime(first.year - 1, 1, 1), tz).astimezone(UTC)
    scan_end = local_to_aware(datetime(last.year + 2, 1, 1), tz).astimezone(UTC)
    transitions = _transitions(zone, scan_start, scan_end)
    result = Timezone()
    result.add("TZID", tz)
    if not transitions or transitions[0].onset.year >= first.year:
        result.add_component(_initial(zone, scan_start))
    for run in _yearly_runs(transitions):
        result.add_component(_observance(run, still_running=run[-1].onset.year == last.year + 1))
    return result


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()


def _first_different(zone: ZoneInfo, since: datetime, step: timedelta) -> datetime:
    """The first instant after `since`, in steps, whose UTC offset differs from the one at `since`."""
    offset = _offset(since, zone)
    moment = since + step
    while _offset(moment, zone) == offset:
        moment += step
    return moment


def _transitions(zone: ZoneInfo, since: datetime, until: datetime) -> list[_Transition]:
    """The zone's offset changes between two UTC instants: found day by day, then pinned to the hour and the
    minute (some zones change on the half hour). Zones change their clocks at most once a day."""
    found = []
    day = since
    while day < until:
        following = day + timedelta(days=1)
        if _offset(day, zone) != _offset(following, zone):
            hour = _first_different(zone, day, timedelta(hours=1))
            found.append(
                _transition(zone, _first_different(zone, hour - timedelta(hours=1), timedelta(minutes=1)))
            )
        day = following
    return found


def _transition(zone: ZoneInfo, instant: datetime) -> _Transition:
    """The change at `instant`. It starts daylight saving time when zoneinfo gives the new time a positive
    DST, or when it ends a negative one: tzdata's main format makes Irish summer time (IST) the standard and
    winter GMT a negative saving, while calendar clients expect the summer to be DAYLIGHT."""
    before = (instant - timedelta(minutes=1)).astimezone(zone)
    after = instant.astimezone(zone)
    offset_from = before.utcoffset() or timedelta()
    return _Transition(
        instant=instant,
        onset=(instant + offset_from).replace(tzinfo=None),
        offset_from=offset_from,
        offset_to=after.utcoffset() or timedelta(),
        name=after.tzname() or "",
        daylight=_saving(after) > timedelta() or _saving(before) < timedelta(),
    )


def _saving(moment: datetime) -> timedelta:
    """What zoneinfo counts as daylight saving at an aware moment; negative for Dublin's winter."""
    return moment.dst() or timedelta()


def _initial(zone: ZoneInfo, scan_start: datetime) -> TimezoneStandard | TimezoneDaylight:
    """The time kept from the start of the span when no change in the year before it set it."""
    local = scan_start.astimezone(zone)
    observance = TimezoneDaylight() if _saving(local) > timedelta() else TimezoneStandard()
    observance.add("DTSTART", local.replace(tzinfo=None))
    observance.add("TZOFFSETFROM", local.utcoffset())
    observance.add("TZOFFSETTO", local.utcoffset())
    observance.add("TZNAME", local.tzname())
    return observance


def _positions(day: date) -> set[tuple[int, int]]:
    """The ways BYDAY can name a day of its month: nth weekday from the start (2SU) and from the end (-1SU)."""
    following_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    days_in_month = (following_month - timedelta(days=1)).day
    from_start = (day.day - 1) // 7 + 1
    from_end = (days_in_month - day.day) // 7 + 1
    return {(from_start, day.weekday()), (-from_end, day.weekday())}


def _shared_positions(run: Sequence[_Transition]) -> set[tuple[int, int]]:
    return set.intersection(*(_positions(transition.onset.date()) for transition in run))


def _kind(transition: _Transition) -> tuple[object, ...]:
    """What a yearly rule keeps from one year to the next: everything but the day."""
    return (
        transition.daylight,
        transition.offset_from,
        transition.offset_to,
        transition.name,
        transition.onset.month,
        transition.onset.time(),
    )


def _yearly_runs(transitions: Sequence[_Transition]) -> list[list[_Transition]]:
    """The transitions grouped into runs one yearly rule describes: the same kind of change in consecutive
    years, on a weekday position that they all share. In order of their first change."""
    runs: list[list[_Transition]] = []
    last_run_of_kind: dict[tuple[object, ...], list[_Transition]] = {}
    for transition in transitions:
        run = last_run_of_kind.get(_kind(transition))
        if (
            run is not None
            and run[-1].onset.year == transition.onset.year - 1
            and _shared_positions([*run, transition])
        ):
            run.append(transition)
            continue
        run = [transition]
        runs.append(run)
        last_run_of_kind[_kind(transition)] = run
    return runs


def _byday(positions: set[tuple[int, int]]) -> str:
    """The position to write when several fit every year of a run: "last" first, the way most zones' rules
    say it, then counted from the start of the month, then from its end."""
    nth, weekday = min(positions, key=lambda position: (position[0] != -1, position[0] < 0, abs(position[0])))
    return f"{nth}{ics_text.DAY_CODES[weekday]}"


def _observance(run: Sequence[_Transition], still_running: bool) -> TimezoneStandard | TimezoneDaylight:
    """A run as one STANDARD or DAYLIGHT. Its yearly RRULE is left open when the run reaches past the span
    (the zone's present rules), and ends with UNTIL, in UTC as RFC 5545 wants it there, when it stopped."""
    first = run[0]
    observance = TimezoneDaylight() if first.daylight else TimezoneStandard()
    observance.add("DTSTART", first.onset)
    observance.add("TZOFFSETFROM", first.offset_from)
    observance.add("TZOFFSETTO", first.offset_to)
    observance.add("TZNAME", first.name)
    if len(run) > 1:
        rule: dict[str, object] = {
            "FREQ": "YEARLY",
            "BYMONTH": first.onset.month,
            "BYDAY": _byday(_shared_positions(run)),
        }
        if not still_running:
            rule["UNTIL"] = run[-1].instant
        observance.add("RRULE", rule)
    return observance
