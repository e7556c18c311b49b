"""Peer-training programmes: the programme (domains it targets, its trainers, its places), the organisations
enrolled and their participants, session series (local wall time plus an IANA zone, weekly recurrence, moved and
cancelled occurrences), attendance, feedback, and the secret tokens of calendar feeds.

A series stores its first occurrence as local wall time (`start_local`, naive) with its zone (`tz`), never as
UTC: a session at 18:00 Europe/Dublin stays at 18:00 local across DST changes. crm.training.recurrence turns a
series and its changes into occurrences; crm.training.ics into RFC 5545 calendars."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base, IdMixin, TimestampMixin, UTCDateTime, VersionedMixin, utcnow
from crm.web.i18n import N_


class ProgrammeStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


PROGRAMME_STATUS_LABELS = {
    ProgrammeStatus.PLANNED: N_("Planned"),
    ProgrammeStatus.OPEN: N_("Open for enrolment"),
    ProgrammeStatus.RUNNING: N_("Running"),
    ProgrammeStatus.FINISHED: N_("Finished"),
    ProgrammeStatus.CANCELLED: N_("Cancelled"),
}


class Programme(IdMixin, TimestampMixin, VersionedMixin, Audited, Base):
    """A peer-training programme, run by trainers of a lead organisation for participating organisations."""

    __tablename__ = "training_programmes"

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, default=ProgrammeStatus.PLANNED.value, index=True
    )
    # The peer trainer's organisation (often one mature in the domains taught).
    lead_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    # Organisations that may enrol; those after are put on the waiting list. None: no limit.
    places: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ProgrammeDomain(Base):
    """A capacity domain the programme targets, by its code in the capacity framework (stable across versions)."""

    __tablename__ = "training_programme_domains"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("training_programmes.id", ondelete="CASCADE"), primary_key=True
    )
    domain_code: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)


class ProgrammeTrainer(Base):
    __tablename__ = "training_programme_trainers"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("training_programmes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class EnrolmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    WAITING = "waiting"
    WITHDRAWN = "withdrawn"


ENROLMENT_STATUS_LABELS = {
    EnrolmentStatus.ENROLLED: N_("Enrolled"),
    EnrolmentStatus.WAITING: N_("On the waiting list"),
    EnrolmentStatus.WITHDRAWN: N_("Withdrawn"),
}


class Enrolment(IdMixin, TimestampMixin, VersionedMixin, Audited, Base):
    """An organisation's place in a programme; when the places are taken it waits, first come first served."""

    __tablename__ = "training_enrolments"
    __table_args__ = (UniqueConstraint("programme_id", "organisation_id"),)

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("training_programmes.id", ondelete="CASCADE"), nullable=False
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=EnrolmentStatus.ENROLLED.value)


class Participant(IdMixin, TimestampMixin, Base):
    """A person an enrolled organisation sends: a user of the CRM (their sessions land in their calendar) or a
    name only."""

    __tablename__ = "training_participants"
    __table_args__ = (UniqueConstraint("enrolment_id", "user_id"),)

    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("training_enrolments.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)


class SessionSeries(IdMixin, TimestampMixin, VersionedMixin, Audited, Base):
    """A session, or a weekly series of them, of a programme. `uid` never changes (calendar clients follow a
    series by it); `sequence` goes up on every change that matters to an attendee."""

    __tablename__ = "training_series"
    __table_args__ = (Index("ix_training_series_programme", "programme_id", "start_local"),)

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("training_programmes.id", ondelete="CASCADE"), nullable=False
    )
    uid: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    # Local wall time of the first occurrence and its end, in `tz`.
    start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False), nullable=False)
    end_local: Mapped[datetime] = mapped_column(DateTime(timezone=False), nullable=False)
    tz: Mapped[str] = mapped_column(String(64), nullable=False)
    # Weekly recurrence: weekdays as digits 0 (Monday) to 6, e.g. "02" for Monday and Wednesday; empty for a
    # single session. Every `interval` weeks, `count` times or until the local day `until`.
    weekdays: Mapped[str] = mapped_column(String(7), nullable=False, default="")
    interval: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=1)
    count: Mapped[int | None] = mapped_column(Integer)
    until: Mapped[date | None] = mapped_column(Date)
    location: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    online_url: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class OccurrenceChange(IdMixin, Base):
    """One occurrence of a series moved or cancelled, keyed by its original local start."""

    __tablename__ = "training_occurrence_changes"
    __table_args__ = (UniqueConstraint("series_id", "original_start"),)

    series_id: Mapped[int] = mapped_column(
        ForeignKey("training_series.id", ondelete="CASCADE"), nullable=False
    )
    original_start: Mapped[datetime] = mapped_column(DateTime(timezone=False), nullable=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    start_local: Mapped[datetime | None] = mapped_column(DateTime(timezone=False))
    end_local: Mapped[datetime | None] = mapped_column(DateTime(timezone=False))
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class Attendance(Base):
    """Whether a participant attended one occurrence (by its original local start)."""

    __tablename__ = "training_attendance"

    series_id: Mapped[int] = mapped_column(
        ForeignKey("training_series.id", ondelete="CASCADE"), primary_key=True
    )
    original_start: Mapped[datetime] = mapped_column(DateTime(timezone=False), primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("training_participants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    present: Mapped[bool] = mapped_column(Boolean, nullable=False)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class Feedback(IdMixin, TimestampMixin, Base):
    """A participant's rating (1 to 5) and comment on one occurrence."""

    __tablename__ = "training_feedback"
    __table_args__ = (UniqueConstraint("series_id", "original_start", "user_id"),)

    series_id: Mapped[int] = mapped_column(
        ForeignKey("training_series.id", ondelete="CASCADE"), nullable=False
    )
    original_start: Mapped[datetime] = mapped_column(DateTime(timezone=False), nullable=False)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    rating: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")


class FeedScope(enum.StrEnum):
    PROGRAMME = "programme"
    TRAINER = "trainer"
    ORGANISATION = "organisation"
    MINE = "mine"


class FeedToken(IdMixin, Base):
    """A calendar feed's secret address (calendar apps do not sign in). The secret in the URL is derived from
    the server's secret key and this row's random salt (crm.training.service.feed_secret), so the owner can
    read the address again on the page while the database alone does not give it away. Revoking it, or
    asking for a new one, ends it. A feed holds only the sessions its owner may see when it is read."""

    __tablename__ = "calendar_feed_tokens"
    __table_args__ = (Index("ix_calendar_feed_tokens_owner", "owner_id", "scope", "scope_id"),)

    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    scope: Mapped[str] = mapped_column(String(20), nullable=False)
    scope_id: Mapped[int | None] = mapped_column(Integer)
    salt: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
