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

from sqlalchemy import ColumnElement, and_, delete, exists, false, func, or_, select, update
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.db.base import utcnow
from crm.db.engine import serialise
from crm.organisations.models import Organisation
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
    ProgrammeTrainer,
    SessionSeries,
)
from crm.web.i18n import gettext as _


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


def rule_of(series: SessionSeries) -> recurrence.Recurrence | None:
    if not series.weekdays:
        return None
    return recurrence.Recurrence(
        weekdays=tuple(int(d) for d in series.weekdays),
        interval=series.interval,
        count=series.count,
        until=series.until,
    )


def as_series(series: SessionSeries, changes: Iterable[OccurrenceChange] = ()) -> recurrence.Series:
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


def _trains(user_id: int) -> ColumnElement[bool]:
    return exists(
        select(ProgrammeTrainer.programme_id).where(
            ProgrammeTrainer.programme_id == Programme.id, ProgrammeTrainer.user_id == user_id
        )
    )


def _participates(user_id: int) -> ColumnElement[bool]:
    return exists(
        select(Participant.id)
        .join(Enrolment, Enrolment.id == Participant.enrolment_id)
        .where(
            Enrolment.programme_id == Programme.id,
            Enrolment.status == EnrolmentStatus.ENROLLED.value,
            Participant.user_id == user_id,
        )
    )


def feed_programmes(owner: User, token: FeedToken) -> ColumnElement[bool]:
    """The programmes a feed holds: those its scope names that its owner may see now (a demoted owner's feed
    loses what they no longer see). An organisation's feed is its officer's or its representatives'."""
    scope = FeedScope(token.scope)
    visible = permissions.visible_programmes(owner)
    if scope == FeedScope.PROGRAMME:
        return and_(visible, Programme.id == token.scope_id)
    if scope == FeedScope.TRAINER:
        return and_(visible, _trains(token.scope_id or 0))
    if scope == FeedScope.ORGANISATION:
        if not (owner.is_staff or owner.represented_organisation_id == token.scope_id):
            return false()
        return and_(visible, permissions.enrolled_organisation(token.scope_id or 0))
    return and_(visible, or_(_trains(owner.id), _participates(owner.id)))


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
    series: SessionSeries
    programme: Programme
    changes: list[OccurrenceChange]


def feed_series(session: Session, owner: User, token: FeedToken, now: datetime) -> list[FeedSeries]:
    """The series a feed holds, with their programmes and changes: two queries whatever their number."""
    rows = session.execute(
        select(SessionSeries, Programme)
        .join(Programme, Programme.id == SessionSeries.programme_id)
        .where(_feed_series(owner, token, now))
        .order_by(SessionSeries.start_local, SessionSeries.id)
    ).all()
    changes = changes_of(session, [series.id for series, _programme in rows])
    return [FeedSeries(series, programme, changes.get(series.id, [])) for series, programme in rows]


def feed_of(session: Session, secret_key: str, secret: str) -> tuple[FeedToken, User] | None:
    """The live feed this address names and its owner, or None."""
    token = feed_token(session, secret_key, secret)
    owner = session.get(User, token.owner_id) if token is not None else None
    return (token, owner) if token is not None and owner is not None else None
