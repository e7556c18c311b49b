"""Calendar feeds as calendar apps read them, through the app: parsed by two independent libraries, their
occurrences equal what crm.training.recurrence gives the pages; stable UIDs, raised SEQUENCE, 304 on a
conditional GET, 404 once revoked, and never a session the feed's owner may not see."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import icalendar
import pytest
import recurring_ical_events
from ical.calendar_stream import IcsCalendarStream
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations.models import Organisation
from crm.settings import Settings
from crm.training import recurrence, service
from crm.training.models import FeedScope, Programme, ProgrammeStatus, SessionSeries

WINDOW = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC))


@pytest.fixture
def scheduled(db: Session, trainer: User, make_organisation: Any, make_representative: Any) -> dict[str, Any]:
    """An open programme with a weekly series in Dublin and one in New York spanning both DST changes, one
    occurrence moved and one cancelled, and a participant from an enrolled organisation; and a programme still
    being planned by another organisation, in which the same participant is enrolled."""
    lead = make_organisation("Finance Peers Network")
    member = make_organisation("Sahel Diaspora Network")
    participant = make_representative(member, full_name="Awa Participant")
    programme = service.create_programme(
        db,
        title="Bookkeeping",
        description="Simple, honest accounts.",
        lead_organisation_id=lead.id,
        places=10,
        domains=["finance"],
        trainers=[trainer.id],
        created_by=trainer,
        status=ProgrammeStatus.OPEN.value,
    )
    service.add_participant(db, service.enrol(db, programme, member.id), participant)
    dublin = service.create_series(
        db,
        programme,
        service.SeriesInput(
            "Evening session",
            datetime(2027, 3, 1, 18),
            datetime(2027, 3, 1, 19, 30),
            "Europe/Dublin",
            weekdays=(0, 2),
            count=20,
            location="Dublin community hall",
        ),
    )
    new_york = service.create_series(
        db,
        programme,
        service.SeriesInput(
            "Online clinic",
            datetime(2027, 10, 5, 12),
            datetime(2027, 10, 5, 13),
            "America/New_York",
            weekdays=(1,),
            until=date(2027, 11, 30),
            online_url="https://meet.example.org/clinic",
        ),
    )
    service.move_occurrence(
        db, dublin, datetime(2027, 3, 29, 18), datetime(2027, 3, 30, 19), datetime(2027, 3, 30, 20)
    )
    service.cancel_occurrence(db, new_york, datetime(2027, 11, 2, 12))
    hidden = service.create_programme(
        db,
        title="Board governance (in preparation)",
        description="",
        lead_organisation_id=lead.id,
        places=None,
        domains=["governance"],
        trainers=[trainer.id],
        created_by=trainer,
        status=ProgrammeStatus.PLANNED.value,
    )
    service.add_participant(db, service.enrol(db, hidden, member.id), participant)
    service.create_series(
        db,
        hidden,
        service.SeriesInput(
            "Secret planning", datetime(2027, 3, 2, 10), datetime(2027, 3, 2, 11), "Europe/Dublin"
        ),
    )
    db.commit()
    return {
        "participant": participant,
        "programme": programme,
        "series": [dublin, new_york],
        "member": member,
    }


def feed_url(db: Session, settings: Settings, owner: User, scope: FeedScope, scope_id: int | None) -> str:
    token = service.new_feed_token(db, owner, scope, scope_id)
    db.commit()
    return f"/calendars/{service.feed_secret(settings.secret_key, token)}/sessions.ics"


def expected(db: Session, series: list[SessionSeries]) -> set[tuple[datetime, datetime]]:
    changes = service.changes_of(db, [s.id for s in series])
    return {
        (o.start.astimezone(UTC), o.end.astimezone(UTC))
        for s in series
        for o in recurrence.occurrences(service.as_series(s, changes.get(s.id, [])), *WINDOW)
    }


def by_icalendar(body: bytes) -> set[tuple[datetime, datetime]]:
    calendar = icalendar.Calendar.from_ical(body)
    return {
        (e["DTSTART"].dt.astimezone(UTC), e["DTEND"].dt.astimezone(UTC))
        for e in recurring_ical_events.of(calendar).between(*WINDOW)
    }


def by_ical(body: bytes) -> set[tuple[datetime, datetime]]:
    calendar = IcsCalendarStream.calendar_from_ics(body.decode())
    return {
        (e.start.astimezone(UTC), e.end.astimezone(UTC))
        for e in calendar.timeline_tz(UTC).overlapping(*WINDOW)
    }


def test_a_participants_feed_expands_to_the_sessions_the_pages_show_in_both_parsers(
    db: Session, client: Any, settings: Settings, scheduled: dict[str, Any]
) -> None:
    url = feed_url(db, settings, scheduled["participant"], FeedScope.MINE, None)

    response = client.get(url)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "content-encoding" not in response.headers
    body = response.content
    assert b"\r\n" in body and all(len(line) <= 75 for line in body.split(b"\r\n"))
    want = expected(db, scheduled["series"])
    assert (
        len(want) == 20 + 9 - 1
    )  # Dublin's 20 (one moved, still there); New York's 9 Tuesdays, one cancelled
    assert by_icalendar(body) == want
    assert by_ical(body) == want
    # 18:00 in Dublin before and after the clocks change (28 March 2027): 18:00 UTC, then 17:00 UTC.
    starts = {start for start, _end in want}
    assert datetime(2027, 3, 24, 18, tzinfo=UTC) in starts and datetime(2027, 3, 31, 17, tzinfo=UTC) in starts
    # Never a session of a programme its owner may not see (still being planned by another organisation).
    assert b"Secret planning" not in body


def test_uids_stay_sequence_rises_and_an_unchanged_feed_answers_304(
    db: Session, client: Any, settings: Settings, scheduled: dict[str, Any]
) -> None:
    url = feed_url(db, settings, scheduled["participant"], FeedScope.PROGRAMME, scheduled["programme"].id)
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    since = client.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert (again.status_code, again.content, since.status_code) == (304, b"", 304)

    dublin = db.get(SessionSeries, scheduled["series"][0].id)
    service.cancel_occurrence(db, dublin, datetime(2027, 3, 3, 18))
    db.commit()
    changed = client.get(url, headers={"If-None-Match": first.headers["etag"]})

    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]

    def events(body: bytes) -> dict[tuple[str, Any], int]:
        calendar = icalendar.Calendar.from_ical(body)
        return {
            (str(e["UID"]), e.get("RECURRENCE-ID") and e["RECURRENCE-ID"].dt): int(e.get("SEQUENCE", 0))
            for e in calendar.walk("VEVENT")
        }

    before, after = events(first.content), events(changed.content)
    assert {uid for uid, _ in before} == {uid for uid, _ in after}  # the same series, the same UIDs
    assert len({uid for uid, _ in after}) == 2
    exdates = [
        d.dt
        for e in icalendar.Calendar.from_ical(changed.content).walk("VEVENT")
        if e["UID"] == dublin.uid and not e.get("RECURRENCE-ID")
        for d in (e.get("EXDATE").dts if e.get("EXDATE") else [])
    ]
    assert [d.replace(tzinfo=None) for d in exdates] == [datetime(2027, 3, 3, 18)]


def test_a_revoked_or_replaced_address_answers_404_and_a_demoted_owner_loses_the_sessions(
    db: Session, client: Any, settings: Settings, scheduled: dict[str, Any], trainer: User
) -> None:
    url = feed_url(db, settings, trainer, FeedScope.MINE, None)
    assert b"Secret planning" in client.get(url).content  # the trainer sees the programme being planned

    newer = feed_url(db, settings, trainer, FeedScope.MINE, None)
    assert client.get(url).status_code == 404
    assert client.get(newer).status_code == 200

    trainer.role_rows.clear()
    db.commit()
    assert client.get(newer).status_code == 404


def test_an_organisations_feed_is_for_its_representatives_and_officers_only(
    db: Session,
    client: Any,
    settings: Settings,
    scheduled: dict[str, Any],
    officer: User,
    make_organisation: Any,
    make_representative: Any,
) -> None:
    member: Organisation = scheduled["member"]
    own = feed_url(db, settings, scheduled["participant"], FeedScope.ORGANISATION, member.id)
    staff = feed_url(db, settings, officer, FeedScope.ORGANISATION, member.id)
    outsider = make_representative(make_organisation("Other Association"))
    other = feed_url(db, settings, outsider, FeedScope.ORGANISATION, member.id)

    assert b"Evening session" in client.get(own).content
    assert b"Evening session" in client.get(staff).content
    assert b"BEGIN:VEVENT" not in client.get(other).content
    assert db.get(Programme, scheduled["programme"].id) is not None
