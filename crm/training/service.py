"""Peer-training rules and persistence: programmes, enrolment with a waiting list, session series and their
moved or cancelled occurrences, and calendar-feed tokens. No HTTP here; pages, the API and feeds call these."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, and_, case, delete, exists, false, func, or_, select, update
from sqlalchemy.orm import Session

from crm.accounts.models import User, UserRole
from crm.accounts.roles import Role
from crm.assessments.models import Framework, FrameworkDomain
from crm.db.base import utcnow
from crm.db.engine import serialise
from crm.organisations import permissions as organisation_permissions
from crm.organisations.models import Organisation
from crm.organisations.service import StaleVersion
from crm.training import permissions, recurrence
from crm.training.models import (
    Enrolment,
    EnrolmentStatus,
    FeedScope,
    FeedToken,
    OccurrenceChange,
    Participant,
    Programme,
    ProgrammeDomain,
    ProgrammeStatus,
    ProgrammeTrainer,
    SessionSeries,
)
from crm.web.i18n import N_
from crm.web.i18n import gettext as _
from crm.web.pagination import Page


class TrainingError(Exception):
    """Input the rules refuse; `errors` maps each field to what is wrong, for the form and the API."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# Programmes ---------------------------------------------------------------------------------------------


def get_programme(session: Session, programme_id: int) -> Programme | None:
    return session.get(Programme, programme_id)


def trainer_ids(session: Session, programme_id: int) -> set[int]:
    return set(
        session.scalars(select(ProgrammeTrainer.user_id).where(ProgrammeTrainer.programme_id == programme_id))
    )


def domain_codes(session: Session, programme_id: int) -> list[str]:
    return list(
        session.scalars(
            select(ProgrammeDomain.domain_code)
            .where(ProgrammeDomain.programme_id == programme_id)
            .order_by(ProgrammeDomain.domain_code)
        )
    )


def set_trainers(session: Session, programme: Programme, user_ids: Iterable[int]) -> None:
    session.execute(delete(ProgrammeTrainer).where(ProgrammeTrainer.programme_id == programme.id))
    session.add_all(ProgrammeTrainer(programme_id=programme.id, user_id=u) for u in sorted(set(user_ids)))
    session.flush()


def set_domains(session: Session, programme: Programme, codes: Iterable[str]) -> None:
    session.execute(delete(ProgrammeDomain).where(ProgrammeDomain.programme_id == programme.id))
    session.add_all(ProgrammeDomain(programme_id=programme.id, domain_code=c) for c in sorted(set(codes)))
    session.flush()


def create_programme(
    session: Session,
    *,
    title: str,
    description: str,
    lead_organisation_id: int | None,
    places: int | None,
    domains: Iterable[str],
    trainers: Iterable[int],
    created_by: User | None,
    status: str = "planned",
) -> Programme:
    programme = Programme(
        title=title,
        description=description,
        lead_organisation_id=lead_organisation_id,
        places=places,
        status=status,
        created_by_id=created_by.id if created_by else None,
    )
    session.add(programme)
    session.flush()
    set_domains(session, programme, domains)
    set_trainers(session, programme, trainers)
    return programme


# Enrolment ----------------------------------------------------------------------------------------------


def enrolments_of(session: Session, programme_id: int) -> Sequence[Enrolment]:
    return session.scalars(
        select(Enrolment)
        .where(Enrolment.programme_id == programme_id)
        .order_by(Enrolment.created_at, Enrolment.id)
    ).all()


def enrol(session: Session, programme: Programme, organisation_id: int) -> Enrolment:
    """Enrol an organisation, or put it on the waiting list when the places are taken. Two enrolling at once
    never both take the last place: the count and the insert run one programme at a time."""
    serialise(session, f"training-enrolment-{programme.id}")
    existing = session.scalar(
        select(Enrolment).where(
            Enrolment.programme_id == programme.id, Enrolment.organisation_id == organisation_id
        )
    )
    if existing is not None and existing.status != EnrolmentStatus.WITHDRAWN:
        return existing
    taken = session.scalar(
        select(func.count()).where(
            Enrolment.programme_id == programme.id, Enrolment.status == EnrolmentStatus.ENROLLED.value
        )
    )
    full = programme.places is not None and (taken or 0) >= programme.places
    status = (EnrolmentStatus.WAITING if full else EnrolmentStatus.ENROLLED).value
    if existing is not None:
        existing.status = status
        session.flush()
        return existing
    enrolment = Enrolment(programme_id=programme.id, organisation_id=organisation_id, status=status)
    session.add(enrolment)
    session.flush()
    return enrolment


def withdraw(session: Session, programme: Programme, enrolment: Enrolment) -> Enrolment | None:
    """Withdraw an enrolment; the first organisation waiting takes the freed place (returned)."""
    serialise(session, f"training-enrolment-{programme.id}")
    was_enrolled = enrolment.status == EnrolmentStatus.ENROLLED
    enrolment.status = EnrolmentStatus.WITHDRAWN.value
    session.flush()
    if not was_enrolled:
        return None
    first_waiting = session.scalar(
        select(Enrolment)
        .where(Enrolment.programme_id == programme.id, Enrolment.status == EnrolmentStatus.WAITING.value)
        .order_by(Enrolment.created_at, Enrolment.id)
        .limit(1)
    )
    if first_waiting is not None:
        first_waiting.status = EnrolmentStatus.ENROLLED.value
        session.flush()
    return first_waiting


def add_participant(
    session: Session, enrolment: Enrolment, user: User | None, full_name: str = ""
) -> Participant:
    """Someone the organisation sends: a user of the CRM (the sessions land in their calendar) or a name."""
    participant = Participant(
        enrolment_id=enrolment.id,
        user_id=user.id if user else None,
        full_name=full_name or (user.display_name if user else ""),
    )
    session.add(participant)
    session.flush()
    return participant


# Session series -----------------------------------------------------------------------------------------


def new_uid() -> str:
    """A series' UID: random, so it never collides across servers, and kept for the series' whole life."""
    return f"{uuid.uuid4()}@diaspora-crm"


class StoredSeries(Protocol):
    """What a stored series gives crm.training.recurrence: a SessionSeries, or a row of its columns."""

    uid: str
    start_local: datetime
    end_local: datetime
    tz: str
    weekdays: str
    interval: int
    count: int | None
    until: date | None


def rule_of(series: StoredSeries) -> recurrence.Recurrence | None:
    if not series.weekdays:
        return None
    return recurrence.Recurrence(
        weekdays=tuple(int(d) for d in series.weekdays),
        interval=series.interval,
        count=series.count,
        until=series.until,
    )


def as_series(series: StoredSeries, changes: Iterable[OccurrenceChange] = ()) -> recurrence.Series:
    """The stored series as crm.training.recurrence reads it."""
    return recurrence.Series(
        uid=series.uid,
        start=series.start_local,
        end=series.end_local,
        tz=series.tz,
        recurrence=rule_of(series),
        changes=tuple(
            recurrence.Change(
                original_start=c.original_start,
                cancelled=c.cancelled,
                start=c.start_local,
                end=c.end_local,
                sequence=c.sequence,
                last_modified=c.updated_at,
            )
            for c in sorted(changes, key=lambda c: c.original_start)
        ),
    )


def changes_of(session: Session, series_ids: Iterable[int]) -> dict[int, list[OccurrenceChange]]:
    """Every change of these series, in one query."""
    by_series: dict[int, list[OccurrenceChange]] = defaultdict(list)
    ids = list(series_ids)
    if ids:
        for change in session.scalars(select(OccurrenceChange).where(OccurrenceChange.series_id.in_(ids))):
            by_series[change.series_id].append(change)
    return by_series


@dataclass(frozen=True)
class SeriesInput:
    title: str
    start: datetime  # naive local
    end: datetime  # naive local
    tz: str
    weekdays: tuple[int, ...] = ()
    interval: int = 1
    count: int | None = None
    until: date | None = None
    location: str = ""
    online_url: str = ""

    def rule(self) -> recurrence.Recurrence | None:
        if not self.weekdays:
            return None
        return recurrence.Recurrence(tuple(sorted(set(self.weekdays))), self.interval, self.count, self.until)


def check_series(data: SeriesInput) -> None:
    """Refuse what the recurrence rules refuse, naming the field (TrainingError)."""
    problems = recurrence.validate(
        recurrence.Series(uid="check", start=data.start, end=data.end, tz=data.tz, recurrence=data.rule())
    )
    if problems:
        raise TrainingError({"series": "; ".join(problems)})


def create_series(session: Session, programme: Programme, data: SeriesInput) -> SessionSeries:
    check_series(data)
    rule = data.rule()
    series = SessionSeries(
        programme_id=programme.id,
        uid=new_uid(),
        title=data.title,
        start_local=data.start,
        end_local=data.end,
        tz=data.tz,
        weekdays="".join(str(d) for d in rule.weekdays) if rule else "",
        interval=rule.interval if rule else 1,
        count=rule.count if rule else None,
        until=rule.until if rule else None,
        location=data.location,
        online_url=data.online_url,
        sequence=0,
    )
    session.add(series)
    session.flush()
    return series


def _change_for(session: Session, series: SessionSeries, original_start: datetime) -> OccurrenceChange:
    change = session.scalar(
        select(OccurrenceChange).where(
            OccurrenceChange.series_id == series.id, OccurrenceChange.original_start == original_start
        )
    )
    if change is None:
        change = OccurrenceChange(
            series_id=series.id, original_start=original_start, sequence=series.sequence
        )
        session.add(change)
    return change


def move_occurrence(
    session: Session, series: SessionSeries, original_start: datetime, start: datetime, end: datetime
) -> OccurrenceChange:
    """ "This occurrence only": moved to a new local start and end; its SEQUENCE goes above the series'."""
    if not recurrence.is_occurrence(as_series(series), original_start):
        raise TrainingError({"occurrence": "not an occurrence of this series"})
    if end <= start:
        raise TrainingError({"end": "the end must come after the start"})
    change = _change_for(session, series, original_start)
    change.cancelled = False
    change.start_local, change.end_local = start, end
    change.sequence = max(change.sequence or 0, series.sequence) + 1
    session.flush()
    return change


def cancel_occurrence(session: Session, series: SessionSeries, original_start: datetime) -> OccurrenceChange:
    if not recurrence.is_occurrence(as_series(series), original_start):
        raise TrainingError({"occurrence": "not an occurrence of this series"})
    change = _change_for(session, series, original_start)
    change.cancelled = True
    change.start_local = change.end_local = None
    change.sequence = max(change.sequence or 0, series.sequence) + 1
    session.flush()
    return change


def cancel_series(session: Session, series: SessionSeries) -> None:
    """The whole series is cancelled: kept in feeds as STATUS:CANCELLED with a raised SEQUENCE for a while."""
    series.cancelled_at = utcnow()
    series.sequence += 1
    session.flush()


# Calendar-feed tokens -----------------------------------------------------------------------------------


def feed_secret(secret_key: str, token: FeedToken) -> str:
    """The secret part of a feed's address: `<id>-<HMAC of the row's salt under the server's key>`."""
    mac = hmac.new(secret_key.encode(), f"calendar-feed:{token.id}:{token.salt}".encode(), hashlib.sha256)
    return f"{token.id}-{base64.urlsafe_b64encode(mac.digest()).decode().rstrip('=')}"


def _live_feed_tokens(owner: User, scope: FeedScope, scope_id: int | None) -> ColumnElement[bool]:
    return and_(
        FeedToken.owner_id == owner.id,
        FeedToken.scope == scope.value,
        FeedToken.scope_id.is_(None) if scope_id is None else FeedToken.scope_id == scope_id,
        FeedToken.revoked_at.is_(None),
    )


def current_feed_token(
    session: Session, owner: User, scope: FeedScope, scope_id: int | None
) -> FeedToken | None:
    return session.scalar(
        select(FeedToken)
        .where(_live_feed_tokens(owner, scope, scope_id))
        .order_by(FeedToken.id.desc())
        .limit(1)
    )


def new_feed_token(session: Session, owner: User, scope: FeedScope, scope_id: int | None) -> FeedToken:
    """A new address for this feed of this owner; the previous one stops working."""
    revoke_feed_tokens(session, owner, scope, scope_id)
    token = FeedToken(owner_id=owner.id, scope=scope.value, scope_id=scope_id, salt=secrets.token_hex(32))
    session.add(token)
    session.flush()
    return token


def revoke_feed_tokens(session: Session, owner: User, scope: FeedScope, scope_id: int | None) -> None:
    session.execute(
        update(FeedToken).where(_live_feed_tokens(owner, scope, scope_id)).values(revoked_at=utcnow())
    )
    session.flush()


def feed_token(session: Session, secret_key: str, secret: str) -> FeedToken | None:
    """The live token this address names, or None (malformed, unknown or revoked: the feed answers 404)."""
    number, _, _mac = secret.partition("-")
    if not number.isdigit() or len(secret) > 100 or int(number) > 2_147_483_647:
        return None
    token = session.get(FeedToken, int(number))
    if token is None or token.revoked_at is not None:
        return None
    return token if hmac.compare_digest(feed_secret(secret_key, token), secret) else None


# Calendar feeds -----------------------------------------------------------------------------------------

# A cancelled series stays in feeds this long (STATUS:CANCELLED, SEQUENCE raised) so that subscribed calendars
# learn of it, then is dropped.
CANCELLED_KEPT = timedelta(days=30)


def feed_programmes(owner: User, token: FeedToken) -> ColumnElement[bool]:
    """The programmes a feed holds: those its scope names that its owner may see now (a demoted owner's feed
    loses what they no longer see). An organisation's feed is its officer's or its representatives'."""
    scope = FeedScope(token.scope)
    visible = permissions.visible_programmes(owner)
    if scope == FeedScope.PROGRAMME:
        return and_(visible, Programme.id == token.scope_id)
    if scope == FeedScope.TRAINER:
        return and_(visible, permissions.trains(token.scope_id or 0))
    if scope == FeedScope.ORGANISATION:
        if not (owner.is_staff or owner.represented_organisation_id == token.scope_id):
            return false()
        return and_(visible, permissions.enrolled_organisation(token.scope_id or 0))
    return and_(visible, or_(permissions.trains(owner.id), permissions.participates(owner.id)))


def _feed_series(owner: User, token: FeedToken, now: datetime) -> ColumnElement[bool]:
    return and_(
        SessionSeries.programme_id.in_(select(Programme.id).where(feed_programmes(owner, token))),
        or_(SessionSeries.cancelled_at.is_(None), SessionSeries.cancelled_at > now - CANCELLED_KEPT),
    )


@dataclass(frozen=True)
class FeedVersion:
    etag: str
    last_modified: datetime | None


def feed_version(session: Session, owner: User, token: FeedToken, now: datetime) -> FeedVersion:
    """What a feed's content depends on, in one cheap query: its ETag and Last-Modified (clients poll; most
    polls get a 304). The owner's language is in it: it names the feed."""
    in_feed = _feed_series(owner, token, now)
    count, series_changed, occurrence_changed, programme_changed = session.execute(
        select(
            func.count(SessionSeries.id),
            func.max(SessionSeries.updated_at),
            select(func.max(OccurrenceChange.updated_at))
            .where(OccurrenceChange.series_id.in_(select(SessionSeries.id).where(in_feed)))
            .scalar_subquery(),
            select(func.max(Programme.updated_at)).where(feed_programmes(owner, token)).scalar_subquery(),
        ).where(in_feed)
    ).one()
    moments = [_aware(m) for m in (series_changed, occurrence_changed, programme_changed) if m is not None]
    seen = f"{token.id}:{owner.id}:{owner.language}:{count}:" + ":".join(m.isoformat() for m in moments)
    return FeedVersion(hashlib.sha256(seen.encode()).hexdigest()[:32], max(moments) if moments else None)


def _aware(moment: datetime | str) -> datetime:
    """Aggregates skip the column type on SQLite: a max() of UTC times comes back naive or as text."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def feed_name(session: Session, owner: User, token: FeedToken) -> str:
    """The calendar's name as the owner's calendar app lists it."""
    scope = FeedScope(token.scope)
    if scope == FeedScope.PROGRAMME:
        programme = session.get(Programme, token.scope_id or 0)
        return _("Training: %(title)s") % {"title": programme.title if programme else "—"}
    if scope == FeedScope.TRAINER:
        trainer = session.get(User, token.scope_id or 0)
        return _("Training sessions of %(name)s") % {"name": trainer.display_name if trainer else "—"}
    if scope == FeedScope.ORGANISATION:
        organisation = session.get(Organisation, token.scope_id or 0)
        return _("Training of %(name)s") % {"name": organisation.name if organisation else "—"}
    return _("My training sessions")


@dataclass(frozen=True)
class FeedSeries:
    """A series as a feed writes it, read as columns (no ORM objects: a feed may hold thousands of series)."""

    series: recurrence.Series
    title: str
    place: str
    sequence: int
    created_at: datetime
    updated_at: datetime
    cancelled: bool
    programme_id: int
    programme_title: str
    programme_description: str


def feed_series(session: Session, owner: User, token: FeedToken, now: datetime) -> list[FeedSeries]:
    """The series a feed holds, with their programmes and changes: two queries whatever their number."""
    # Core rows through the connection: no ORM loading for thousands of plain columns.
    rows = (
        session.connection()
        .execute(
            select(
                SessionSeries.id,
                SessionSeries.uid,
                SessionSeries.start_local,
                SessionSeries.end_local,
                SessionSeries.tz,
                SessionSeries.weekdays,
                SessionSeries.interval,
                SessionSeries.count,
                SessionSeries.until,
                SessionSeries.title,
                SessionSeries.location,
                SessionSeries.online_url,
                SessionSeries.sequence,
                SessionSeries.created_at,
                SessionSeries.updated_at,
                SessionSeries.cancelled_at,
                Programme.id.label("programme_id"),
                Programme.title.label("programme_title"),
                Programme.description.label("programme_description"),
            )
            .join(Programme, Programme.id == SessionSeries.programme_id)
            .where(_feed_series(owner, token, now))
            .order_by(SessionSeries.start_local, SessionSeries.id)
        )
        .all()
    )
    changes = changes_of(session, [row.id for row in rows])
    return [
        FeedSeries(
            series=as_series(row, changes.get(row.id, [])),
            title=row.title,
            place=row.location or row.online_url,
            sequence=row.sequence,
            created_at=row.created_at,
            updated_at=row.updated_at,
            cancelled=row.cancelled_at is not None,
            programme_id=row.programme_id,
            programme_title=row.programme_title,
            programme_description=row.programme_description,
        )
        for row in rows
    ]


def feed_of(session: Session, secret_key: str, secret: str) -> tuple[FeedToken, User] | None:
    """The live feed this address names and its owner, or None."""
    token = feed_token(session, secret_key, secret)
    owner = session.get(User, token.owner_id) if token is not None else None
    return (token, owner) if token is not None and owner is not None else None


# Programme pages ----------------------------------------------------------------------------------------
# What the programme pages read and change: the list a user may see, one programme's page in a bounded number
# of queries, the choices its forms offer, and changes checked against the version the editor read.

# The order the list groups programmes in: those one can enrol in first, the closed ones last.
STATUS_ORDER = (
    ProgrammeStatus.OPEN,
    ProgrammeStatus.RUNNING,
    ProgrammeStatus.PLANNED,
    ProgrammeStatus.FINISHED,
    ProgrammeStatus.CANCELLED,
)
# A select of organisations stays readable and light; beyond this, narrow the directory first.
MAX_ORGANISATION_CHOICES = 1000
# How far ahead a programme's page looks for each series' next sessions, and how many it shows.
UPCOMING_WINDOW = timedelta(days=366)
UPCOMING_SHOWN = 3

UNKNOWN_DOMAIN = N_("Choose domains from the capacity framework.")
UNKNOWN_ORGANISATION = N_("Choose an organisation from the list.")
NOT_A_TRAINER = N_("Choose trainers from the list.")
NOT_A_REPRESENTATIVE = N_("Choose one of the organisation's representatives.")
ALREADY_PARTICIPANT = N_("This person is already a participant.")
WITHDRAWN_ENROLMENT = N_("This organisation has withdrawn from the programme.")


@dataclass(frozen=True)
class ProgrammeFilters:
    status: str | None = None
    domain: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.status or self.domain)


@dataclass(frozen=True)
class ProgrammeRow:
    programme: Programme
    domains: list[str]
    enrolled: int
    waiting: int
    # The lead organisation's name where the directory shows it to this user, else None.
    lead_name: str | None


@dataclass(frozen=True)
class Choice:
    value: int
    label: str


def _status_rank() -> ColumnElement[int]:
    return case(
        {s.value: n for n, s in enumerate(STATUS_ORDER)}, value=Programme.status, else_=len(STATUS_ORDER)
    )


def _shown_name(user: User, organisation: Organisation | None) -> str | None:
    if organisation is None or not organisation_permissions.can_view(user, organisation):
        return None
    return organisation.name


def _enrolment_counts(session: Session, programme_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if programme_ids:
        for programme_id, status, number in session.execute(
            select(Enrolment.programme_id, Enrolment.status, func.count())
            .where(Enrolment.programme_id.in_(programme_ids))
            .group_by(Enrolment.programme_id, Enrolment.status)
        ):
            counts[programme_id][status] = number
    return counts


def _domains_of(session: Session, programme_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if programme_ids:
        for programme_id, code in session.execute(
            select(ProgrammeDomain.programme_id, ProgrammeDomain.domain_code)
            .where(ProgrammeDomain.programme_id.in_(programme_ids))
            .order_by(ProgrammeDomain.domain_code)
        ):
            found[programme_id].append(code)
    return found


def programmes_page(
    session: Session, user: User, filters: ProgrammeFilters, page: int, per_page: int
) -> Page[ProgrammeRow]:
    """The programmes this user may see (permissions.visible_programmes), by status then title: four queries
    whatever their number (count, page, domains, enrolment counts)."""
    condition = permissions.visible_programmes(user)
    if filters.status:
        condition = and_(condition, Programme.status == filters.status)
    if filters.domain:
        condition = and_(
            condition,
            exists(
                select(ProgrammeDomain.programme_id).where(
                    ProgrammeDomain.programme_id == Programme.id,
                    ProgrammeDomain.domain_code == filters.domain,
                )
            ),
        )
    total = session.scalar(select(func.count(Programme.id)).where(condition)) or 0
    rows = session.execute(
        select(Programme, Organisation)
        .outerjoin(Organisation, Organisation.id == Programme.lead_organisation_id)
        .where(condition)
        .order_by(_status_rank(), Programme.title, Programme.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    ids = [programme.id for programme, _lead in rows]
    domains = _domains_of(session, ids)
    counts = _enrolment_counts(session, ids)
    items = [
        ProgrammeRow(
            programme,
            domains.get(programme.id, []),
            counts[programme.id].get(EnrolmentStatus.ENROLLED.value, 0) if programme.id in counts else 0,
            counts[programme.id].get(EnrolmentStatus.WAITING.value, 0) if programme.id in counts else 0,
            _shown_name(user, lead),
        )
        for programme, lead in rows
    ]
    return Page(items=items, number=page, per_page=per_page, total=total)


def framework_domains(session: Session) -> list[tuple[str, dict[str, str]]]:
    """The capacity domains of the framework new assessments answer (codes stay the same across versions),
    with their names in every language, in the framework's order: one query."""
    latest = (
        select(Framework.id)
        .order_by(Framework.loaded_at.desc(), Framework.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    return [
        (code, name or {})
        for code, name in session.execute(
            select(FrameworkDomain.code, FrameworkDomain.name)
            .where(FrameworkDomain.framework_id == latest)
            .order_by(FrameworkDomain.position)
        )
    ]


def trainer_choices(session: Session) -> list[Choice]:
    """Who may be picked as a programme's trainer: active users holding the trainer role."""
    rows = session.execute(
        select(User.id, User.full_name, User.email)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.TRAINER.value, User.is_active.is_(True))
        .order_by(User.full_name, User.email)
    )
    return [Choice(id_, User.name_to_show(full_name, email)) for id_, full_name, email in rows]


def organisation_choices(session: Session, user: User, leaving_out: Iterable[int] = ()) -> list[Choice]:
    """The organisations this user may see in the directory (the directory's rule, as SQL), by name."""
    query = (
        select(Organisation.id, Organisation.name)
        .where(organisation_permissions.visible(organisation_permissions.viewer_kind(user)))
        .order_by(Organisation.name_key, Organisation.id)
        .limit(MAX_ORGANISATION_CHOICES)
    )
    left_out = list(leaving_out)
    if left_out:
        query = query.where(Organisation.id.not_in(left_out))
    params = organisation_permissions.viewer_params(user)
    return [Choice(id_, name) for id_, name in session.execute(query, params)]


def visible_organisation(session: Session, user: User, organisation_id: int) -> Organisation | None:
    """The organisation, if the directory shows it to this user (a form may only name those)."""
    organisation = (
        session.get(Organisation, organisation_id) if 0 < organisation_id <= 2_147_483_647 else None
    )
    if organisation is None or not organisation_permissions.can_view(user, organisation):
        return None
    return organisation


@dataclass(frozen=True)
class ProgrammeInput:
    title: str
    description: str
    domains: list[str]
    lead_organisation_id: int | None
    places: int | None
    status: str
    trainers: list[int]


def _check_programme(
    session: Session,
    data: ProgrammeInput,
    kept_domains: Iterable[str] = (),
    kept_trainers: Iterable[int] = (),
) -> None:
    """Refuse codes, organisations and trainers the forms did not offer (TrainingError names the field). What
    the programme already holds stays allowed (a domain of an older framework, a trainer since demoted)."""
    errors: dict[str, str] = {}
    known = {code for code, _name in framework_domains(session)} | set(kept_domains)
    if not set(data.domains) <= known:
        errors["domains"] = UNKNOWN_DOMAIN
    if data.lead_organisation_id is not None and session.get(Organisation, data.lead_organisation_id) is None:
        errors["lead_organisation_id"] = UNKNOWN_ORGANISATION
    allowed = {choice.value for choice in trainer_choices(session)} | set(kept_trainers)
    if not set(data.trainers) <= allowed:
        errors["trainers"] = NOT_A_TRAINER
    if errors:
        raise TrainingError(errors)


def add_programme(session: Session, data: ProgrammeInput, created_by: User) -> Programme:
    _check_programme(session, data, kept_trainers=[created_by.id])
    return create_programme(
        session,
        title=data.title,
        description=data.description,
        lead_organisation_id=data.lead_organisation_id,
        places=data.places,
        domains=data.domains,
        trainers=data.trainers,
        created_by=created_by,
        status=data.status,
    )


def update_programme(session: Session, programme: Programme, data: ProgrammeInput, version: int) -> None:
    """Change a programme; StaleVersion if someone changed it since the form was shown. Its domains and
    trainers count as the programme's own: changing only them still raises its version."""
    if version != programme.version:
        raise StaleVersion()
    _check_programme(
        session,
        data,
        kept_domains=domain_codes(session, programme.id),
        kept_trainers=trainer_ids(session, programme.id),
    )
    programme.title = data.title
    programme.description = data.description
    programme.lead_organisation_id = data.lead_organisation_id
    programme.places = data.places
    programme.status = data.status
    programme.updated_at = utcnow()
    session.flush()
    set_domains(session, programme, data.domains)
    set_trainers(session, programme, data.trainers)


@dataclass(frozen=True)
class EnrolmentView:
    enrolment: Enrolment
    # The organisation's name where the directory shows it to this user, else None.
    name: str | None
    # None when this user may not see who the organisation sends.
    participants: list[Participant] | None
    # Whom the organisation may still send, for those who may add a participant.
    representatives: list[Choice]


@dataclass(frozen=True)
class UpcomingSeries:
    series: SessionSeries
    next_sessions: list[recurrence.Occurrence]


@dataclass(frozen=True)
class ProgrammeDetail:
    programme: Programme
    trainer_ids: set[int]
    trainers: list[str]
    domains: list[str]
    lead_name: str | None
    enrolments: list[EnrolmentView]
    series: list[UpcomingSeries]

    @property
    def enrolled(self) -> int:
        return sum(1 for e in self.enrolments if e.enrolment.status == EnrolmentStatus.ENROLLED)

    @property
    def waiting(self) -> int:
        return sum(1 for e in self.enrolments if e.enrolment.status == EnrolmentStatus.WAITING)

    def enrolment_of(self, organisation_id: int | None) -> Enrolment | None:
        return next(
            (e.enrolment for e in self.enrolments if e.enrolment.organisation_id == organisation_id), None
        )


def upcoming(
    series: SessionSeries, changes: Iterable[OccurrenceChange], now: datetime
) -> list[recurrence.Occurrence]:
    """The next sessions of a series from now (pure): none once the series is cancelled."""
    if series.cancelled_at is not None:
        return []
    found = recurrence.occurrences(as_series(series, changes), now, now + UPCOMING_WINDOW)
    return found[:UPCOMING_SHOWN]


def _representatives_of(session: Session, organisation_ids: Sequence[int]) -> dict[int, list[Choice]]:
    found: dict[int, list[Choice]] = defaultdict(list)
    if organisation_ids:
        for id_, full_name, email, organisation_id in session.execute(
            select(User.id, User.full_name, User.email, User.organisation_id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                User.organisation_id.in_(organisation_ids),
                UserRole.role == Role.ORG_REPRESENTATIVE.value,
                User.is_active.is_(True),
            )
            .order_by(User.full_name, User.email)
        ):
            found[organisation_id].append(Choice(id_, User.name_to_show(full_name, email)))
    return found


def programme_detail(session: Session, user: User, programme: Programme, now: datetime) -> ProgrammeDetail:
    """Everything a programme's page shows, as this user may see it: eight queries whatever the number of
    trainers, enrolments, participants and series."""
    trainers = session.execute(
        select(User.id, User.full_name, User.email)
        .join(ProgrammeTrainer, ProgrammeTrainer.user_id == User.id)
        .where(ProgrammeTrainer.programme_id == programme.id)
        .order_by(User.full_name, User.email)
    ).all()
    ids = {id_ for id_, _name, _email in trainers}
    lead = (
        session.get(Organisation, programme.lead_organisation_id)
        if programme.lead_organisation_id is not None
        else None
    )
    rows = session.execute(
        select(Enrolment, Organisation)
        .join(Organisation, Organisation.id == Enrolment.organisation_id)
        .where(Enrolment.programme_id == programme.id, Enrolment.status != EnrolmentStatus.WITHDRAWN.value)
        .order_by(Enrolment.created_at, Enrolment.id)
    ).all()
    seen = [e for e, _o in rows if permissions.sees_participants_of(user, e.organisation_id, ids)]
    participants: dict[int, list[Participant]] = defaultdict(list)
    if seen:
        for participant in session.scalars(
            select(Participant)
            .where(Participant.enrolment_id.in_([e.id for e in seen]))
            .order_by(Participant.full_name, Participant.id)
        ):
            participants[participant.enrolment_id].append(participant)
    representatives = _representatives_of(session, [e.organisation_id for e in seen])
    views = []
    for enrolment, organisation in rows:
        shown = enrolment in seen
        sent = {p.user_id for p in participants[enrolment.id]}
        views.append(
            EnrolmentView(
                enrolment,
                _shown_name(user, organisation),
                participants[enrolment.id] if shown else None,
                [c for c in representatives.get(enrolment.organisation_id, []) if c.value not in sent]
                if shown
                else [],
            )
        )
    all_series = session.scalars(
        select(SessionSeries)
        .where(SessionSeries.programme_id == programme.id)
        .order_by(SessionSeries.start_local, SessionSeries.id)
    ).all()
    changes = changes_of(session, [s.id for s in all_series])
    return ProgrammeDetail(
        programme=programme,
        trainer_ids=ids,
        trainers=[User.name_to_show(full_name, email) for _id, full_name, email in trainers],
        domains=domain_codes(session, programme.id),
        lead_name=_shown_name(user, lead),
        enrolments=views,
        series=[UpcomingSeries(s, upcoming(s, changes.get(s.id, []), now)) for s in all_series],
    )


def get_enrolment(session: Session, enrolment_id: int) -> Enrolment | None:
    return session.get(Enrolment, enrolment_id)


def enrolment_name(session: Session, user: User, enrolment: Enrolment) -> str | None:
    """The enrolled organisation's name where the directory shows it to this user."""
    return _shown_name(user, session.get(Organisation, enrolment.organisation_id))


def add_participant_to(
    session: Session, enrolment: Enrolment, user_id: int | None, full_name: str | None
) -> Participant:
    """A participant the form names: one of the organisation's representatives, or a name only."""
    if enrolment.status == EnrolmentStatus.WITHDRAWN:
        raise TrainingError({"__all__": WITHDRAWN_ENROLMENT})
    person = None
    if user_id is not None:
        allowed = {
            c.value
            for c in _representatives_of(session, [enrolment.organisation_id])[enrolment.organisation_id]
        }
        person = session.get(User, user_id) if user_id in allowed else None
        if person is None:
            raise TrainingError({"user_id": NOT_A_REPRESENTATIVE})
        taken = session.scalar(
            select(Participant.id).where(
                Participant.enrolment_id == enrolment.id, Participant.user_id == user_id
            )
        )
        if taken is not None:
            raise TrainingError({"user_id": ALREADY_PARTICIPANT})
    return add_participant(session, enrolment, person, full_name or "")


def visible_organisation_name(session: Session, user: User, organisation_id: int) -> str | None:
    """An organisation's name where the directory shows it to this user, else None."""
    organisation = visible_organisation(session, user, organisation_id)
    return organisation.name if organisation is not None else None
