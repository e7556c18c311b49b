"""Scheduling sessions: the form's fields and their rules, the three scopes of an edit ("this occurrence",
"this and following", "the whole series"), cancellations, trainers booked twice, and the occurrences the
calendar views show in the viewer's time zone. Rules are pure where they can be; persistence goes through
the session passed in. No HTTP here."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, BaseModel, Field, model_validator
from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations import permissions as organisation_permissions
from crm.organisations.models import Organisation
from crm.organisations.service import StaleVersion
from crm.training import ics, permissions, recurrence, service
from crm.training.models import (
    Enrolment,
    EnrolmentStatus,
    OccurrenceChange,
    Programme,
    ProgrammeTrainer,
    SessionSeries,
)
from crm.training.service import SeriesInput, TrainingError
from crm.web.forms import OneLine, PlausibleDate, Version, own_message
from crm.web.i18n import N_

# The key an occurrence goes by in addresses: its original local wall time.
OCCURRENCE_KEY = "%Y-%m-%dT%H:%M"
# How far ahead a trainer's other sessions are compared for double bookings.
CLASH_HORIZON = timedelta(days=365)


def occurrence_key(original_start: datetime) -> str:
    return original_start.strftime(OCCURRENCE_KEY)


def parse_occurrence_key(text: str) -> datetime | None:
    """The original local start an address names, or None when it is not "YYYY-MM-DDTHH:MM"."""
    try:
        parsed = datetime.strptime(text, OCCURRENCE_KEY)
    except ValueError:
        return None
    return parsed if occurrence_key(parsed) == text else None


# Time zones -------------------------------------------------------------------------------------------

_LEGACY_PREFIXES = ("Etc/", "SystemV/", "US/", "posix/", "right/", "Canada/", "Brazil/", "Chile/", "Mexico/")


def time_zone_choices(first: str) -> list[str]:
    """IANA zones to choose from, the person's own first: regions and cities, without legacy aliases."""
    zones = sorted(
        zone
        for zone in available_timezones()
        if "/" in zone and not zone.startswith(_LEGACY_PREFIXES) and zone != first
    )
    return [first, *zones] if first else zones


def known_zone(tz: str) -> bool:
    try:
        ZoneInfo(tz)
    except (ValueError, KeyError, OSError):
        return False
    return True


# The form's fields ------------------------------------------------------------------------------------

UNKNOWN_ZONE = own_message(N_("Choose a time zone from the list."))
END_BEFORE_START = own_message(N_("The end must come after the start."))
NO_WEEKDAY = own_message(N_("Choose at least one weekday."))
FIRST_DAY_NOT_IN_WEEKDAYS = own_message(N_("The first date must fall on one of the chosen weekdays."))
BAD_INTERVAL = own_message(N_("Repeat every 1 to 52 weeks."))
BAD_COUNT = own_message(N_("Enter how many times, from 1 to 500."))
UNTIL_BEFORE_START = own_message(N_("The last day must come on or after the first date."))
NO_END_GIVEN = own_message(N_("Say how many times, or the last day."))
NOT_A_LINK = own_message(N_("Enter a full web address, starting with https://."))
INVALID_SCHEDULE = own_message(N_("This schedule is not valid."))
FIRST_OCCURRENCE = own_message(
    N_("This is the first session of the series: change the whole series instead.")
)
NOT_AN_OCCURRENCE = own_message(N_("This series has no session at that time."))
SERIES_CANCELLED = own_message(N_("This series was cancelled: it can no longer be changed."))


def _zone(value: str) -> str:
    if not known_zone(value):
        raise ValueError(UNKNOWN_ZONE)
    return value


def _link(value: str) -> str:
    if value and not value.startswith(("https://", "http://")):
        raise ValueError(NOT_A_LINK)
    return value


Weekday = Annotated[int, Field(ge=0, le=6)]


class SessionIn(BaseModel):
    """A session or a weekly series as the form and the API give it: the first date, its local start and end
    times, its zone, and how it repeats."""

    title: OneLine = Field(min_length=1, max_length=200)
    date: PlausibleDate
    start_time: time
    end_time: time
    tz: Annotated[str, AfterValidator(_zone)] = Field(max_length=64)
    repeat: bool = False
    weekdays: list[Weekday] = Field(default_factory=list, max_length=7)
    interval: int = Field(default=1, ge=1, le=52)
    ends: Literal["count", "until"] = "count"
    count: int | None = Field(default=None, ge=1, le=500)
    until: PlausibleDate | None = None
    location: OneLine = Field(default="", max_length=300)
    online_url: Annotated[str, AfterValidator(_link)] = Field(default="", max_length=500)
    version: Version | None = None
    schedule_anyway: bool = False

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, values: dict[str, object]) -> dict[str, object]:
        """Blank optional fields come as None (crm.web.forms.clean): read them as their defaults."""
        for name in ("location", "online_url"):
            if values.get(name) is None:
                values[name] = ""
        for name in ("repeat", "schedule_anyway", "interval", "ends"):
            if values.get(name) is None:
                values.pop(name, None)
        return values

    def to_input(self) -> SeriesInput:
        """The series this form describes, or TrainingError naming the fields the rules refuse."""
        start = datetime.combine(self.date, self.start_time)
        end = datetime.combine(self.date, self.end_time)
        errors: dict[str, str] = {}
        if end <= start:
            errors["end_time"] = END_BEFORE_START
        weekdays: tuple[int, ...] = ()
        count = until = None
        if self.repeat:
            weekdays = tuple(sorted(set(self.weekdays)))
            if not weekdays:
                errors["weekdays"] = NO_WEEKDAY
            if self.ends == "count":
                count = self.count
                if count is None:
                    errors["count"] = NO_END_GIVEN
            else:
                until = self.until
                if until is None:
                    errors["until"] = NO_END_GIVEN
        if errors:
            raise TrainingError(errors)
        data = SeriesInput(
            title=self.title,
            start=start,
            end=end,
            tz=self.tz,
            weekdays=weekdays,
            interval=self.interval,
            count=count,
            until=until,
            location=self.location,
            online_url=self.online_url,
        )
        problems = recurrence.validate(
            recurrence.Series(uid="form", start=start, end=end, tz=self.tz, recurrence=data.rule())
        )
        if problems:
            raise TrainingError(problem_fields(problems))
        return data


class MoveIn(BaseModel):
    """ "This occurrence": its new day and times, in the session's own zone."""

    date: PlausibleDate
    start_time: time
    end_time: time

    def times(self) -> tuple[datetime, datetime]:
        start = datetime.combine(self.date, self.start_time)
        end = datetime.combine(self.date, self.end_time)
        if end <= start:
            raise TrainingError({"end_time": END_BEFORE_START})
        return start, end


class FollowingIn(BaseModel):
    """ "This and following": new times of day and place from this occurrence on."""

    title: OneLine = Field(min_length=1, max_length=200)
    start_time: time
    end_time: time
    location: OneLine = Field(default="", max_length=300)
    online_url: Annotated[str, AfterValidator(_link)] = Field(default="", max_length=500)
    version: Version | None = None

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, values: dict[str, object]) -> dict[str, object]:
        for name in ("location", "online_url"):
            if values.get(name) is None:
                values[name] = ""
        return values


class ConfirmIn(BaseModel):
    """A cancellation, asked once more before it is done."""

    confirmed: bool = False
    version: Version | None = None

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, values: dict[str, object]) -> dict[str, object]:
        if values.get("confirmed") is None:
            values.pop("confirmed", None)
        return values


def problem_fields(problems: Iterable[str]) -> dict[str, str]:
    """recurrence.validate's problems (developers' words) as the form's fields and messages for people."""
    errors: dict[str, str] = {}
    for problem in problems:
        if "time zone" in problem:
            field, message = "tz", UNKNOWN_ZONE
        elif "end must be after start" in problem:
            field, message = "end_time", END_BEFORE_START
        elif "first start falls on weekday" in problem:
            field, message = "date", FIRST_DAY_NOT_IN_WEEKDAYS
        elif "weekday" in problem:
            field, message = "weekdays", NO_WEEKDAY
        elif "interval" in problem:
            field, message = "interval", BAD_INTERVAL
        elif problem.startswith("count"):
            field, message = "count", BAD_COUNT
        elif "until" in problem:
            field, message = "until", UNTIL_BEFORE_START
        else:
            field, message = "__all__", INVALID_SCHEDULE
        errors.setdefault(field, message)
    return errors


def form_values(series: SessionSeries) -> dict[str, object]:
    """A stored series as the form shows it."""
    return {
        "title": series.title,
        "date": series.start_local.date().isoformat(),
        "start_time": series.start_local.strftime("%H:%M"),
        "end_time": series.end_local.strftime("%H:%M"),
        "tz": series.tz,
        "repeat": bool(series.weekdays),
        "weekdays": [str(d) for d in series.weekdays] or [str(series.start_local.weekday())],
        "interval": series.interval,
        "ends": "until" if series.until is not None else "count",
        "count": series.count,
        "until": series.until.isoformat() if series.until else "",
        "location": series.location,
        "online_url": series.online_url,
        "version": series.version,
    }


# Reading series and occurrences ------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesAccess:
    series: SessionSeries
    programme: Programme
    trainer_ids: set[int]


def series_seen(session: Session, user: User, series_id: int) -> SeriesAccess | None:
    """A series, its programme and trainers, if this person may see the programme."""
    row = session.execute(
        select(SessionSeries, Programme)
        .join(Programme, Programme.id == SessionSeries.programme_id)
        .where(SessionSeries.id == series_id)
    ).first()
    if row is None:
        return None
    series, programme = row
    trainers = service.trainer_ids(session, programme.id)
    if not permissions.can_view(user, programme, trainers):
        return None
    return SeriesAccess(series, programme, trainers)


def programme_seen(session: Session, user: User, programme_id: int) -> tuple[Programme, set[int]] | None:
    programme = session.get(Programme, programme_id)
    if programme is None:
        return None
    trainers = service.trainer_ids(session, programme.id)
    return (programme, trainers) if permissions.can_view(user, programme, trainers) else None


def _duration(series: SessionSeries) -> timedelta:
    start = recurrence.local_to_aware(series.start_local, series.tz).astimezone(UTC)
    return recurrence.local_to_aware(series.end_local, series.tz).astimezone(UTC) - start


def occurrence_of(
    session: Session, series: SessionSeries, original_start: datetime
) -> recurrence.Occurrence | None:
    """One occurrence of a series by its original local start (moved or cancelled as it now is), or None."""
    if not recurrence.is_occurrence(service.as_series(series), original_start):
        return None
    change = next(
        (
            c
            for c in service.changes_of(session, [series.id])[series.id]
            if c.original_start == original_start
        ),
        None,
    )
    if change is not None and not change.cancelled and change.start_local and change.end_local:
        return recurrence.Occurrence(
            series.uid,
            original_start,
            recurrence.local_to_aware(change.start_local, series.tz),
            recurrence.local_to_aware(change.end_local, series.tz),
            moved=True,
            cancelled=False,
        )
    start = recurrence.local_to_aware(original_start, series.tz)
    end = (start.astimezone(UTC) + _duration(series)).astimezone(start.tzinfo)
    return recurrence.Occurrence(
        series.uid, original_start, start, end, moved=False, cancelled=change is not None and change.cancelled
    )


@dataclass(frozen=True)
class ShownOccurrence:
    """An occurrence as a page shows it: `start`/`end` in the viewer's zone, `local_start`/`local_end` in the
    session's own zone (`tz`), shown beside when the two differ."""

    series_id: int
    programme_id: int
    programme_title: str
    title: str
    location: str
    online_url: str
    original_start: datetime
    start: datetime
    end: datetime
    local_start: datetime
    local_end: datetime
    tz: str
    moved: bool
    cancelled: bool

    @property
    def key(self) -> str:
        return occurrence_key(self.original_start)

    @property
    def url(self) -> str:
        return f"/training/sessions/{self.series_id}/occurrences/{self.key}"

    @property
    def zone_differs(self) -> bool:
        return (
            self.start.utcoffset() != self.local_start.utcoffset()
            or self.start.tzinfo != self.local_start.tzinfo
        )


def shown(
    series: SessionSeries, programme: Programme, occurrence: recurrence.Occurrence, viewer_tz: str
) -> ShownOccurrence:
    zone = ZoneInfo(viewer_tz)
    return ShownOccurrence(
        series_id=series.id,
        programme_id=programme.id,
        programme_title=programme.title,
        title=series.title,
        location=series.location,
        online_url=series.online_url,
        original_start=occurrence.original_start,
        start=occurrence.start.astimezone(zone),
        end=occurrence.end.astimezone(zone),
        local_start=occurrence.start,
        local_end=occurrence.end,
        tz=series.tz,
        moved=occurrence.moved,
        cancelled=occurrence.cancelled,
    )


def _takes_part(organisation_id: int) -> ColumnElement[bool]:
    """A programme an organisation leads or is enrolled in."""
    return or_(
        Programme.lead_organisation_id == organisation_id, permissions.enrolled_organisation(organisation_id)
    )


def _live_series_between(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Series not cancelled that may hold an occurrence in [start, end): a cheap filter on local days, a day
    wider on each side than any offset; the exact test runs on the expanded occurrences."""
    first_day = (start.astimezone(UTC) - timedelta(days=2)).replace(tzinfo=None)
    last_day = (end.astimezone(UTC) + timedelta(days=2)).replace(tzinfo=None)
    return and_(
        SessionSeries.cancelled_at.is_(None),
        SessionSeries.start_local < last_day,
        or_(SessionSeries.until.is_(None), SessionSeries.until >= first_day.date()),
    )


def occurrences_between(
    session: Session,
    user: User,
    start: datetime,
    end: datetime,
    programme_id: int | None = None,
    trainer_id: int | None = None,
    organisation_id: int | None = None,
    viewer_tz: str | None = None,
) -> list[ShownOccurrence]:
    """The occurrences in [start, end) (aware) of the programmes this person may see, optionally of one
    programme, one trainer's or one organisation's, in the viewer's zone (their own by default), sorted. Two
    statements whatever the number of series: the series with their programmes, then their changes."""
    conditions = [permissions.visible_programmes(user), _live_series_between(start, end)]
    if programme_id is not None:
        conditions.append(Programme.id == programme_id)
    if trainer_id is not None:
        conditions.append(permissions.trains(trainer_id))
    if organisation_id is not None:
        conditions.append(_takes_part(organisation_id))
    rows = session.execute(
        select(SessionSeries, Programme)
        .join(Programme, Programme.id == SessionSeries.programme_id)
        .where(*conditions)
        .order_by(SessionSeries.start_local, SessionSeries.id)
    ).all()
    changes = service.changes_of(session, [series.id for series, _programme in rows])
    tz = viewer_tz or user.time_zone
    found = [
        shown(series, programme, occurrence, tz)
        for series, programme in rows
        for occurrence in recurrence.occurrences(
            service.as_series(series, changes.get(series.id, [])), start, end
        )
    ]
    return sorted(found, key=lambda o: (o.start, o.title, o.series_id))


@dataclass(frozen=True)
class FilterChoices:
    programmes: list[tuple[int, str]]
    trainers: list[tuple[int, str]]
    organisations: list[tuple[int, str]]


def filter_choices(session: Session, user: User) -> FilterChoices:
    """What the calendar's filters offer: the programmes this person may see, their trainers, and the
    organisations that lead or take part in them."""
    visible = select(Programme.id).where(permissions.visible_programmes(user))
    programmes = session.execute(
        select(Programme.id, Programme.title).where(Programme.id.in_(visible)).order_by(Programme.title)
    ).all()
    trainers = session.execute(
        select(User.id, User.full_name, User.email)
        .where(
            User.id.in_(select(ProgrammeTrainer.user_id).where(ProgrammeTrainer.programme_id.in_(visible)))
        )
        .order_by(User.full_name, User.email)
    ).all()
    organisation_ids = select(Enrolment.organisation_id).where(
        Enrolment.programme_id.in_(visible), Enrolment.status == EnrolmentStatus.ENROLLED.value
    )
    leads = select(Programme.lead_organisation_id).where(Programme.id.in_(visible))
    # Only those the directory shows this person: an organisation that keeps its data private is not named.
    organisations = session.execute(
        select(Organisation.id, Organisation.name)
        .where(
            or_(Organisation.id.in_(organisation_ids), Organisation.id.in_(leads)),
            organisation_permissions.visible(organisation_permissions.viewer_kind(user)),
        )
        .order_by(Organisation.name),
        organisation_permissions.viewer_params(user),
    ).all()
    return FilterChoices(
        programmes=[(row.id, row.title) for row in programmes],
        trainers=[(row.id, User.name_to_show(row.full_name, row.email)) for row in trainers],
        organisations=[(row.id, row.name) for row in organisations],
    )


def my_occurrences(session: Session, user: User, start: datetime, end: datetime) -> list[ShownOccurrence]:
    """The sessions in a person's own calendar: those they train or take part in, that they may see."""
    mine = or_(permissions.trains(user.id), permissions.participates(user.id))
    rows = session.execute(
        select(SessionSeries, Programme)
        .join(Programme, Programme.id == SessionSeries.programme_id)
        .where(permissions.visible_programmes(user), mine, _live_series_between(start, end))
    ).all()
    changes = service.changes_of(session, [series.id for series, _programme in rows])
    found = [
        shown(series, programme, occurrence, user.time_zone)
        for series, programme in rows
        for occurrence in recurrence.occurrences(
            service.as_series(series, changes.get(series.id, [])), start, end
        )
    ]
    return sorted(found, key=lambda o: (o.start, o.title, o.series_id))


# Creating and editing ---------------------------------------------------------------------------------


def create(session: Session, programme: Programme, data: SeriesInput) -> SessionSeries:
    """A new session or series of the programme, under a new UID."""
    return service.create_series(session, programme, data)


def _check_live(series: SessionSeries, version: int | None) -> None:
    if series.cancelled_at is not None:
        raise TrainingError({"__all__": SERIES_CANCELLED})
    if version is not None and version != series.version:
        raise StaleVersion()


def _require_occurrence(series: SessionSeries, original_start: datetime) -> None:
    if not recurrence.is_occurrence(service.as_series(series), original_start):
        raise TrainingError({"__all__": NOT_AN_OCCURRENCE})


def move_this(
    session: Session, series: SessionSeries, original_start: datetime, start: datetime, end: datetime
) -> OccurrenceChange:
    """ "This occurrence": moved to a new local start and end in the series' zone."""
    _check_live(series, None)
    _require_occurrence(series, original_start)
    if end <= start:
        raise TrainingError({"end_time": END_BEFORE_START})
    return service.move_occurrence(session, series, original_start, start, end)


def cancel_this(session: Session, series: SessionSeries, original_start: datetime) -> OccurrenceChange:
    _check_live(series, None)
    _require_occurrence(series, original_start)
    return service.cancel_occurrence(session, series, original_start)


def cancel_whole(session: Session, series: SessionSeries, version: int | None = None) -> None:
    _check_live(series, version)
    service.cancel_series(session, series)


def _rekeyed(changes: Iterable[recurrence.Change], start_time: time) -> tuple[recurrence.Change, ...]:
    """Changes kept under the occurrence of the same day at the new start time: a cancelled Monday stays
    cancelled when Mondays move from 18:00 to 19:00."""
    return tuple(
        replace(c, original_start=datetime.combine(c.original_start.date(), start_time))
        for c in sorted(changes, key=lambda c: c.original_start)
    )


def _store_rule(series: SessionSeries, rule: recurrence.Recurrence | None) -> None:
    series.weekdays = "".join(str(d) for d in rule.weekdays) if rule else ""
    series.interval = rule.interval if rule else 1
    series.count = rule.count if rule else None
    series.until = rule.until if rule else None


def _replace_changes(
    session: Session, series: SessionSeries, old: Iterable[OccurrenceChange], new: Iterable[recurrence.Change]
) -> None:
    session.execute(delete(OccurrenceChange).where(OccurrenceChange.id.in_([c.id for c in old])))
    session.add_all(
        OccurrenceChange(
            series_id=series.id,
            original_start=c.original_start,
            cancelled=c.cancelled,
            start_local=c.start,
            end_local=c.end,
            sequence=c.sequence,
        )
        for c in new
    )


def change_whole(session: Session, series: SessionSeries, data: SeriesInput, version: int | None) -> None:
    """ "The whole series": new times, rule, place. Moved and cancelled occurrences are kept on their day
    when it is still one of the rule's; those it no longer holds are dropped. SEQUENCE goes up."""
    _check_live(series, version)
    service.check_series(data)
    stored = service.changes_of(session, [series.id])[series.id]
    candidate = recurrence.Series(
        uid=series.uid,
        start=data.start,
        end=data.end,
        tz=data.tz,
        recurrence=data.rule(),
        changes=_rekeyed(service.as_series(series, stored).changes, data.start.time()),
    )
    kept = (
        tuple(c for c in candidate.changes if recurrence.is_occurrence(candidate, c.original_start))
        if candidate.recurrence is not None
        else ()
    )
    series.title, series.location, series.online_url = data.title, data.location, data.online_url
    series.start_local, series.end_local, series.tz = data.start, data.end, data.tz
    _store_rule(series, candidate.recurrence)
    series.sequence += 1
    _replace_changes(session, series, stored, kept)
    session.flush()


def change_following(
    session: Session,
    series: SessionSeries,
    original_start: datetime,
    start_time: time,
    end_time: time,
    title: str,
    location: str,
    online_url: str,
    version: int | None = None,
) -> SessionSeries:
    """ "This and following": the series ends the day before this occurrence (SEQUENCE raised) and a new
    series, under a new UID and of the same programme, holds this occurrence and the following ones at the
    new times and place, with the changes that fell among them. Returns the new series."""
    _check_live(series, version)
    _require_occurrence(series, original_start)
    if original_start == series.start_local or series.weekdays == "":
        raise TrainingError({"__all__": FIRST_OCCURRENCE})
    day = original_start.date()
    new_start, new_end = datetime.combine(day, start_time), datetime.combine(day, end_time)
    if new_end <= new_start:
        raise TrainingError({"end_time": END_BEFORE_START})
    stored = service.changes_of(session, [series.id])[series.id]
    before, after = recurrence.split(service.as_series(series, stored), original_start, service.new_uid())
    after = replace(after, start=new_start, end=new_end, changes=_rekeyed(after.changes, start_time))
    problems = recurrence.validate(after)
    if problems:
        raise TrainingError(problem_fields(problems))
    _store_rule(series, before.recurrence)
    series.sequence += 1
    _replace_changes(session, series, [c for c in stored if c.original_start >= original_start], ())
    following = SessionSeries(
        programme_id=series.programme_id,
        uid=after.uid,
        title=title,
        start_local=new_start,
        end_local=new_end,
        tz=series.tz,
        location=location,
        online_url=online_url,
        sequence=0,
    )
    _store_rule(following, after.recurrence)
    session.add(following)
    session.flush()
    _replace_changes(session, following, (), after.changes)
    session.flush()
    return following


# Trainers booked twice --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clash:
    """One of the planned occurrences overlaps one of another series the same trainer runs."""

    trainer: str
    start: datetime  # the planned occurrence, in the viewer's zone
    end: datetime
    other: ShownOccurrence


def clashes(
    session: Session,
    user: User,
    programme_id: int,
    planned: recurrence.Series,
    now: datetime,
    exclude_series_ids: Sequence[int] = (),
    viewer_tz: str | None = None,
) -> list[Clash]:
    """Where the programme's trainers would be in two sessions at once within the next year: the planned
    series against the other series, visible to this person, of the programmes those trainers run."""
    trainer_rows = session.execute(
        select(ProgrammeTrainer.user_id, ProgrammeTrainer.programme_id).where(
            ProgrammeTrainer.user_id.in_(
                select(ProgrammeTrainer.user_id).where(ProgrammeTrainer.programme_id == programme_id)
            )
        )
    ).all()
    if not trainer_rows:
        return []
    trainers_of: dict[int, set[int]] = defaultdict(set)
    for user_id, of_programme in trainer_rows:
        trainers_of[of_programme].add(user_id)
    ours = trainers_of[programme_id]
    end = now + CLASH_HORIZON
    rows = session.execute(
        select(SessionSeries, Programme)
        .join(Programme, Programme.id == SessionSeries.programme_id)
        .where(
            Programme.id.in_(list(trainers_of)),
            permissions.visible_programmes(user),
            _live_series_between(now, end),
            SessionSeries.id.not_in(list(exclude_series_ids) or [0]),
        )
    ).all()
    changes = service.changes_of(session, [series.id for series, _programme in rows])
    tz = viewer_tz or user.time_zone
    others = sorted(
        (
            (shown(series, programme, occurrence, tz), trainers_of[programme.id] & ours)
            for series, programme in rows
            for occurrence in recurrence.occurrences(
                service.as_series(series, changes.get(series.id, [])), now, end
            )
        ),
        key=lambda pair: pair[0].start,
    )
    starts = [other.start for other, _trainers in others]
    names = {
        row.id: User.name_to_show(row.full_name, row.email)
        for row in session.execute(select(User.id, User.full_name, User.email).where(User.id.in_(ours)))
    }
    found = []
    zone = ZoneInfo(tz)
    for occurrence in recurrence.occurrences(planned, now, end):
        # Others that start before this one ends, and end after it starts.
        for other, shared in others[: bisect.bisect_left(starts, occurrence.end)]:
            if other.end > occurrence.start and shared:
                who = ", ".join(sorted(names[i] for i in shared if i in names))
                found.append(
                    Clash(who, occurrence.start.astimezone(zone), occurrence.end.astimezone(zone), other)
                )
    return found


def planned_series(data: SeriesInput, uid: str = "planned") -> recurrence.Series:
    return recurrence.Series(uid=uid, start=data.start, end=data.end, tz=data.tz, recurrence=data.rule())


def today_in(tz: str) -> date:
    return datetime.now(ZoneInfo(tz)).date()


def feed_event(session: Session, series: SessionSeries, programme: Programme, url: str) -> ics.FeedEvent:
    """One series as the "add to calendar" file holds it, worded as the feeds word it."""
    return ics.FeedEvent(
        series=service.as_series(series, service.changes_of(session, [series.id]).get(series.id, [])),
        summary=f"{series.title} · {programme.title}",
        description=programme.description,
        location=series.location or series.online_url,
        url=url,
        sequence=series.sequence,
        last_modified=series.updated_at,
        created=series.created_at,
        cancelled=series.cancelled_at is not None,
    )
