"""The access helpers of peer training, called at the top of every page and partial that takes an id: they
return the record this user may see, or refuse (404: a programme being planned is private to staff, its
trainers and its lead organisation)."""

from __future__ import annotations

from litestar.exceptions import NotFoundException
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.accounts.permissions import refuse_unless, requires
from crm.training import permissions, service
from crm.training.models import Enrolment, Programme
from crm.web.api import MAX_ID


def _holds_a_role(user: User) -> bool:
    """Training is for the roles: an account left with none sees none of it (as the directory)."""
    return bool(user.role_rows)


requires_a_role = requires(_holds_a_role)


def programme_for(db: Session, user: User, programme_id: int) -> Programme:
    """The programme, or 404 where this user may not see it."""
    return programme_with_trainers_for(db, user, programme_id)[0]


def programme_with_trainers_for(db: Session, user: User, programme_id: int) -> tuple[Programme, set[int]]:
    """The programme and its trainers' ids (what every rule about it asks), or 404."""
    programme = service.get_programme(db, programme_id) if programme_id <= MAX_ID else None
    if programme is None:
        raise NotFoundException()
    trainer_ids = service.trainer_ids(db, programme.id)
    if not permissions.can_view(user, programme, trainer_ids):
        raise NotFoundException()
    return programme, trainer_ids


def runnable_programme_for(db: Session, user: User, programme_id: int) -> tuple[Programme, set[int]]:
    """A programme this user runs (staff, its trainers): others who see it are refused with 403."""
    programme, trainer_ids = programme_with_trainers_for(db, user, programme_id)
    refuse_unless(permissions.can_run(user, trainer_ids))
    return programme, trainer_ids


def enrolment_for(db: Session, user: User, enrolment_id: int) -> tuple[Enrolment, Programme, set[int]]:
    """An enrolment someone acts for: those who run its programme, and the enrolled organisation itself (the
    people who see its participants). Others who see the programme get 403; the rest 404."""
    enrolment = service.get_enrolment(db, enrolment_id) if enrolment_id <= MAX_ID else None
    if enrolment is None:
        raise NotFoundException()
    programme, trainer_ids = programme_with_trainers_for(db, user, enrolment.programme_id)
    refuse_unless(permissions.sees_participants_of(user, enrolment.organisation_id, trainer_ids))
    return enrolment, programme, trainer_ids
