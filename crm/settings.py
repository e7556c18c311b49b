"""Settings read once from CRM_* environment variables."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_SECRET = "demo-secret-key-not-for-production-use-000000"


class SettingsError(Exception):
    """A setting is missing or wrong; the message is meant for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    database_url: str = "sqlite:///./crm.db"
    secret_key: str = ""
    demo: bool = False
    debug: bool = False
    allowed_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost"])
    time_zone: str = "Europe/Paris"
    default_language: str = "en"
    https: bool = False
    session_days: int = 14
    login_attempts_per_minute: int = 10

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in ("en", "fr"):
            raise ValueError("CRM_DEFAULT_LANGUAGE must be 'en' or 'fr'")
        return value

    @model_validator(mode="after")
    def _secret_outside_demo(self) -> Settings:
        if not self.secret_key:
            if not self.demo:
                raise ValueError(
                    "CRM_SECRET_KEY is not set. Set it to a long random value "
                    "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
                    "or set CRM_DEMO=1 to run the demo."
                )
            self.secret_key = DEMO_SECRET
        elif len(self.secret_key) < 32:
            raise ValueError("CRM_SECRET_KEY must be at least 32 characters long.")
        return self


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into one readable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            lines = []
            for error in errors():
                field = ".".join(str(part) for part in error["loc"])
                message = str(error["msg"]).removeprefix("Value error, ")
                lines.append(f"CRM_{field.upper()}: {message}" if field else message)
            raise SettingsError("; ".join(lines)) from None
        raise SettingsError(str(exc)) from None


@cache
def get_settings() -> Settings:
    return load_settings()
