"""Input models of the account forms."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from crm.accounts.roles import Role


class LoginForm(BaseModel):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    next: str | None = None


class UserForm(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    full_name: str = Field(default="", max_length=200)
    roles: list[Role] = Field(min_length=1)
    language: Literal["en", "fr"] = "en"
    time_zone: str = Field(default="Europe/Paris", max_length=64)
    is_active: bool = False
    password: str | None = Field(default=None, max_length=1024)
    # The organisation the user represents (its number), chosen with the picker.
    organisation: int | None = Field(default=None, ge=1, le=2**31 - 1)
    version: int | None = None

    @field_validator("full_name", mode="before")
    @classmethod
    def _blank_name(cls, value: object) -> object:
        return "" if value is None else value


class TokenForm(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class RepresentativeForm(BaseModel):
    """An organisation's new representative: an existing account's email, or a new account's email and name.
    (Named apart from the contact form's fields, which share the organisation page.)"""

    representative_email: str = Field(min_length=3, max_length=254)
    representative_name: str = Field(default="", max_length=200)

    @field_validator("representative_name", mode="before")
    @classmethod
    def _blank_name(cls, value: object) -> object:
        return "" if value is None else value
