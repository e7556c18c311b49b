"""Calendar files read back by two independent parsers, icalendar with recurring-ical-events and the strict
`ical`: the sessions they expand are the sessions occurrences() gives, in three zones across both clock
changes, and the file keeps the rules that make Google, Outlook, Apple and Thunderbird agree."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from dateutil.rrule import rrulestr
from ical.calendar_stream import IcsCalendarStream
from ical.timezone import IcsTimezoneInfo

from crm.training.ics import FeedEvent, calendar, single_event, vtimezone
from crm.training.recurrence import Change, Recurrence, Series, occurrences

NOW = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
CREATED = datetime(2025, 12, 1, 8, tzinfo=UTC)
EDITED = datetime(2025, 12, 20, 16, 45, tzinfo=UTC)
WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, 12, tzinfo=UTC))
FEED_URL = "https://crm.example.org/training/feed.ics"

# Tuesdays 18:00–19:30 in Dublin through both clock changes, to an until day; one session moved, one cancelled.
DUBLIN = Series(
    uid="dublin-tuesdays@crm.example.org",
    start=datetime(2026, 1, 6, 18),
    end=datetime(2026, 1, 6, 19, 30),
    tz="Europe/Dublin",
    recurrence=Recurrence(weekdays=(1,), until=date(2026, 12, 15)),
    changes=(
        Change(
            original_start=datetime(2026, 3, 31, 18),
            cancelled=False,
            start=datetime(2026, 4, 2, 17),
            end=datetime(2026, 4, 2, 18, 30),
            sequence=1,
            last_modified=datetime(2026, 3, 1, 10, tzinfo=UTC),
        ),
        Change(original_start=datetime(2026, 10, 27, 18), cancelled=True, sequence=1),
    ),
)
# Mondays and Wednesdays 18:00–19:00 every other week in New York, 44 of them: into November.
NEW_YORK = Series(
    uid="new-york-fortnightly@crm.example.org",
    start=datetime(2026, 2, 2, 18),
    end=datetime(2026, 2, 2, 19),
    tz="America/New_York",
    recurrence=Recurrence(weekdays=(0, 2), interval=2, count=44),
)
# Fridays 09:00–10:00 in Tokyo, which keeps one offset, for ever.
TOKYO = Series(
    uid="tokyo-fridays@crm.example.org",
    start=datetime(2026, 1, 9, 9),
    end=datetime(2026, 1, 9, 10),
    tz="Asia/Tokyo",
    recurrence=Recurrence(weekdays=(4,)),
)
# A Dublin series cancelled whole.
CANCELLED_SERIES = Series(
    uid="dublin-thursdays@crm.example.org",
    start=datetime(2026, 2, 5, 12),
    end=datetime(2026, 2, 5, 13),
    tz="Europe/Dublin",
    recurrence=Recurrence(weekdays=(3,), count=10),
)
# One session in New York.
SINGLE = Series(
    uid="new-york-once@crm.example.org",
    start=datetime(2026, 7, 1, 9),
    end=datetime(2026, 7, 1, 17),
    tz="America/New_York",
    recurrence=None,
)


def feed_event(series: Series, cancelled: bool = False, location: str = "Room 2, Dublin") -> FeedEvent:
    return FeedEvent(
        series=series,
        summary=f"Peer training: {series.uid.split('@')[0]}",
        description="Bring your organisation's plan; we compare notes, then set next steps.",
        location=location,
        url=f"https://crm.example.org/training/sessions/{series.uid}",
        sequence=3,
        last_modified=EDITED,
        created=CREATED,
        cancelled=cancelled,
    )


EVENTS = (
    feed_event(DUBLIN),
    feed_event(NEW_YORK, location="https://meet.example.org/peer-ny"),
    feed_event(TOKYO, location=""),
    feed_event(CANCELLED_SERIES, cancelled=True),
    feed_event(SINGLE),
)


def feed(now: datetime = NOW) -> bytes:
    return calendar("Peer training — Dublin & friends", EVENTS, now, calendar_url=FEED_URL)


Session = tuple[str, datetime, datetime]


def expected_sessions() -> list[Session]:
    """What occurrences() gives for the series that are not cancelled whole, as UTC instants."""
    return sorted(
        (o.uid, o.start.astimezone(UTC), o.end.astimezone(UTC))
        for event in EVENTS
        if not event.cancelled
        for o in occurrences(event.series, *WINDOW)
    )


def sessions_by_recurring_ical_events(ics: bytes) -> list[Session]:
    parsed = icalendar.Calendar.from_ical(ics)
    return sorted(
        (str(e["UID"]), e.start.astimezone(UTC), e.end.astimezone(UTC))
        for e in recurring_ical_events.of(parsed).between(*WINDOW)
        if e.get("STATUS") != "CANCELLED"
    )


def sessions_by_ical(ics: bytes) -> list[Session]:
    parsed = IcsCalendarStream.calendar_from_ics(ics.decode("utf-8"))
    return sorted(
        (str(e.uid), e.dtstart.astimezone(UTC), e.dtend.astimezone(UTC))  # type: ignore[union-attr]
        for e in parsed.timeline_tz(UTC).overlapping(*WINDOW)
        if e.status is None or e.status.value != "CANCELLED"
    )


def unfolded_lines(ics: bytes) -> list[str]:
    return ics.decode("utf-8").replace("\r\n ", "").split("\r\n")


def with_private_zone_names(ics: bytes, zones: tuple[str, ...]) -> bytes:
    """The same file with these zones' TZIDs renamed to names no zone database knows, so that parsers must
    read the VTIMEZONE definitions instead of looking the zones up."""
    text = ics.decode("utf-8").replace("\r\n ", "")
    for tz in zones:
        text = text.replace(tz, "CRM Test " + tz.replace("/", " "))
    return text.encode("utf-8")


def test_the_feed_holds_the_sessions_that_occurrences_gives() -> None:
    expected = expected_sessions()
    # Both clock changes are crossed, in both zones that have them, and the moved session is at its new time.
    assert (
        DUBLIN.uid,
        datetime(2026, 3, 24, 18, tzinfo=UTC),
        datetime(2026, 3, 24, 19, 30, tzinfo=UTC),
    ) in expected
    assert (
        DUBLIN.uid,
        datetime(2026, 4, 2, 16, tzinfo=UTC),
        datetime(2026, 4, 2, 17, 30, tzinfo=UTC),
    ) in expected
    assert (
        NEW_YORK.uid,
        datetime(2026, 11, 9, 23, tzinfo=UTC),
        datetime(2026, 11, 10, 0, tzinfo=UTC),
    ) in expected
    starts = {start for _, start, _ in expected}
    assert datetime(2026, 3, 31, 17, tzinfo=UTC) not in starts  # moved away
    assert datetime(2026, 10, 27, 18, tzinfo=UTC) not in starts  # cancelled
    assert len(expected) == (50 - 1) + 44 + 51 + 1

    assert sessions_by_recurring_ical_events(feed()) == expected
    assert sessions_by_ical(feed()) == expected


# Where the parsers part from RFC 5545, the output follows the RFC and the tests keep clear of the case:
# - Both end a session that spans a clock change at its start's wall time plus the wall-clock duration, where
#   section 3.8.5.3 gives every instance the exact duration DTEND gives the first (as occurrences() does);
#   no session here spans a change.
# - Section 3.6.5 bugs keep some VTIMEZONEs from one parser or the other. `ical` takes an observance's onsets from its RRULE and RDATEs only, so a STANDARD that is its
# DTSTART alone (Tokyo's) never starts. icalendar reads VTIMEZONEs with dateutil, which refuses the UTC UNTIL
# that the RFC requires in them (collective/icalendar#708, dateutil/dateutil#1006).
YEARLY_ZONES = ("Europe/Dublin", "America/New_York")


def test_parsers_reading_only_the_vtimezones_find_the_same_sessions() -> None:
    every_zone = with_private_zone_names(feed(), (*YEARLY_ZONES, "Asia/Tokyo"))
    yearly_zones = with_private_zone_names(feed(), YEARLY_ZONES)
    assert b"Europe/Dublin" not in every_zone and b"Asia/Tokyo" in yearly_zones

    assert sessions_by_recurring_ical_events(every_zone) == expected_sessions()
    assert sessions_by_ical(yearly_zones) == expected_sessions()


def onsets_by_the_rfc(timezone: icalendar.Timezone, last: datetime) -> list[tuple[datetime, timedelta]]:
    """RFC 5545 section 3.6.5 read to the letter, up to a wall time: each observance begins at its DTSTART and
    at its RRULE's instances, read on the clock being left (TZOFFSETFROM), which is also how the UTC UNTIL
    becomes a wall time. Sorted (onset, TZOFFSETTO) pairs."""
    onsets = []
    for observance in timezone.subcomponents:
        start, offset_from, offset_to = observance.DTSTART, observance.TZOFFSETFROM, observance.TZOFFSETTO
        onsets.append((start, offset_to))
        if "RRULE" not in observance:
            continue
        rule = observance["RRULE"]
        text = rule.to_ical().decode()
        if "UNTIL" in rule:
            until = (rule["UNTIL"][0] + offset_from).replace(tzinfo=None)
            text = re.sub(r"UNTIL=\w+", f"UNTIL={until:%Y%m%dT%H%M%S}", text)
        onsets += [(onset, offset_to) for onset in rrulestr(text, dtstart=start).between(start, last)]
    return sorted(onsets)


def offset_at(onsets: list[tuple[datetime, timedelta]], wall: datetime) -> timedelta:
    """The offset of the observance with the last onset before the wall time."""
    return [offset for onset, offset in onsets if onset <= wall][-1]


def days_at_noon(first: date, last: date) -> list[datetime]:
    return [datetime(first.year, 1, 1, 12) + timedelta(days=n) for n in range((last - first).days + 1)]


SPAN = (date(2017, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    "tz",
    [
        *YEARLY_ZONES,
        "Asia/Tokyo",
        # Rules that changed within the span, a change on the half hour, a Friday before the last Sunday.
        "America/Sao_Paulo",
        "Australia/Lord_Howe",
        "Asia/Jerusalem",
    ],
)
def test_each_vtimezone_gives_zoneinfos_offset_every_day(tz: str) -> None:
    text = vtimezone(tz, *SPAN).to_ical()
    onsets = onsets_by_the_rfc(icalendar.Timezone.from_ical(text), datetime(2027, 1, 1))
    zone = ZoneInfo(tz)

    wrong = [
        day for day in days_at_noon(*SPAN) if offset_at(onsets, day) != day.replace(tzinfo=zone).utcoffset()
    ]

    assert wrong == []
    assert b"RDATE" not in text


@pytest.mark.parametrize("tz", [*YEARLY_ZONES, "Australia/Lord_Howe"])
def test_both_parsers_read_the_yearly_vtimezones_as_zoneinfo_does(tz: str) -> None:
    wrapper = icalendar.Calendar()
    wrapper.add("VERSION", "2.0")
    wrapper.add("PRODID", "-//CRM//test//EN")
    wrapper.add_component(vtimezone(tz, *SPAN))
    ics = wrapper.to_ical()
    by_icalendar = icalendar.Calendar.from_ical(ics).timezones[0].to_tz(lookup_tzid=False)
    by_ical = IcsTimezoneInfo.from_timezone(IcsCalendarStream.calendar_from_ics(ics.decode()).timezones[0])
    zone = ZoneInfo(tz)

    for parsed in (by_icalendar, by_ical):
        wrong = [
            day
            for day in days_at_noon(*SPAN)
            if day.replace(tzinfo=parsed).utcoffset() != day.replace(tzinfo=zone).utcoffset()
        ]
        assert wrong == []


def test_every_tzid_has_its_vtimezone_in_the_yearly_form() -> None:
    parsed = icalendar.Calendar.from_ical(feed())
    lines = unfolded_lines(feed())

    assert parsed.get_missing_tzids() == set()
    assert parsed.get_used_tzids() == {"Europe/Dublin", "America/New_York", "Asia/Tokyo"}
    assert sorted(str(tz["TZID"]) for tz in parsed.timezones) == [
        "America/New_York",
        "Asia/Tokyo",
        "Europe/Dublin",
    ]
    assert not any(line.startswith("RDATE") for line in lines)
    for tz in parsed.timezones:
        observances = tz.subcomponents
        if tz["TZID"] == "Asia/Tokyo":
            assert [(o.name, "RRULE" in o) for o in observances] == [("STANDARD", False)]
        else:
            assert sorted(o.name for o in observances) == ["DAYLIGHT", "STANDARD"]
            assert all("RRULE" in o for o in observances)
    # The VTIMEZONEs come before the events that name them.
    assert lines.index("BEGIN:VTIMEZONE") < lines.index("BEGIN:VEVENT")


def test_the_dublin_vtimezone_calls_irish_summer_time_daylight() -> None:
    """tzdata's main format makes IST the standard time and winter GMT a negative saving; clients expect the
    summer to be DAYLIGHT and the offsets to be those the clocks show."""
    text = vtimezone("Europe/Dublin", date(2026, 1, 1), date(2026, 12, 31)).to_ical().decode()

    assert (
        "BEGIN:DAYLIGHT\r\nDTSTART:20250330T010000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nTZNAME:IST\r\n"
        "TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nEND:DAYLIGHT"
    ) in text
    assert (
        "BEGIN:STANDARD\r\nDTSTART:20251026T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nTZNAME:GMT\r\n"
        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\nEND:STANDARD"
    ) in text


def test_new_york_vtimezone_names_the_second_and_first_sundays() -> None:
    text = vtimezone("America/New_York", date(2026, 1, 1), date(2026, 12, 31)).to_ical().decode()

    assert "DTSTART:20250309T020000\r\nRRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\n" in text
    assert "DTSTART:20251102T020000\r\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\n" in text


def test_a_rule_that_stopped_within_the_span_ends_with_until() -> None:
    # São Paulo kept summer time until 2019.
    text = vtimezone("America/Sao_Paulo", date(2017, 1, 1), date(2026, 12, 31)).to_ical().decode()

    assert "RRULE:FREQ=YEARLY;UNTIL=20190217T020000Z;BYDAY=3SU;BYMONTH=2" in text
    assert "RDATE" not in text


def test_a_change_on_the_half_hour_is_found_to_the_minute() -> None:
    # Lord Howe Island moves its clocks by half an hour, at 02:00 local both ways.
    text = vtimezone("Australia/Lord_Howe", date(2026, 1, 1), date(2026, 12, 31)).to_ical().decode()

    assert "DTSTART:20250406T020000\r\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\r\n" in text
    assert "DTSTART:20251005T020000\r\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=10\r\n" in text
    assert "TZOFFSETFROM:+1100\r\nTZOFFSETTO:+1030" in text


def vevents(ics: bytes) -> list[icalendar.Event]:
    return icalendar.Calendar.from_ical(ics).events


def event_lines(ics: bytes, uid: str) -> list[list[str]]:
    """Each VEVENT of a series as its unfolded lines."""
    found, current = [], None
    for line in unfolded_lines(ics):
        if line == "BEGIN:VEVENT":
            current = []
        elif line == "END:VEVENT" and current is not None:
            if f"UID:{uid}" in current:
                found.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return found


def test_a_series_is_one_vevent_with_local_times_and_its_zone() -> None:
    (master, _) = event_lines(feed(), DUBLIN.uid)

    assert "DTSTART;TZID=Europe/Dublin:20260106T180000" in master
    assert "DTEND;TZID=Europe/Dublin:20260106T193000" in master
    assert "RRULE:FREQ=WEEKLY;UNTIL=20261215T180000Z;INTERVAL=1;BYDAY=TU;WKST=MO" in master
    assert "DTSTAMP:20260102T093000Z" in master
    assert "CREATED:20251201T080000Z" in master
    assert "LAST-MODIFIED:20251220T164500Z" in master
    assert "SEQUENCE:3" in master
    assert "STATUS:CONFIRMED" in master
    assert "LOCATION:Room 2\\, Dublin" in master
    assert f"URL:https://crm.example.org/training/sessions/{DUBLIN.uid}" in master
    assert "SUMMARY:Peer training: dublin-tuesdays" in master
    assert any(line.startswith("DESCRIPTION:Bring your organisation's plan") for line in master)


def test_a_count_limited_series_says_count() -> None:
    (master,) = event_lines(feed(), NEW_YORK.uid)

    assert "RRULE:FREQ=WEEKLY;COUNT=44;INTERVAL=2;BYDAY=MO,WE;WKST=MO" in master
    assert "DTSTART;TZID=America/New_York:20260202T180000" in master


def test_until_is_the_last_session_start_in_utc() -> None:
    # UNTIL is the last session's start as a UTC instant: 18:00 Irish summer time is 17:00Z. A bare local
    # time is invalid beside a TZID (dateutil refuses it) and the until day's midnight would drop its session.
    summer = Series(
        DUBLIN.uid, DUBLIN.start, DUBLIN.end, DUBLIN.tz, Recurrence(weekdays=(1,), until=date(2026, 7, 14))
    )

    (master,) = event_lines(single_event(feed_event(summer)), DUBLIN.uid)

    assert "RRULE:FREQ=WEEKLY;UNTIL=20260714T170000Z;INTERVAL=1;BYDAY=TU;WKST=MO" in master
    local_days = [o.start.date() for o in occurrences(summer, *WINDOW)]
    assert local_days[-1] == date(2026, 7, 14)
    assert sessions_by_recurring_ical_events(single_event(feed_event(summer)))[-1][1] == datetime(
        2026, 7, 14, 17, tzinfo=UTC
    )


def test_a_fortnightly_series_skips_the_weeks_monday_starts() -> None:
    """With Sunday and Monday every other week, the week's first day decides which Monday follows a Sunday."""
    series = Series(
        "sundays-mondays@crm.example.org",
        datetime(2026, 1, 4, 10),
        datetime(2026, 1, 4, 11),
        "Europe/Dublin",
        Recurrence(weekdays=(0, 6), interval=2, count=6),
    )
    ics = single_event(feed_event(series))
    expected = sorted(
        (series.uid, o.start.astimezone(UTC), o.end.astimezone(UTC)) for o in occurrences(series, *WINDOW)
    )

    assert [start.date() for _, start, _ in expected] == [
        date(2026, 1, 4),
        date(2026, 1, 12),
        date(2026, 1, 18),
        date(2026, 1, 26),
        date(2026, 2, 1),
        date(2026, 2, 9),
    ]
    assert sessions_by_recurring_ical_events(ics) == expected
    assert sessions_by_ical(ics) == expected


def test_a_cancelled_occurrence_is_an_exdate_in_the_series_zone() -> None:
    (master, _) = event_lines(feed(), DUBLIN.uid)

    assert "EXDATE;TZID=Europe/Dublin:20261027T180000" in master


def test_a_moved_occurrence_is_an_override_of_the_series() -> None:
    (master, override) = event_lines(feed(), DUBLIN.uid)

    assert "RECURRENCE-ID;TZID=Europe/Dublin:20260331T180000" in override
    assert "DTSTART;TZID=Europe/Dublin:20260402T170000" in override
    assert "DTEND;TZID=Europe/Dublin:20260402T183000" in override
    assert "LAST-MODIFIED:20260301T100000Z" in override
    assert not any(line.startswith(("RRULE", "EXDATE")) for line in override)
    assert "SEQUENCE:4" in override and "SEQUENCE:3" in master


def test_an_override_ranks_above_its_series_whatever_the_change_says() -> None:
    moved = Change(datetime(2026, 1, 13, 18), False, datetime(2026, 1, 14, 18), datetime(2026, 1, 14, 19), 9)
    series = Series(DUBLIN.uid, DUBLIN.start, DUBLIN.end, DUBLIN.tz, DUBLIN.recurrence, (moved,))

    (master, override) = event_lines(single_event(feed_event(series)), DUBLIN.uid)

    assert "SEQUENCE:3" in master and "SEQUENCE:9" in override


def test_a_series_cancelled_whole_is_marked_cancelled() -> None:
    (master,) = event_lines(feed(), CANCELLED_SERIES.uid)

    assert "STATUS:CANCELLED" in master
    assert "STATUS:CONFIRMED" not in master


def test_an_empty_location_is_left_out() -> None:
    (master,) = event_lines(feed(), TOKYO.uid)

    assert not any(line.startswith("LOCATION") for line in master)


def test_a_single_session_has_no_rule() -> None:
    (master,) = event_lines(feed(), SINGLE.uid)

    assert not any(line.startswith("RRULE") for line in master)
    assert "DTSTART;TZID=America/New_York:20260701T090000" in master


def test_uids_and_everything_but_the_stamp_stay_the_same_across_builds() -> None:
    first, later = feed(), feed(NOW + timedelta(days=3))

    assert [e["UID"] for e in vevents(first)] == [e["UID"] for e in vevents(later)]
    assert re.sub(rb"DTSTAMP:\w+", b"", first) == re.sub(rb"DTSTAMP:\w+", b"", later)
    assert single_event(EVENTS[0]) == single_event(EVENTS[0])


def test_the_feed_announces_itself_for_subscription() -> None:
    lines = unfolded_lines(feed())

    assert lines[:4] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//CRM//Peer training sessions//EN",
        "CALSCALE:GREGORIAN",
    ]
    for line in (
        "METHOD:PUBLISH",
        "NAME:Peer training — Dublin & friends",
        "X-WR-CALNAME:Peer training — Dublin & friends",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        f"URL:{FEED_URL}",
    ):
        assert line in lines
    parsed = IcsCalendarStream.calendar_from_ics(feed().decode())
    assert (parsed.method, parsed.name, parsed.refresh_interval) == (
        "PUBLISH",
        ["Peer training — Dublin & friends"],
        timedelta(hours=1),
    )


def test_the_refresh_interval_follows_the_argument_and_the_url_is_optional() -> None:
    lines = unfolded_lines(calendar("Peer training", EVENTS, NOW, refresh=timedelta(minutes=30)))

    assert "REFRESH-INTERVAL;VALUE=DURATION:PT30M" in lines and "X-PUBLISHED-TTL:PT30M" in lines
    assert not any(line.startswith("URL:https://crm.example.org/training/feed") for line in lines)


def test_an_add_to_calendar_file_holds_one_series_and_no_subscription_hints() -> None:
    ics = single_event(EVENTS[0])
    lines = unfolded_lines(ics)

    assert "METHOD:PUBLISH" in lines
    assert {str(e["UID"]) for e in vevents(ics)} == {DUBLIN.uid}
    assert not any(
        line.startswith(("NAME", "X-WR-CALNAME", "REFRESH-INTERVAL", "X-PUBLISHED-TTL")) for line in lines
    )
    assert [str(tz["TZID"]) for tz in icalendar.Calendar.from_ical(ics).timezones] == ["Europe/Dublin"]
    expected = [s for s in expected_sessions() if s[0] == DUBLIN.uid]
    assert sessions_by_recurring_ical_events(ics) == expected
    assert sessions_by_ical(ics) == expected


def test_lines_are_crlf_utf8_and_folded_at_75_octets() -> None:
    long_text = "Séance entre pairs — ordre du jour : " + "évaluation, plan d'action; " * 12
    event = FeedEvent(
        DUBLIN, long_text, long_text, long_text, "https://crm.example.org/s/1", 1, EDITED, CREATED
    )

    ics = calendar(long_text, [event], NOW)

    assert ics.endswith(b"\r\n")
    lines = ics.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)
    assert str(icalendar.Calendar.from_ical(ics).events[0]["DESCRIPTION"]) == long_text


def test_texts_with_separators_line_breaks_and_accents_come_back_as_written_in_both_parsers() -> None:
    summary = "Comptabilité, budgets; rapports \\ notes"
    description = "Première ligne, avec virgule;\nseconde ligne — " + "é" * 80 + " fin"
    event = FeedEvent(
        series=SINGLE,
        summary=summary,
        description=description,
        location="Salle 2; Dakar, Sénégal",
        url="https://crm.example.org/training/programmes/7?a=1,2;b",
        sequence=0,
        last_modified=EDITED,
        created=CREATED,
    )
    body = calendar("Formation — équipes", [event], NOW)

    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    parsed = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
    assert (str(parsed["SUMMARY"]), str(parsed["DESCRIPTION"]), str(parsed["LOCATION"])) == (
        summary,
        description,
        "Salle 2; Dakar, Sénégal",
    )
    strict = IcsCalendarStream.calendar_from_ics(body.decode()).events[0]
    assert (strict.summary, strict.description, strict.location) == (
        summary,
        description,
        "Salle 2; Dakar, Sénégal",
    )
