"""What the assessments API reads and answers: answer, review and validation bodies with their field rules,
and the frameworks, rounds, responses and results it returns."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm.assessments import plan_schemas
from crm.assessments.models import Choice, RoundStatus
from crm.organisations.schemas import _Input
from crm.web.forms import Version

MAX_EVIDENCE = 5000


# Bodies ------------------------------------------------------------------------------------------------


class AnswerIn(_Input):
    choice: Choice | None = Field(
        description="Level 1 to 4, `na` (not applicable) or `dk` (don't know); null to clear the answer."
    )
    evidence: str | None = Field(default=None, max_length=MAX_EVIDENCE, description="What shows it.")
    version: Version | None = Field(
        default=None,
        description="The version of the answer you read; null when you read no answer yet (409 if it changed).",
    )

    @field_validator("evidence")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


# The officer's review and validation bodies are the pages' own (crm.assessments.plan_schemas): one rule each.
ReviewIn = plan_schemas.ReviewIn
ValidationIn = plan_schemas.ValidationIn


# Frameworks --------------------------------------------------------------------------------------------


class TextOut(BaseModel):
    """A text in both languages of the framework."""

    en: str = ""
    fr: str = ""


class FrameworkSummaryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    version: int
    title: TextOut
    description: TextOut
    previous_id: int | None = Field(description="The version its indicators map to, if any.")


class FrameworkList(BaseModel):
    items: list[FrameworkSummaryOut]
    current_id: int | None = Field(description="The framework new assessments answer.")


class LevelOut(BaseModel):
    level: int
    text: TextOut


class MappingOut(BaseModel):
    kind: str = Field(description="same, split, merged or new")
    maps_from: list[str] = Field(description="Codes of the previous version's indicators it compares with.")


class IndicatorOut(BaseModel):
    id: int
    code: str
    question: TextOut
    guidance: TextOut
    levels: list[LevelOut]
    mapping: MappingOut | None


class DomainOut(BaseModel):
    id: int
    code: str
    name: TextOut
    description: TextOut
    indicators: list[IndicatorOut]


class FrameworkOut(FrameworkSummaryOut):
    domains: list[DomainOut]


# Rounds ------------------------------------------------------------------------------------------------


class RoundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    organisation_id: int
    framework: FrameworkSummaryOut
    status: RoundStatus
    opened_on: date
    submitted_at: datetime | None
    validated_at: datetime | None
    validation_note: str | None
    self_score: float | None = Field(description="Set when the round is submitted.")
    validated_score: float | None = Field(description="Set when the round is validated.")
    validated_band: str | None
    previous_round_id: int | None = Field(description="The earlier round it compares with, once validated.")
    change: float | None = Field(description="Change of the validated score since the previous round.")


class RoundPage(BaseModel):
    items: list[RoundOut]
    page: int
    per_page: int
    total: int


class RespondentOut(BaseModel):
    user_id: int
    name: str
    role: str | None
    status: str
    submitted_at: datetime | None


class RoundDetailOut(RoundOut):
    responses: int = Field(description="Respondents who began answering.")
    submitted_responses: int
    respondents: list[RespondentOut] | None = Field(description="Who answered: for the government side only.")


class AnswerOut(BaseModel):
    indicator_id: int
    code: str
    choice: Choice | None
    evidence: str | None
    version: int
    updated_at: datetime


class ResponseOut(BaseModel):
    id: int
    round_id: int
    status: str
    submitted_at: datetime | None
    answers: list[AnswerOut]
    unanswered: list[str] = Field(description="Codes of the indicators without a chosen answer.")


# Results -----------------------------------------------------------------------------------------------


class SpreadOut(BaseModel):
    low: float
    high: float
    disagreement: bool = Field(description="Respondents two levels or more apart.")


class ReviewOut(BaseModel):
    level: int
    comment: str


class ReviewedOut(BaseModel):
    indicator_id: int
    level: int | None = Field(description="Null once the officer's level is withdrawn.")
    comment: str | None
    version: int | None = Field(description="The review's version, to send with the next change of it.")


class NamedAnswerOut(BaseModel):
    respondent_id: int
    name: str
    role: str | None
    choice: Choice | None


class IndicatorResultOut(BaseModel):
    id: int
    code: str
    self_score: float | None
    validated_score: float | None = Field(
        description="The officer's level where reviewed, else the self score."
    )
    spread: SpreadOut | None
    review: ReviewOut | None
    distribution: dict[str, int] | None = Field(
        description="How many respondents chose each answer; only from 3 respondents on, never who."
    )
    answers: list[NamedAnswerOut] | None = Field(description="Who answered what: the government side only.")


class DomainResultOut(BaseModel):
    id: int
    code: str
    name: TextOut
    self_score: float | None
    self_band: str | None
    validated_score: float | None
    band: str | None
    spread: SpreadOut | None = Field(description="Lowest and highest respondent's score in the domain.")
    previous_score: float | None
    change: float | None = Field(description="Null where the previous round does not compare.")
    indicators: list[IndicatorResultOut]


class ResultsOut(BaseModel):
    round_id: int
    status: RoundStatus
    respondents: int = Field(description="Submitted responses counted in the scores.")
    individual_answers_shown: bool
    self_score: float | None
    self_band: str | None
    validated_score: float | None
    band: str | None
    previous_round_id: int | None
    change: float | None = Field(description="Null where the previous round does not compare.")
    domains: list[DomainResultOut]
