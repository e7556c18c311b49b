"""Input and output models of organisations, partners, contacts and activities (forms and API alike)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from crm.organisations.countries import resolve_country
from crm.organisations.models import (
    ActivityKind,
    BudgetBand,
    ConsentStatus,
    ContributionMode,
    LegalStatus,
    PartnerType,
    Provenance,
)
from crm.web.forms import own_message
from crm.web.i18n import N_

UNKNOWN_COUNTRY = own_message(N_("Choose a country from the list."))


def _country(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    code = resolve_country(value)
    if code is None:
        raise ValueError(UNKNOWN_COUNTRY)
    return code


def _required_country(value: str | None) -> str:
    code = _country(value)
    if code is None:
        raise ValueError(UNKNOWN_COUNTRY)
    return code


def _website(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if "://" not in value:
        value = "https://" + value
    if not value.startswith(("http://", "https://")) or "." not in value or " " in value:
        raise ValueError(own_message(N_("Enter a full web address, starting with https://.")))
    return value


class OrganisationIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    acronym: str | None = Field(default=None, max_length=30)
    description: str | None = Field(default=None, max_length=5000)
    origin_country: str
    residence_country: str
    residence_city: str | None = Field(default=None, max_length=100)
    founded_year: int | None = Field(default=None, ge=1800, le=date.today().year)
    legal_status: LegalStatus | None = None
    website: str | None = Field(default=None, max_length=300)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    sectors: list[str] = Field(default_factory=list)
    capital_kinds: list[str] = Field(default_factory=list)
    audiences: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list, max_length=20)
    members_count: int | None = Field(default=None, ge=0, le=100_000_000)
    volunteers_count: int | None = Field(default=None, ge=0, le=100_000_000)
    staff_count: int | None = Field(default=None, ge=0, le=1_000_000)
    budget_band: BudgetBand | None = None
    skills_offered: list[str] = Field(default_factory=list, max_length=30)
    contribution_to: str | None = Field(default=None, max_length=2000)
    contribution_modes: list[ContributionMode] = Field(default_factory=list)
    provenance: Provenance = Provenance.OFFICER_ENTRY
    provenance_detail: str | None = Field(default=None, max_length=200)
    consent_to_share: bool = False

    _countries = field_validator("origin_country", "residence_country", mode="before")(_required_country)
    _site = field_validator("website", mode="before")(_website)

    @field_validator("languages", "skills_offered", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        # Forms send "fr, wo" in one box (None when left empty); the API sends a list.
        if value is None:
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: list[str]) -> list[str]:
        codes = [code.lower() for code in value]
        if any(len(code) not in (2, 3) or not code.isalpha() for code in codes):
            raise ValueError(own_message(N_("Use two-letter language codes such as fr, en, wo.")))
        return list(dict.fromkeys(codes))


class OrganisationUpdate(OrganisationIn):
    version: int


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    name: str
    acronym: str | None
    description: str | None
    origin_country: str
    residence_country: str
    residence_city: str | None
    founded_year: int | None
    legal_status: str | None
    website: str | None
    email: str | None
    phone: str | None
    sectors: list[str]
    capital_kinds: list[str]
    audiences: list[str]
    languages: list[str]
    members_count: int | None
    volunteers_count: int | None
    staff_count: int | None
    budget_band: str | None
    skills_offered: list[str]
    contribution_to: str | None
    contribution_modes: list[str]
    provenance: str
    provenance_detail: str | None
    consent_to_share: bool
    completeness: int


class ContactIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    full_name: str = Field(min_length=1, max_length=200)
    role_title: str | None = Field(default=None, max_length=120)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    consent: ConsentStatus = ConsentStatus.PENDING
    consent_date: date | None = None


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    organisation_id: int | None
    partner_id: int | None
    full_name: str
    role_title: str | None
    email: str | None
    phone: str | None
    consent: str
    consent_date: date | None


class PartnerIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    type: PartnerType
    country: str | None = None
    website: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=5000)

    _country_code = field_validator("country", mode="before")(_country)
    _site = field_validator("website", mode="before")(_website)


class PartnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    name: str
    type: str
    country: str | None
    website: str | None
    description: str | None


class ActivityIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    kind: ActivityKind
    occurred_on: date
    summary: str = Field(min_length=1, max_length=5000)


SortKey = Literal["name", "-name", "-created", "created", "-completeness", "completeness", "country"]
