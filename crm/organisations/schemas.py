"""Input and output models of organisations, partners, contacts and activities (forms and API alike)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

from crm.organisations.countries import resolve_country
from crm.organisations.models import (
    ActivityKind,
    BudgetBand,
    ConsentStatus,
    ContributionMode,
    LegalStatus,
    Provenance,
)
from crm.web.forms import own_message
from crm.web.i18n import N_

UNKNOWN_COUNTRY = own_message(N_("Choose a country from the list."))
CONTROL_CHARACTERS_FOUND = own_message(
    N_("Remove the invisible control characters from this text (they often come with pasted text).")
)

# Control characters but tab, newline and carriage return (a text box's line break): no one types them, and a
# spreadsheet cannot hold them (one such acronym broke the Excel export for everyone). With them the
# left-to-right and right-to-left overrides (U+202D, U+202E), which make text read otherwise than it is stored
# ("abc\u202edef" shows as "abcfed"); the embeddings and isolates that mixed Arabic and Latin text needs stay.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202d\u202e]")

# Every item of a list is capped, and so is their number, so no list can carry megabytes into a record.
MAX_LIST_ITEMS = 50
# As long as the vocabularies' code column.
Code = Annotated[str, StringConstraints(max_length=40)]
ShortText = Annotated[str, StringConstraints(max_length=100)]


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


INVALID_WEBSITE = own_message(N_("Enter a full web address, starting with https://."))
INVALID_PHONE = own_message(N_("Enter a phone number with at least 6 digits."))
_HOSTNAME = re.compile(r"(?:[\w-]+\.)+[\w-]{2,}")
_PHONE_MIN_DIGITS = 6


def _website(value: str | None) -> str | None:
    """An http(s) address with a real host name; a bare domain ("asso.org") gets https://."""
    if not value:
        return None
    value = value.strip()
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise ValueError(INVALID_WEBSITE) from None
    valid = (
        parts.scheme.lower() in ("http", "https")
        and parts.username is None
        and parts.hostname is not None
        and _HOSTNAME.fullmatch(parts.hostname) is not None
        and not any(character.isspace() for character in value)
    )
    if not valid:
        raise ValueError(INVALID_WEBSITE)
    return value


def _phone(value: str | None) -> str | None:
    if not value:
        return None
    phone = " ".join(value.split())
    if sum(character.isdigit() for character in phone) < _PHONE_MIN_DIGITS:
        raise ValueError(INVALID_PHONE)
    return phone


class _Input(BaseModel):
    """What every form and API body shares: trimmed text, free of control characters."""

    model_config = ConfigDict(str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        texts = value if isinstance(value, list) else (value,)
        if any(isinstance(text, str) and CONTROL_CHARACTERS.search(text) for text in texts):
            raise ValueError(CONTROL_CHARACTERS_FOUND)
        return value


class OrganisationIn(_Input):
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
    sectors: list[Code] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    capital_kinds: list[Code] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    audiences: list[Code] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    languages: list[Code] = Field(default_factory=list, max_length=20)
    members_count: int | None = Field(default=None, ge=0, le=100_000_000)
    volunteers_count: int | None = Field(default=None, ge=0, le=100_000_000)
    staff_count: int | None = Field(default=None, ge=0, le=1_000_000)
    budget_band: BudgetBand | None = None
    skills_offered: list[ShortText] = Field(default_factory=list, max_length=30)
    contribution_to: str | None = Field(default=None, max_length=2000)
    contribution_modes: list[ContributionMode] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    provenance: Provenance = Provenance.OFFICER_ENTRY
    provenance_detail: str | None = Field(default=None, max_length=200)
    consent_to_share: bool = False
    # Agrees to be recommended to other organisations as a peer trainer in the domains it is strong in.
    peer_trainer_consent: bool = False

    _countries = field_validator("origin_country", "residence_country", mode="before")(_required_country)
    _site = field_validator("website", mode="before")(_website)
    _phone_number = field_validator("phone", mode="before")(_phone)

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
    peer_trainer_consent: bool
    completeness: int
    capacity_band: str | None = Field(
        description="The band of its latest validated assessment (null: not assessed). Shown to the government "
        "side and the organisation's own representatives only, as its email and phone are."
    )

    @classmethod
    def for_viewer(cls, organisation: object, private: bool) -> OrganisationOut:
        """The organisation as a viewer may read it: `private` (see permissions.can_view_private) shows the
        organisation's own email and phone, which the profile page shows on the same condition."""
        out = cls.model_validate(organisation)
        return out if private else out.model_copy(update=dict.fromkeys(PRIVATE_FIELDS))


PRIVATE_FIELDS = ("email", "phone", "capacity_band")


class ContactIn(_Input):
    full_name: str = Field(min_length=1, max_length=200)
    role_title: str | None = Field(default=None, max_length=120)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    consent: ConsentStatus = ConsentStatus.PENDING
    consent_date: date | None = None


class ContactForm(ContactIn):
    """The contact form asks for consent with no answer chosen in advance: whoever records a person states it."""

    consent: ConsentStatus


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


class ActivityIn(_Input):
    kind: ActivityKind
    occurred_on: date
    summary: str = Field(min_length=1, max_length=5000)


CapacityBandKey = Literal["nascent", "emerging", "expanding", "mature", "not_assessed"]
SortKey = Literal["name", "-name", "-created", "created", "-completeness", "completeness", "country"]
