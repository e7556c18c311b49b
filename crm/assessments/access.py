"""The access helpers of assessments, called at the top of every page, partial and API handler that takes an
id: they return the record this user may see, or refuse (404: another organisation's rounds are private)."""

from __future__ import annotations

from litestar.exceptions import NotFoundException
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.accounts.permissions import refuse_unless
from crm.assessments import permissions, service
from crm.assessments.models import AssessmentResponse, AssessmentRound, Framework, PlanAction
from crm.web.api import MAX_ID


def round_for(db: Session, user: User, round_id: int) -> AssessmentRound:
    round_ = service.get_round(db, round_id) if round_id <= MAX_ID else None
    if round_ is None or not permissions.can_view(user, round_):
        raise NotFoundException()
    return round_


def own_response_for(db: Session, user: User, response_id: int) -> tuple[AssessmentResponse, AssessmentRound]:
    """A response its respondent works on: anyone else, even of the same organisation, is refused."""
    response = service.get_response(db, response_id) if response_id <= MAX_ID else None
    if response is None:
        raise NotFoundException()
    round_ = round_for(db, user, response.round_id)
    refuse_unless(permissions.owns_response(user, response))
    return response, round_


def action_for(db: Session, user: User, action_id: int) -> tuple[PlanAction, AssessmentRound]:
    action = service.get_action(db, action_id) if action_id <= MAX_ID else None
    if action is None:
        raise NotFoundException()
    round_ = round_for(db, user, action.round_id)
    refuse_unless(permissions.can_plan(user, round_))
    return action, round_


def framework_for(db: Session, framework_id: int) -> Framework:
    """Frameworks are public to every signed-in role: they are the questions, not anyone's answers."""
    framework = service.get_framework(db, framework_id) if framework_id <= MAX_ID else None
    if framework is None:
        raise NotFoundException()
    return framework
