"""Input models of peer training (forms and API alike): a programme, an enrolment, a participant."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from crm.organisations.schemas import MAX_LIST_ITEMS, _Input
from crm.training.models import ProgrammeStatus
from crm.web.api import MAX_ID
from crm.web.forms import OneLine, Version, own_message
from crm.web.i18n import N_

NAME_OR_REPRESENTATIVE = own_message(N_("Choose one of the organisation's representatives, or write a name."))

# As long as the domain code column.
DomainCode = Annotated[str, StringConstraints(max_length=60)]
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
# No programme takes more organisations than this; a larger number is a typing slip.
MAX_PLACES = 10_000


class ProgrammeIn(_Input):
    title: OneLine = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    domains: list[DomainCode] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    lead_organisation_id: RecordId | None = None
    places: int | None = Field(default=None, ge=1, le=MAX_PLACES)
    status: ProgrammeStatus = ProgrammeStatus.PLANNED
    trainers: list[RecordId] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)


class ProgrammeUpdate(ProgrammeIn):
    version: Version


class EnrolmentIn(_Input):
    """Staff and trainers name the organisation; a representative enrols their own (the field is ignored)."""

    organisation_id: RecordId | None = None


class WithdrawalIn(_Input):
    confirmed: bool = False


class ParticipantIn(_Input):
    """Someone an organisation sends: one of its representatives (a user), or a name only."""

    user_id: RecordId | None = None
    full_name: OneLine | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one_of_them(self) -> ParticipantIn:
        if (self.user_id is None) == (self.full_name is None):
            raise ValueError(NAME_OR_REPRESENTATIVE)
        return self
