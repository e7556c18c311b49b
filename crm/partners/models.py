"""Partner actors: the government bodies, companies and other actors that partnerships bring in."""

from __future__ import annotations

import enum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base, IdMixin, TimestampMixin, VersionedMixin
from crm.web.i18n import N_


class PartnerType(enum.StrEnum):
    MINISTRY = "ministry"
    EMBASSY_CONSULATE = "embassy_consulate"
    LOCAL_AUTHORITY = "local_authority"
    PRIVATE_COMPANY = "private_company"
    NGO = "ngo"
    INTERNATIONAL_ORGANISATION = "international_organisation"
    FOUNDATION = "foundation"
    ACADEMIC = "academic"


PARTNER_TYPE_LABELS = {
    PartnerType.MINISTRY: N_("Ministry"),
    PartnerType.EMBASSY_CONSULATE: N_("Embassy or consulate"),
    PartnerType.LOCAL_AUTHORITY: N_("Local authority"),
    PartnerType.PRIVATE_COMPANY: N_("Private company"),
    PartnerType.NGO: N_("NGO"),
    PartnerType.INTERNATIONAL_ORGANISATION: N_("International organisation"),
    PartnerType.FOUNDATION: N_("Foundation"),
    PartnerType.ACADEMIC: N_("Academic institution"),
}


class PartnerActor(IdMixin, TimestampMixin, VersionedMixin, Audited, Base):
    __tablename__ = "partner_actors"

    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    type: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
