"""What the officer's review of an indicator and an action of the capacity development plan may hold, for the
pages and the API alike (the field rules live here once; which domain and indicator fit is the service's)."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from crm.assessments.models import ActionStatus
from crm.organisations.schemas import _Input
from crm.web.forms import OneLine, PlausibleDate, Version, own_message
from crm.web.i18n import N_

COMMENT_REQUIRED = own_message(
    N_("Say why the validated score differs from the self-assessment: the organisation will read it.")
)
MAX_COMMENT = 2000


class ReviewIn(_Input):
    """The officer's validated level for one indicator (none: agree with the self score) and the reason."""

    level: int | None = Field(
        default=None,
        ge=1,
        le=4,
        description="The officer's validated level; null withdraws the officer's level.",
    )
    # Checked even when left out, so the message stands next to the comment box.
    comment: str | None = Field(
        default=None,
        max_length=MAX_COMMENT,
        validate_default=True,
        description="Why the validated level differs from the self-assessment: required with a level.",
    )
    version: Version | None = Field(
        default=None,
        description="The version of the review you read; null when you read none (409 if it changed).",
    )

    @field_validator("comment")
    @classmethod
    def _a_level_needs_its_reason(cls, comment: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("level") is not None and not comment:
            raise ValueError(COMMENT_REQUIRED)
        return comment


class ValidationIn(_Input):
    note: str | None = Field(
        default=None, max_length=MAX_COMMENT, description="The officer's note on the round."
    )
    # The page asks once more, showing what validating will store, before it does; what it showed of the
    # reviews comes back with the answer (crm.assessments.service.reviews_state).
    confirmed: bool = False
    reviews_state: str | None = Field(default=None, max_length=64)


class ActionIn(_Input):
    """One action of the plan: what, in which domain (and optionally which indicator), who, by when."""

    title: OneLine = Field(min_length=1, max_length=300)
    domain_id: int
    indicator_id: int | None = None
    owner: OneLine | None = Field(default=None, max_length=120)
    due_on: PlausibleDate | None = None
    status: ActionStatus = ActionStatus.PLANNED


class ActionUpdate(ActionIn):
    version: Version
