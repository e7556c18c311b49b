"""Frameworks (versioned data: domains, indicators, four level descriptors) and the assessment rounds that
answer them: responses of several respondents, officer reviews, stored scores and the action plan."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db.base import Audited, Base, IdMixin, TimestampMixin, UTCDateTime, VersionedMixin, utcnow
from crm.web.i18n import N_

# A translated text as stored: {"en": "...", "fr": "..."}.
Text18n = dict[str, str]


class Framework(IdMixin, Base):
    """One version of a framework, as loaded from its file; never changed once a round uses it."""

    __tablename__ = "frameworks"
    __table_args__ = (UniqueConstraint("key", "version"),)

    key: Mapped[str] = mapped_column(String(60), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[Text18n] = mapped_column(JSON, nullable=False)
    description: Mapped[Text18n] = mapped_column(JSON, nullable=False, default=dict)
    # The version its indicators map to (same, split, merged, new): progress compares only through it.
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("frameworks.id"))
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    domains: Mapped[list[FrameworkDomain]] = relationship(
        lazy="raise", order_by="FrameworkDomain.position", cascade="all, delete-orphan"
    )


class FrameworkDomain(IdMixin, Base):
    __tablename__ = "framework_domains"
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"), nullable=False)
    code: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[Text18n] = mapped_column(JSON, nullable=False)
    description: Mapped[Text18n] = mapped_column(JSON, nullable=False, default=dict)

    indicators: Mapped[list[FrameworkIndicator]] = relationship(
        lazy="raise", order_by="FrameworkIndicator.position", cascade="all, delete-orphan"
    )


class MappingKind(enum.StrEnum):
    SAME = "same"
    SPLIT = "split"
    MERGED = "merged"
    NEW = "new"


class FrameworkIndicator(IdMixin, Base):
    __tablename__ = "framework_indicators"
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"), nullable=False)
    domain_id: Mapped[int] = mapped_column(
        ForeignKey("framework_domains.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code: Mapped[str] = mapped_column(String(80), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    question: Mapped[Text18n] = mapped_column(JSON, nullable=False)
    guidance: Mapped[Text18n] = mapped_column(JSON, nullable=False, default=dict)
    # Four descriptors, levels 1 to 4 in order.
    levels: Mapped[list[Text18n]] = mapped_column(JSON, nullable=False)
    mapping_kind: Mapped[str | None] = mapped_column(String(10))
    maps_from: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)


class RoundStatus(enum.StrEnum):
    OPEN = "open"  # respondents answer
    SUBMITTED = "submitted"  # waiting for the officer's validation
    VALIDATED = "validated"


ROUND_STATUS_LABELS = {
    RoundStatus.OPEN: N_("Being answered"),
    RoundStatus.SUBMITTED: N_("Waiting for validation"),
    RoundStatus.VALIDATED: N_("Validated"),
}


class AssessmentRound(IdMixin, TimestampMixin, VersionedMixin, Audited, Base):
    """One organisation's assessment against one framework version, answered by one or more respondents."""

    __tablename__ = "assessment_rounds"
    __audit_exclude__ = ("created_at", "updated_at", "version", "latest")
    __table_args__ = (
        Index("ix_assessment_rounds_organisation", "organisation_id", "opened_on"),
        # At most one round in progress per organisation: two representatives starting one at once get the same.
        Index(
            "uq_assessment_rounds_in_progress",
            "organisation_id",
            unique=True,
            sqlite_where=text("status != 'validated'"),
            postgresql_where=text("status != 'validated'"),
        ),
        # The portfolio and the directory read each organisation's latest validated round only.
        Index(
            "ix_assessment_rounds_latest",
            "organisation_id",
            sqlite_where=text("latest"),
            postgresql_where=text("latest"),
        ),
        # The portfolio's largest gains and declines read ten entries from either end of this one instead of
        # sorting every organisation's latest round (migration 0008 has the measurements).
        Index(
            "ix_assessment_rounds_latest_change",
            "change",
            "organisation_id",
            sqlite_where=text("latest"),
            postgresql_where=text("latest"),
        ),
    )

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, default=RoundStatus.OPEN.value, index=True
    )
    opened_on: Mapped[date] = mapped_column(Date, nullable=False)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    validation_note: Mapped[str | None] = mapped_column(Text)
    # Derived when the round is submitted (self) and validated (validated, band, change): crm.assessments.scoring.
    self_score: Mapped[float | None] = mapped_column(Float)
    validated_score: Mapped[float | None] = mapped_column(Float)
    validated_band: Mapped[str | None] = mapped_column(String(20))
    previous_round_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment_rounds.id", ondelete="SET NULL")
    )
    # Change of the overall validated score since previous_round, over the domains that compare (or none).
    change: Mapped[float | None] = mapped_column(Float)
    latest: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    framework: Mapped[Framework] = relationship(lazy="joined", innerjoin=True)


class ResponseStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class AssessmentResponse(IdMixin, TimestampMixin, VersionedMixin, Base):
    """One respondent's answers in a round (the chair's, the treasurer's, ...)."""

    __tablename__ = "assessment_responses"
    __table_args__ = (UniqueConstraint("round_id", "respondent_id"),)

    round_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_rounds.id", ondelete="CASCADE"), nullable=False
    )
    respondent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    respondent_role: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=ResponseStatus.DRAFT.value)
    # The domain step the respondent last saw (1-based), so they resume where they stopped.
    current_step: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Choice(enum.StrEnum):
    LEVEL_1 = "1"
    LEVEL_2 = "2"
    LEVEL_3 = "3"
    LEVEL_4 = "4"
    NOT_APPLICABLE = "na"
    DONT_KNOW = "dk"


class AssessmentAnswer(IdMixin, VersionedMixin, Base):
    """One respondent's answer to one indicator, saved as they go (two tabs conflict on `version`)."""

    __tablename__ = "assessment_answers"
    __table_args__ = (UniqueConstraint("response_id", "indicator_id"),)

    response_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_responses.id", ondelete="CASCADE"), nullable=False
    )
    indicator_id: Mapped[int] = mapped_column(ForeignKey("framework_indicators.id"), nullable=False)
    choice: Mapped[str | None] = mapped_column(String(2))
    evidence: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class IndicatorReview(IdMixin, TimestampMixin, VersionedMixin, Audited, Base):
    """An officer's validated score for one indicator of a round, with the reason it differs. Versioned: an
    officer saves over the review they read, never over one another officer saved since."""

    __tablename__ = "indicator_reviews"
    __table_args__ = (UniqueConstraint("round_id", "indicator_id"),)

    round_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_rounds.id", ondelete="CASCADE"), nullable=False
    )
    indicator_id: Mapped[int] = mapped_column(ForeignKey("framework_indicators.id"), nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class DomainScore(Base):
    """A round's scores in one domain, stored when the round is submitted and validated, so results, the
    portfolio and the directory read figures instead of recomputing every answer."""

    __tablename__ = "assessment_domain_scores"
    __table_args__ = (
        # The portfolio counts bands per domain over each organisation's latest validated round: a covering
        # index over those rows only (the round's organisation and `latest` are copied here for it).
        Index(
            "ix_assessment_domain_scores_latest",
            "domain_code",
            "validated_band",
            "organisation_id",
            sqlite_where=text("latest"),
            postgresql_where=text("latest"),
        ),
        # Peer recommendations read, per domain, the highest latest scores from one end of this index.
        Index(
            "ix_assessment_domain_scores_peers",
            "domain_code",
            "validated_band",
            "validated_score",
            "organisation_id",
            sqlite_where=text("latest"),
            postgresql_where=text("latest"),
        ),
    )

    round_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    domain_id: Mapped[int] = mapped_column(ForeignKey("framework_domains.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    latest: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    domain_code: Mapped[str] = mapped_column(String(60), nullable=False)
    self_score: Mapped[float | None] = mapped_column(Float)
    validated_score: Mapped[float | None] = mapped_column(Float)
    validated_band: Mapped[str | None] = mapped_column(String(20))
    # Highest minus lowest scored answer over its indicators' respondents: disagreement shows here.
    spread: Mapped[float | None] = mapped_column(Float)
    # The previous comparable round's score in this domain, read through the framework mapping when the
    # round was validated (None: nothing to compare with), and the change from it.
    previous_score: Mapped[float | None] = mapped_column(Float)
    change: Mapped[float | None] = mapped_column(Float)


class ActionStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


ACTION_STATUS_LABELS = {
    ActionStatus.PLANNED: N_("Planned"),
    ActionStatus.IN_PROGRESS: N_("In progress"),
    ActionStatus.DONE: N_("Done"),
    ActionStatus.DROPPED: N_("Dropped"),
}


class PlanAction(IdMixin, TimestampMixin, VersionedMixin, Audited, Base):
    """One action of the capacity development plan agreed after a validated round."""

    __tablename__ = "assessment_plan_actions"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_rounds.id", ondelete="CASCADE"), nullable=False, index=True
    )
    domain_id: Mapped[int] = mapped_column(ForeignKey("framework_domains.id"), nullable=False)
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("framework_indicators.id"))
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(120))
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=ActionStatus.PLANNED.value)


def text_in(value: Text18n | None, language: str) -> str:
    """A stored translated text in the reader's language, English when it has none."""
    value = value or {}
    return value.get(language) or value.get("en") or ""
