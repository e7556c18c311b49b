"""Attendance and feedback of training sessions, and the figures built on them: a programme's attendance rate
and average rating, an organisation's training participation, and the capacity of a finished programme's
participants before and after it. Rules and persistence; no HTTP.

An occurrence is named by its series and its original local start (the wall time the weekly rule gives it),
so attendance and ratings stay attached to it when it is moved. Every figure here is read in a fixed number
of queries, whatever the number of sessions, participants or organisations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments.models import AssessmentRound, DomainScore, RoundStatus
from crm.organisations.models import Organisation
from crm.training import permissions, recurrence, service
from crm.training.models import (
    Attendance,
    Enrolment,
    EnrolmentStatus,
    Feedback,
    OccurrenceChange,
    Participant,
    Programme,
    ProgrammeStatus,
    ProgrammeTrainer,
    SessionSeries,
)
from crm.training.service import TrainingError

COMMENT_MAX = 2000
_DISTANT_PAST = datetime(1970, 1, 1, tzinfo=UTC)
_FAR_FUTURE = datetime(2200, 1, 1, tzinfo=UTC)
RATINGS = range(1, 6)


# Occurrences ----------------------------------------------------------------------------------------------


def _check_occurrence(session: Session, series: SessionSeries, original_start: datetime) -> None:
    """Refuse an occurrence the series' rule does not hold, or one cancelled (alone or with its series)."""
    if series.cancelled_at is not None:
        raise TrainingError({"occurrence": "the session series is cancelled"})
    if not recurrence.is_occurrence(service.as_series(series), original_start):
        raise TrainingError({"occurrence": "not an occurrence of this series"})
    cancelled = session.scalar(
        select(OccurrenceChange.cancelled).where(
            OccurrenceChange.series_id == series.id, OccurrenceChange.original_start == original_start
        )
    )
    if cancelled:
        raise TrainingError({"occurrence": "this occurrence is cancelled"})


def _of_enrolled_organisation(programme_id: int) -> ColumnElement[bool]:
    """On Participant: sent by an organisation enrolled (not waiting, not withdrawn) in the programme."""
    return Participant.enrolment_id.in_(
        select(Enrolment.id).where(
            Enrolment.programme_id == programme_id, Enrolment.status == EnrolmentStatus.ENROLLED.value
        )
    )


# Attendance -----------------------------------------------------------------------------------------------


def mark_attendance(
    session: Session,
    series: SessionSeries,
    original_start: datetime,
    presence: Mapping[int, bool],
    marked_by: User,
) -> dict[int, bool]:
    """Record who was there at one occurrence (participant id → present), as staff or one of the programme's
    trainers; marking again replaces the earlier mark. Only participants of organisations enrolled in the
    series' programme can be marked. Returns the occurrence's attendance as stored now."""
    if not permissions.can_run(marked_by, service.trainer_ids(session, series.programme_id)):
        raise TrainingError({"attendance": "only staff and the programme's trainers mark attendance"})
    _check_occurrence(session, series, original_start)
    if any(not isinstance(present, bool) for present in presence.values()):
        raise TrainingError({"attendance": "present must be true or false"})
    wanted = set(presence)
    allowed = set(
        session.scalars(
            select(Participant.id).where(
                Participant.id.in_(wanted), _of_enrolled_organisation(series.programme_id)
            )
        )
    )
    strangers = sorted(wanted - allowed)
    if strangers:
        raise TrainingError(
            {"attendance": f"not participants of an enrolled organisation: {', '.join(map(str, strangers))}"}
        )
    for _attempt in range(2):
        try:
            with session.begin_nested():
                _store_attendance(session, series.id, original_start, presence, marked_by.id)
            break
        except IntegrityError:
            # Another trainer inserted a mark of this occurrence first: theirs is there now, replace it.
            continue
    else:
        raise TrainingError({"attendance": "the attendance changed meanwhile; try again"})
    return attendance_of(session, series.id, original_start)


def _store_attendance(
    session: Session,
    series_id: int,
    original_start: datetime,
    presence: Mapping[int, bool],
    marked_by_id: int,
) -> None:
    existing = {
        row.participant_id: row
        for row in session.scalars(
            select(Attendance).where(
                Attendance.series_id == series_id,
                Attendance.original_start == original_start,
                Attendance.participant_id.in_(list(presence)),
            )
        )
    }
    for participant_id, present in presence.items():
        row = existing.get(participant_id)
        if row is None:
            session.add(
                Attendance(
                    series_id=series_id,
                    original_start=original_start,
                    participant_id=participant_id,
                    present=present,
                    marked_by_id=marked_by_id,
                )
            )
        else:
            row.present, row.marked_by_id = present, marked_by_id
    session.flush()


def attendance_of(session: Session, series_id: int, original_start: datetime) -> dict[int, bool]:
    """One occurrence's marks: participant id → present."""
    rows = session.execute(
        select(Attendance.participant_id, Attendance.present).where(
            Attendance.series_id == series_id, Attendance.original_start == original_start
        )
    )
    return {participant_id: present for participant_id, present in rows}


# Feedback -------------------------------------------------------------------------------------------------


def rate_occurrence(
    session: Session,
    series: SessionSeries,
    original_start: datetime,
    user: User,
    rating: int,
    comment: str = "",
) -> Feedback:
    """A participant's rating (1 to 5) and comment on one occurrence. One per person and occurrence: rating
    again replaces it, and two first ratings sent at once (two tabs) end as one, never as an error."""
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
        raise TrainingError({"rating": "a rating is a whole number from 1 to 5"})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise TrainingError({"comment": f"at most {COMMENT_MAX} characters"})
    _check_occurrence(session, series, original_start)
    participates = session.scalar(
        select(Participant.id)
        .where(Participant.user_id == user.id, _of_enrolled_organisation(series.programme_id))
        .limit(1)
    )
    if participates is None:
        raise TrainingError({"rating": "only participants of an enrolled organisation rate its sessions"})
    mine = (
        select(Feedback)
        .where(
            Feedback.series_id == series.id,
            Feedback.original_start == original_start,
            Feedback.user_id == user.id,
        )
        .execution_options(populate_existing=True)
    )
    feedback = session.scalar(mine)
    if feedback is None:
        feedback = Feedback(
            series_id=series.id,
            original_start=original_start,
            user_id=user.id,
            rating=rating,
            comment=comment,
        )
        try:
            with session.begin_nested():
                session.add(feedback)
            return feedback
        except IntegrityError:
            # The same person's other rating got in first: this one replaces it, as a second rating does.
            feedback = session.scalar(mine)
            if feedback is None:
                raise
    feedback.rating, feedback.comment = rating, comment
    session.flush()
    return feedback


# Figures --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRate:
    """Marks of attendance: how many, how many present, and the share present."""

    marked: int
    present: int

    @property
    def rate(self) -> float | None:
        return self.present / self.marked if self.marked else None


@dataclass(frozen=True)
class Figures:
    """A programme's attendance and ratings (how many, and their average)."""

    attendance: AttendanceRate
    ratings: int
    rating_total: int

    @property
    def attendance_rate(self) -> float | None:
        return self.attendance.rate

    @property
    def average_rating(self) -> float | None:
        return self.rating_total / self.ratings if self.ratings else None


def programme_figures(session: Session, programme_id: int) -> Figures:
    """A programme's attendance rate and average rating over all its sessions: two queries."""
    in_programme = select(SessionSeries.id).where(SessionSeries.programme_id == programme_id)
    marked, present = session.execute(
        select(func.count(), func.coalesce(func.sum(case((Attendance.present, 1), else_=0)), 0)).where(
            Attendance.series_id.in_(in_programme)
        )
    ).one()
    ratings, total = session.execute(
        select(func.count(), func.coalesce(func.sum(Feedback.rating), 0)).where(
            Feedback.series_id.in_(in_programme)
        )
    ).one()
    return Figures(AttendanceRate(int(marked), int(present)), int(ratings), int(total))


@dataclass(frozen=True)
class Participation:
    """A programme an organisation took part in. `attendance` is None when the viewer may not see it (the
    organisation's participants and their attendance are for staff, the trainers and the organisation)."""

    programme: Programme
    participants: int
    attendance: AttendanceRate | None


def organisation_participation(session: Session, organisation_id: int, viewer: User) -> list[Participation]:
    """The programmes an organisation is enrolled in that the viewer may see, newest first, with its own
    participants' attendance: three queries at most."""
    participants = (
        select(func.count(Participant.id))
        .where(Participant.enrolment_id == Enrolment.id)
        .correlate(Enrolment)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Programme, participants)
        .join(Enrolment, Enrolment.programme_id == Programme.id)
        .where(
            Enrolment.organisation_id == organisation_id,
            Enrolment.status == EnrolmentStatus.ENROLLED.value,
            permissions.visible_programmes(viewer),
        )
        .order_by(Programme.created_at.desc(), Programme.id.desc())
    ).all()
    if not rows:
        return []
    ids = [programme.id for programme, _count in rows]
    trainers: dict[int, set[int]] = defaultdict(set)
    if not (viewer.is_staff or viewer.represented_organisation_id == organisation_id):
        for programme_id, user_id in session.execute(
            select(ProgrammeTrainer.programme_id, ProgrammeTrainer.user_id).where(
                ProgrammeTrainer.programme_id.in_(ids)
            )
        ):
            trainers[programme_id].add(user_id)
    shown = [i for i in ids if permissions.sees_participants_of(viewer, organisation_id, trainers[i])]
    marks: dict[int, tuple[int, int]] = {}
    if shown:
        marks = {
            programme_id: (int(marked), int(present))
            for programme_id, marked, present in session.execute(
                select(
                    SessionSeries.programme_id,
                    func.count(),
                    func.coalesce(func.sum(case((Attendance.present, 1), else_=0)), 0),
                )
                .join(SessionSeries, SessionSeries.id == Attendance.series_id)
                .join(Participant, Participant.id == Attendance.participant_id)
                .join(Enrolment, Enrolment.id == Participant.enrolment_id)
                .where(Enrolment.organisation_id == organisation_id, SessionSeries.programme_id.in_(shown))
                .group_by(SessionSeries.programme_id)
            )
        }
    return [
        Participation(
            programme,
            int(count or 0),
            AttendanceRate(*marks.get(programme.id, (0, 0))) if programme.id in shown else None,
        )
        for programme, count in rows
    ]


# Before and after -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assessed:
    """One validated round: when it was opened and validated, and its validated score per targeted domain."""

    round_id: int
    opened_on: date
    validated_at: datetime
    scores: dict[str, float | None]


@dataclass(frozen=True)
class OrganisationChange:
    organisation_id: int
    name: str
    before: Assessed | None
    after: Assessed | None

    def change(self, domain_code: str) -> float | None:
        if self.before is None or self.after is None:
            return None
        old, new = self.before.scores.get(domain_code), self.after.scores.get(domain_code)
        return None if old is None or new is None else round(new - old, 2)


@dataclass(frozen=True)
class BeforeAndAfter:
    first_start: datetime  # UTC
    last_end: datetime  # UTC
    domains: list[str]
    organisations: list[OrganisationChange] = field(default_factory=list)

    def average_change(self, domain_code: str) -> float | None:
        changes = [c for o in self.organisations if (c := o.change(domain_code)) is not None]
        return round(sum(changes) / len(changes), 2) if changes else None


def _span(session: Session, programme_id: int) -> tuple[datetime, datetime] | None:
    """The first session's start and the last session's end (UTC) of a programme, cancelled ones left out."""
    stored = session.scalars(
        select(SessionSeries).where(
            SessionSeries.programme_id == programme_id, SessionSeries.cancelled_at.is_(None)
        )
    ).all()
    changes = service.changes_of(session, [s.id for s in stored])
    starts, ends = [], []
    for series in stored:
        held = service.as_series(series, changes.get(series.id, []))
        # An open-ended series of a finished programme counts up to now: nothing later took place.
        open_ended = (
            held.recurrence is not None and held.recurrence.count is None and held.recurrence.until is None
        )
        window_end = datetime.now(UTC) if open_ended else _FAR_FUTURE
        found = recurrence.occurrences(held, _DISTANT_PAST, window_end)
        if found:
            starts.append(found[0].start.astimezone(UTC))
            ends.append(max(o.end for o in found).astimezone(UTC))
    if not starts:
        return None
    return min(starts), max(ends)


def _validated_at(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def before_and_after(session: Session, programme: Programme) -> BeforeAndAfter | None:
    """For a finished programme, each enrolled organisation's validated capacity in the targeted domains at
    its last assessment validated before the first session, and at its first assessment opened after the
    last session (one answered during the programme would measure part of it as "after"). None when the
    programme has not finished or held no session. Six queries whatever the number of organisations."""
    if programme.status != ProgrammeStatus.FINISHED:
        return None
    span = _span(session, programme.id)
    if span is None:
        return None
    first_start, last_end = span
    domains = service.domain_codes(session, programme.id)
    organisations = session.execute(
        select(Organisation.id, Organisation.name)
        .join(Enrolment, Enrolment.organisation_id == Organisation.id)
        .where(Enrolment.programme_id == programme.id, Enrolment.status == EnrolmentStatus.ENROLLED.value)
        .order_by(Organisation.name, Organisation.id)
    ).all()
    ids = [organisation_id for organisation_id, _name in organisations]
    chosen: dict[int, dict[str, tuple[int, date, datetime]]] = defaultdict(dict)
    if ids:
        for round_id, organisation_id, opened_on, validated_at in session.execute(
            select(
                AssessmentRound.id,
                AssessmentRound.organisation_id,
                AssessmentRound.opened_on,
                AssessmentRound.validated_at,
            )
            .where(
                AssessmentRound.organisation_id.in_(ids),
                AssessmentRound.status == RoundStatus.VALIDATED.value,
                AssessmentRound.validated_at.is_not(None),
            )
            .order_by(AssessmentRound.organisation_id, AssessmentRound.opened_on, AssessmentRound.id)
        ):
            validated = _validated_at(validated_at)
            mine = chosen[organisation_id]
            if validated < first_start:
                mine["before"] = (round_id, opened_on, validated)  # rounds come oldest first: the last wins
            elif opened_on > last_end.date() and "after" not in mine:
                mine["after"] = (round_id, opened_on, validated)
    round_ids = [entry[0] for mine in chosen.values() for entry in mine.values()]
    scores: dict[int, dict[str, float | None]] = defaultdict(dict)
    if round_ids and domains:
        for round_id, code, score in session.execute(
            select(DomainScore.round_id, DomainScore.domain_code, DomainScore.validated_score).where(
                DomainScore.round_id.in_(round_ids), DomainScore.domain_code.in_(domains)
            )
        ):
            scores[round_id][code] = score

    def assessed(entry: tuple[int, date, datetime] | None) -> Assessed | None:
        if entry is None:
            return None
        round_id, opened_on, validated_at = entry
        return Assessed(round_id, opened_on, validated_at, {d: scores[round_id].get(d) for d in domains})

    return BeforeAndAfter(
        first_start,
        last_end,
        domains,
        [
            OrganisationChange(
                organisation_id,
                name,
                assessed(chosen[organisation_id].get("before")),
                assessed(chosen[organisation_id].get("after")),
            )
            for organisation_id, name in organisations
        ],
    )
