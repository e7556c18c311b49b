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
    version: int | None = None

    @field_validator("full_name", mode="before")
    @classmethod
    def _blank_name(cls, value: object) -> object:
        return "" if value is None else value


class TokenForm(BaseModel):
    name: str = Field(min_length=1, max_length=100)
