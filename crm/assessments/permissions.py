"""Who may see, answer, validate and plan an organisation's assessments: each rule once, with its SQL form
for lists. The organisation's own representatives and the government side only; another organisation's
scores are never shown, except a consenting peer's name and the domain it is strong in (recommendations)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from crm.accounts.models import User
from crm.assessments.models import AssessmentResponse, AssessmentRound, RoundStatus

# Individual answers are shown to the organisation without names, and only from this many respondents on,
# so that nobody can tell who answered what.
ANONYMITY_THRESHOLD = 3


def can_view_rounds_of(user: User, organisation_id: int) -> bool:
    return user.is_staff or user.represented_organisation_id == organisation_id


def can_view(user: User, round_: AssessmentRound) -> bool:
    """The check on one round; `visible_rounds` below is the same rule as SQL."""
    return can_view_rounds_of(user, round_.organisation_id)


def visible_rounds(user: User) -> ColumnElement[bool]:
    if user.is_staff:
        return true()
    own = user.represented_organisation_id
    return AssessmentRound.organisation_id == own if own is not None else false()


def can_start(user: User, organisation_id: int) -> bool:
    """A round is opened by the organisation itself or by its officer."""
    return can_view_rounds_of(user, organisation_id)


def can_answer(user: User, round_: AssessmentRound) -> bool:
    """Respondents are the organisation's own representatives, while the round is being answered."""
    return round_.status == RoundStatus.OPEN and user.represented_organisation_id == round_.organisation_id


def owns_response(user: User, response: AssessmentResponse) -> bool:
    return response.respondent_id == user.id


def can_submit_round(user: User, round_: AssessmentRound) -> bool:
    return round_.status == RoundStatus.OPEN and can_view(user, round_)


def can_validate(user: User, round_: AssessmentRound) -> bool:
    return user.is_staff and round_.status == RoundStatus.SUBMITTED


def can_see_respondents(user: User) -> bool:
    """Who answered what: the officer only."""
    return user.is_staff


def can_see_individual_answers(user: User, respondents: int) -> bool:
    return user.is_staff or respondents >= ANONYMITY_THRESHOLD


def can_plan(user: User, round_: AssessmentRound) -> bool:
    """The plan is agreed after validation, by the organisation and its officer."""
    return round_.status == RoundStatus.VALIDATED and can_view(user, round_)


def can_view_portfolio(user: User) -> bool:
    return user.is_staff
