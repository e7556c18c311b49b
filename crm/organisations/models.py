"""Organisations, their contacts, initiatives and activities, and the reference vocabularies."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db.base import Audited, Base, IdMixin, TimestampMixin, VersionedMixin
from crm.web.i18n import N_


class LegalStatus(enum.StrEnum):
    REGISTERED_ASSOCIATION = "registered_association"
    FOUNDATION = "foundation"
    COOPERATIVE = "cooperative"
    INFORMAL_GROUP = "informal_group"
    SOCIAL_ENTERPRISE = "social_enterprise"
    NETWORK = "network"
    OTHER = "other"


LEGAL_STATUS_LABELS = {
    LegalStatus.REGISTERED_ASSOCIATION: N_("Registered association"),
    LegalStatus.FOUNDATION: N_("Foundation"),
    LegalStatus.COOPERATIVE: N_("Cooperative"),
    LegalStatus.INFORMAL_GROUP: N_("Informal group"),
    LegalStatus.SOCIAL_ENTERPRISE: N_("Social enterprise"),
    LegalStatus.NETWORK: N_("Network"),
    LegalStatus.OTHER: N_("Other"),
}


class BudgetBand(enum.StrEnum):
    UNDER_10K = "under_10k"
    FROM_10K_TO_50K = "10k_50k"
    FROM_50K_TO_250K = "50k_250k"
    FROM_250K_TO_1M = "250k_1m"
    OVER_1M = "over_1m"


BUDGET_BAND_LABELS = {
    BudgetBand.UNDER_10K: N_("Under 10,000 €"),
    BudgetBand.FROM_10K_TO_50K: N_("10,000–50,000 €"),
    BudgetBand.FROM_50K_TO_250K: N_("50,000–250,000 €"),
    BudgetBand.FROM_250K_TO_1M: N_("250,000 €–1 M€"),
    BudgetBand.OVER_1M: N_("Over 1 M€"),
}


class Provenance(enum.StrEnum):
    MAPPING_EXERCISE = "mapping_exercise"
    SELF_REGISTRATION = "self_registration"
    PARTNER_IMPORT = "partner_import"
    OFFICER_ENTRY = "officer_entry"


PROVENANCE_LABELS = {
    Provenance.MAPPING_EXERCISE: N_("Mapping exercise"),
    Provenance.SELF_REGISTRATION: N_("Self-registration"),
    Provenance.PARTNER_IMPORT: N_("Import from a partner"),
    Provenance.OFFICER_ENTRY: N_("Entered by an officer"),
}


class ContributionMode(enum.StrEnum):
    FUNDS = "funds"
    SKILLS = "skills"
    NETWORKS = "networks"
    ADVOCACY = "advocacy"


CONTRIBUTION_MODE_LABELS = {
    ContributionMode.FUNDS: N_("Funds"),
    ContributionMode.SKILLS: N_("Skills"),
    ContributionMode.NETWORKS: N_("Networks"),
    ContributionMode.ADVOCACY: N_("Advocacy"),
}


class ConsentStatus(enum.StrEnum):
    GIVEN = "given"
    PENDING = "pending"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


CONSENT_LABELS = {
    ConsentStatus.GIVEN: N_("Consent given"),
    ConsentStatus.PENDING: N_("Consent pending"),
    ConsentStatus.REFUSED: N_("Consent refused"),
    ConsentStatus.WITHDRAWN: N_("Consent withdrawn"),
}


class ActivityKind(enum.StrEnum):
    MEETING = "meeting"
    CALL = "call"
    EMAIL = "email"
    EVENT = "event"
    NOTE = "note"


ACTIVITY_KIND_LABELS = {
    ActivityKind.MEETING: N_("Meeting"),
    ActivityKind.CALL: N_("Call"),
    ActivityKind.EMAIL: N_("Email"),
    ActivityKind.EVENT: N_("Event"),
    ActivityKind.NOTE: N_("Note"),
}


LIVE = "merged_into_id IS NULL"


def _live_index(name: str, *columns: str) -> Index:
    return Index(name, *columns, sqlite_where=text(LIVE), postgresql_where=text(LIVE))


class _Vocabulary:
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_en: Mapped[str] = mapped_column(String(120), nullable=False)
    label_fr: Mapped[str] = mapped_column(String(120), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    def label(self, language: str) -> str:
        return self.label_fr if language == "fr" else self.label_en


class Sector(_Vocabulary, Base):
    __tablename__ = "sectors"


class CapitalKind(_Vocabulary, Base):
    __tablename__ = "capital_kinds"


class Audience(_Vocabulary, Base):
    __tablename__ = "audiences"

    vulnerable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class OrganisationSector(Base):
    __tablename__ = "organisation_sectors"
    __table_args__ = (Index("ix_organisation_sectors_code", "sector_code", "organisation_id"),)

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    sector_code: Mapped[str] = mapped_column(ForeignKey("sectors.code"), primary_key=True)


class OrganisationCapitalKind(Base):
    __tablename__ = "organisation_capital_kinds"
    __table_args__ = (Index("ix_organisation_capital_kinds_code", "capital_kind_code", "organisation_id"),)

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    capital_kind_code: Mapped[str] = mapped_column(ForeignKey("capital_kinds.code"), primary_key=True)


class OrganisationAudience(Base):
    __tablename__ = "organisation_audiences"
    __table_args__ = (Index("ix_organisation_audiences_code", "audience_code", "organisation_id"),)

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    audience_code: Mapped[str] = mapped_column(ForeignKey("audiences.code"), primary_key=True)


class Organisation(IdMixin, TimestampMixin, VersionedMixin, Audited, Base):
    __tablename__ = "organisations"
    __audit_exclude__ = (
        "created_at",
        "updated_at",
        "version",
        "search_text",
        "name_key",
        "serves_vulnerable",
        "capacity_band",
    )
    __table_args__ = (
        # The directory only ever lists live (unmerged) records: partial indexes keep the planner on them.
        # Names sort by name_key (accents and case ignored): the indexes that serve a sort by name hold it.
        _live_index("ix_organisations_residence", "residence_country", "name_key"),
        _live_index("ix_organisations_origin", "origin_country", "name_key"),
        _live_index("ix_organisations_name_key", "name_key"),
        _live_index("ix_organisations_completeness", "completeness"),
        _live_index("ix_organisations_created_at", "created_at"),
        _live_index("ix_organisations_consent", "consent_to_share", "name_key"),
        _live_index("ix_organisations_vulnerable", "serves_vulnerable", "name_key"),
        _live_index("ix_organisations_capacity_band", "capacity_band", "name_key"),
        Index(
            "ix_organisations_merged_into_id",
            "merged_into_id",
            sqlite_where=text("merged_into_id IS NOT NULL"),
            postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_key: Mapped[str] = mapped_column(String(200), nullable=False, default="", server_default="")
    acronym: Mapped[str | None] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(Text)
    origin_country: Mapped[str] = mapped_column(String(2), nullable=False)
    residence_country: Mapped[str] = mapped_column(String(2), nullable=False)
    residence_city: Mapped[str | None] = mapped_column(String(100))
    founded_year: Mapped[int | None] = mapped_column(Integer)
    legal_status: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    languages: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    members_count: Mapped[int | None] = mapped_column(Integer)
    volunteers_count: Mapped[int | None] = mapped_column(Integer)
    staff_count: Mapped[int | None] = mapped_column(Integer)
    budget_band: Mapped[str | None] = mapped_column(String(20))
    skills_offered: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    contribution_to: Mapped[str | None] = mapped_column(Text)
    contribution_modes: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    provenance: Mapped[str] = mapped_column(
        String(30), nullable=False, default=Provenance.OFFICER_ENTRY.value
    )
    provenance_detail: Mapped[str | None] = mapped_column(String(200))
    consent_to_share: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    completeness: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Any of its audiences is flagged vulnerable (derived, like completeness: the directory filters on it).
    serves_vulnerable: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    # Agreed to be recommended to other organisations as a peer trainer in the domains it is strong in.
    peer_trainer_consent: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    # The band of its latest validated assessment (set by crm.assessments.service when a round is validated).
    capacity_band: Mapped[str | None] = mapped_column(String(20))
    # Accent-folded, transliterated name/acronym/city/description: what the full-text indexes read.
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Import key: a hash of the source row, so re-importing the same file creates nothing new.
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))

    sector_rows: Mapped[list[OrganisationSector]] = relationship(
        cascade="all, delete-orphan", lazy="raise", passive_deletes=True
    )
    capital_kind_rows: Mapped[list[OrganisationCapitalKind]] = relationship(
        cascade="all, delete-orphan", lazy="raise", passive_deletes=True
    )
    audience_rows: Mapped[list[OrganisationAudience]] = relationship(
        cascade="all, delete-orphan", lazy="raise", passive_deletes=True
    )
    initiatives: Mapped[list[Initiative]] = relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        lazy="raise",
        passive_deletes=True,
        order_by="Initiative.start_year",
    )

    @property
    def sectors(self) -> list[str]:
        return [row.sector_code for row in self.sector_rows]

    @property
    def capital_kinds(self) -> list[str]:
        return [row.capital_kind_code for row in self.capital_kind_rows]

    @property
    def audiences(self) -> list[str]:
        return [row.audience_code for row in self.audience_rows]


class Initiative(IdMixin, Audited, Base):
    """A diaspora-led initiative: what the organisation does, where, since when."""

    __tablename__ = "initiatives"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    sector_code: Mapped[str | None] = mapped_column(ForeignKey("sectors.code"))
    country: Mapped[str | None] = mapped_column(String(2))
    start_year: Mapped[int | None] = mapped_column(Integer)
    end_year: Mapped[int | None] = mapped_column(Integer)

    organisation: Mapped[Organisation] = relationship(back_populates="initiatives", lazy="raise")


class Contact(IdMixin, TimestampMixin, VersionedMixin, Audited, Base):
    """A person (personal data: only officers, admins and the organisation's own representatives see it)."""

    __tablename__ = "contacts"

    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner_actors.id", ondelete="CASCADE"), index=True
    )
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)
    role_title: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    consent: Mapped[str] = mapped_column(String(20), nullable=False, default=ConsentStatus.PENDING.value)
    consent_date: Mapped[date | None] = mapped_column(Date)


class Activity(IdMixin, TimestampMixin, Audited, Base):
    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_organisation_date", "organisation_id", "occurred_on"),)

    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
