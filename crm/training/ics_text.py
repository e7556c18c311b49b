"""The VEVENTs of a calendar written as RFC 5545 text: a feed holds thousands of them, and building each as an
icalendar component costs about 0.4 ms, so they are written line by line here (the calendar's own properties
and its VTIMEZONEs stay icalendar's, crm.training.ics). What each event says, and why, is crm.training.ics's
docstring: times local with their zone's TZID, UNTIL in UTC, EXDATE and RECURRENCE-ID in the series' zone,
an override's SEQUENCE above its series'. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from crm.training.recurrence import Recurrence, local_to_aware

if TYPE_CHECKING:
    from crm.training.ics import FeedEvent

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# RFC 5545 3.1: lines of at most 75 octets, continued on lines that begin with one space.
_LINE_OCTETS = 75


def text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, line breaks as \\n."""
    escaped = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return escaped.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def uri(value: str) -> str:
    """A URI value is written as it is; a line break, which no URI holds, is dropped."""
    return value.replace("\r", "").replace("\n", "")


def utc(moment: datetime) -> str:
    return wall(moment.astimezone(UTC)) + "Z"


def wall(moment: datetime) -> str:
    """A naive wall time as it is (never normalised: a RECURRENCE-ID or an EXDATE names the very wall time
    the rule gives), to follow a TZID parameter. (An f-string: strftime took a fifth of a large feed.)"""
    m = moment
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}"


def fold(line: str) -> str:
    """One content line folded at 75 octets, never inside a UTF-8 character."""
    if len(line) <= _LINE_OCTETS and line.isascii():
        return line
    data = line.encode()
    if len(data) <= _LINE_OCTETS:
        return line
    parts, start, limit = [], 0, _LINE_OCTETS
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:
            end -= 1
        parts.append(data[start:end].decode())
        start, limit = end, _LINE_OCTETS - 1
    return "\r\n ".join(parts)


def content(lines: Iterable[str]) -> bytes:
    """Content lines, folded, each ended by CRLF."""
    return "".join(fold(line) + "\r\n" for line in lines).encode()


def rrule(recurrence: Recurrence, start: datetime, tz: str) -> str:
    """FREQ=WEEKLY;INTERVAL;BYDAY;WKST=MO and COUNT or UNTIL. WKST decides which weeks an interval skips (a
    reader without it may take another first weekday); with a TZID on DTSTART, RFC 5545 wants UNTIL in UTC:
    the until day's session start, so that day is held and nothing after it."""
    parts = ["FREQ=WEEKLY"]  # first, and the end next, in the order icalendar writes them
    if recurrence.count is not None:
        parts.append(f"COUNT={recurrence.count}")
    if recurrence.until is not None:
        last_start = datetime.combine(recurrence.until, start.time())
        parts.append("UNTIL=" + utc(local_to_aware(last_start, tz)))
    parts += [
        f"INTERVAL={recurrence.interval}",
        "BYDAY=" + ",".join(DAY_CODES[day] for day in recurrence.weekdays),
        "WKST=MO",
    ]
    return ";".join(parts)


def vevent_lines(event: FeedEvent, stamp: str) -> list[str]:
    """The series' VEVENT, then one override per moved occurrence (same UID, RECURRENCE-ID, no RRULE). An
    override's SEQUENCE is above the series' one: Google drops overrides that rank below their series."""
    series = event.series
    tz = f"TZID={series.tz}"
    lines = _event(event, stamp, series.start, series.end, event.sequence, event.last_modified)
    if series.recurrence is not None:
        lines.insert(-1, "RRULE:" + rrule(series.recurrence, series.start, series.tz))
    cancelled = sorted(change.original_start for change in series.changes if change.cancelled)
    if cancelled:
        lines.insert(-1, f"EXDATE;{tz}:" + ",".join(wall(start) for start in cancelled))
    for change in series.changes:
        if change.cancelled or change.start is None or change.end is None:
            continue
        sequence = max(event.sequence + 1, change.sequence)
        override = _event(
            event, stamp, change.start, change.end, sequence, change.last_modified or event.last_modified
        )
        override.insert(-1, f"RECURRENCE-ID;{tz}:{wall(change.original_start)}")
        lines += override
    return lines


def _event(
    event: FeedEvent, stamp: str, start: datetime, end: datetime, sequence: int, last_modified: datetime
) -> list[str]:
    tz = f"TZID={event.series.tz}"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{text(event.series.uid)}",
        f"DTSTAMP:{stamp}",
        f"CREATED:{utc(event.created)}",
        f"LAST-MODIFIED:{utc(last_modified)}",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{text(event.summary)}",
        f"DESCRIPTION:{text(event.description)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{text(event.location)}")
    lines += [
        f"URL:{uri(event.url)}",
        f"DTSTART;{tz}:{wall(start)}",
        f"DTEND;{tz}:{wall(end)}",
        "STATUS:" + ("CANCELLED" if event.cancelled else "CONFIRMED"),
        "END:VEVENT",
    ]
    return lines
