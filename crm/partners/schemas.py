"""What a partner actor form or API body may hold, and what the API answers; the field rules are the
organisations' own (schemas._Input, countries, web addresses)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm.organisations.schemas import _country, _Input, _website
from crm.partners.models import PartnerType


class PartnerIn(_Input):
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


class PartnerUpdate(PartnerIn):
    version: int


class PartnerPage(BaseModel):
    items: list[PartnerOut]
    page: int
    per_page: int
    total: int
