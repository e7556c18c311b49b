"""Settings read once from CRM_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crm.web.i18n import N_

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_SECRET = "demo-secret-key-not-for-production-use-000000"
LANGUAGES = ("en", "fr")


def _untranslated(message: str) -> str:
    return message


class SettingProblem(ValueError):
    """What is wrong with a setting, raised by its validator: an N_ message whose %(placeholders)s `params`
    fill once it is translated, where it is shown."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def text(self, translate: Callable[[str], str] = _untranslated) -> str:
        translated = translate(self.message)
        return translated % self.params if self.params else translated


class SettingsError(Exception):
    """A setting is missing or wrong; the message is meant for the operator. `problems` pairs each setting's
    variable (or "" for the settings as a whole) with its SettingProblem, or with pydantic's own message."""

    def __init__(self, problems: list[tuple[str, SettingProblem | str]]) -> None:
        self.problems = problems
        super().__init__(self.text())

    def text(self, translate: Callable[[str], str] = _untranslated) -> str:
        """The problems, "; "-separated, in the reader's language (str() gives them untranslated)."""
        lines = []
        for variable, problem in self.problems:
            message = problem.text(translate) if isinstance(problem, SettingProblem) else problem
            lines.append(f"{variable}: {message}" if variable else message)
        return "; ".join(lines)


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
            raise SettingProblem(N_("unknown time zone %(value)r"), value=value) from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise SettingProblem(N_("CRM_DEFAULT_LANGUAGE must be 'en' or 'fr'"))
        return value

    @model_validator(mode="after")
    def _secret_outside_demo(self) -> Settings:
        if not self.secret_key:
            if not self.demo:
                raise SettingProblem(
                    N_(
                        "CRM_SECRET_KEY is not set. Set it to a long random value "
                        "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
                        "or set CRM_DEMO=1 to run the demo."
                    )
                )
            self.secret_key = DEMO_SECRET
        elif len(self.secret_key) < 32:
            raise SettingProblem(N_("CRM_SECRET_KEY must be at least 32 characters long."))
        return self


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into one SettingsError, whose
    messages are translated where they are shown."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        if not callable(errors):
            raise SettingsError([("", str(exc))]) from None
        problems: list[tuple[str, SettingProblem | str]] = []
        for error in errors():
            field = ".".join(str(part) for part in error["loc"])
            cause = error.get("ctx", {}).get("error")
            problem = cause if isinstance(cause, SettingProblem) else str(error["msg"])
            problems.append((f"CRM_{field.upper()}" if field else "", problem))
        raise SettingsError(problems) from None


def default_language() -> str:
    """The language the command line speaks: the settings' default language, read from CRM_DEFAULT_LANGUAGE
    even when other settings are wrong, so that what is wrong is said in that language; else English."""
    try:
        return load_settings().default_language
    except SettingsError:
        language = os.environ.get("CRM_DEFAULT_LANGUAGE", "en")
        return language if language in LANGUAGES else "en"


@cache
def get_settings() -> Settings:
    return load_settings()
