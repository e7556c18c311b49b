"""Who may see and run peer-training programmes: each rule once, as a check on one programme and as its SQL
form for lists and calendar feeds (a feed never holds a session its owner may not see).

- The government side (staff) sees and runs every programme.
- A programme's trainers see it whole and run its sessions, enrolments and attendance.
- A programme open to enrolment, running or finished is listed for everyone signed in (a catalogue to enrol
  in); one being planned or cancelled only for staff, its trainers and its lead organisation.
- Participants' names and attendance: staff and the programme's trainers; an organisation sees its own
  participants only."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, exists, or_, select, true

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.training.models import (
    Enrolment,
    EnrolmentStatus,
    Participant,
    Programme,
    ProgrammeStatus,
    ProgrammeTrainer,
)

CATALOGUE_STATUSES = (ProgrammeStatus.OPEN, ProgrammeStatus.RUNNING, ProgrammeStatus.FINISHED)


def holds_feeds(user: User) -> bool:
    """Calendar feeds are for active accounts that hold a role: one whose roles were all withdrawn keeps
    none (its feeds answer 404, like an address that names nothing)."""
    return user.is_active and bool(user.role_rows)


def can_create_programme(user: User) -> bool:
    return user.is_staff or user.has_role(Role.TRAINER)


def can_view(user: User, programme: Programme, trainer_ids: Collection[int]) -> bool:
    """The check on one programme; `visible_programmes` below is the same rule as SQL."""
    if user.is_staff or user.id in trainer_ids:
        return True
    if programme.status in CATALOGUE_STATUSES:
        return True
    own = user.represented_organisation_id
    return own is not None and programme.lead_organisation_id == own


def can_run(user: User, trainer_ids: Collection[int]) -> bool:
    """Edit the programme, schedule and change its sessions, enrol organisations, mark attendance."""
    return user.is_staff or user.id in trainer_ids


def can_enrol(user: User, programme: Programme, organisation_id: int, trainer_ids: Collection[int]) -> bool:
    """An organisation enrols itself (its representative) in an open programme; staff and trainers enrol any."""
    if can_run(user, trainer_ids):
        return programme.status not in (ProgrammeStatus.FINISHED, ProgrammeStatus.CANCELLED)
    return programme.status == ProgrammeStatus.OPEN and user.represented_organisation_id == organisation_id


def sees_participants_of(user: User, organisation_id: int, trainer_ids: Collection[int]) -> bool:
    return can_run(user, trainer_ids) or user.represented_organisation_id == organisation_id


def visible_programmes(user: User) -> ColumnElement[bool]:
    """The SQL form of can_view, on Programme."""
    if user.is_staff:
        return true()
    clauses: list[ColumnElement[bool]] = [
        Programme.status.in_([s.value for s in CATALOGUE_STATUSES]),
        trains(user.id),
    ]
    own = user.represented_organisation_id
    if own is not None:
        clauses.append(Programme.lead_organisation_id == own)
    return or_(*clauses)


def trains(user_id: int) -> ColumnElement[bool]:
    """Programmes this person trains in (SQL, on Programme)."""
    return exists(
        select(ProgrammeTrainer.programme_id).where(
            ProgrammeTrainer.programme_id == Programme.id, ProgrammeTrainer.user_id == user_id
        )
    )


def participates(user_id: int) -> ColumnElement[bool]:
    """Programmes this person takes part in, for an organisation enrolled in them (SQL, on Programme)."""
    return exists(
        select(Participant.id)
        .join(Enrolment, Enrolment.id == Participant.enrolment_id)
        .where(
            Enrolment.programme_id == Programme.id,
            Enrolment.status == EnrolmentStatus.ENROLLED.value,
            Participant.user_id == user_id,
        )
    )


def enrolled_organisation(organisation_id: int) -> ColumnElement[bool]:
    """Programmes an organisation takes part in (for its page and its calendar feed)."""
    return exists(
        select(Enrolment.id).where(
            Enrolment.programme_id == Programme.id,
            Enrolment.organisation_id == organisation_id,
            Enrolment.status == EnrolmentStatus.ENROLLED.value,
        )
    )
