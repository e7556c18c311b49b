"""What the officer's review of an indicator and an action of the capacity development plan may hold, for the
pages and the API alike (the field rules live here once; which domain and indicator fit is the service's)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, ValidationInfo, field_validator

from crm.assessments.models import ActionStatus
from crm.organisations.schemas import _Input
from crm.web.forms import own_message
from crm.web.i18n import N_

COMMENT_REQUIRED = own_message(
    N_("Say why the validated score differs from the self-assessment: the organisation will read it.")
)
MAX_COMMENT = 2000


class ReviewIn(_Input):
    """The officer's validated level for one indicator (none: agree with the self score) and the reason."""

    level: int | None = Field(default=None, ge=1, le=4)
    # Checked even when left out, so the message stands next to the comment box.
    comment: str | None = Field(default=None, max_length=MAX_COMMENT, validate_default=True)

    @field_validator("comment")
    @classmethod
    def _a_level_needs_its_reason(cls, comment: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("level") is not None and not comment:
            raise ValueError(COMMENT_REQUIRED)
        return comment


class ValidationIn(_Input):
    note: str | None = Field(default=None, max_length=MAX_COMMENT)
    # The page asks once more, showing what validating will store, before it does.
    confirmed: bool = False


class ActionIn(_Input):
    """One action of the plan: what, in which domain (and optionally which indicator), who, by when."""

    title: str = Field(min_length=1, max_length=300)
    domain_id: int
    indicator_id: int | None = None
    owner: str | None = Field(default=None, max_length=120)
    due_on: date | None = None
    status: ActionStatus = ActionStatus.PLANNED


class ActionUpdate(ActionIn):
    version: int
