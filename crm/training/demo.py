"""Demo peer training (seeds/demo/training.json): programmes led by organisations that agreed to train peers and
strong in the domains taught, for the organisations weakest in them; weekly series in several time zones across
clock changes, with a moved and a cancelled occurrence; a full programme with a waiting list; attendance and
ratings of the sessions before the demo's "today"; and a finished programme whose participants were assessed
before and after it. Made through the training services, after the assessment demo (it reads its scores).
Deterministic: the same database every time; loaded once (a database that has programmes is left alone)."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts import service as accounts
from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.assessments.models import AssessmentRound, DomainScore, RoundStatus
from crm.organisations.models import Organisation
from crm.settings import PROJECT_ROOT
from crm.training import attendance, recurrence, service
from crm.training.models import EnrolmentStatus, Participant, Programme, SessionSeries

TRAINING_FILE = PROJECT_ROOT / "seeds" / "demo" / "training.json"
PRESENT_SHARE = 0.85
RATED_SHARE = 0.7
COMMENTED_SHARE = 0.4
_DISTANT_PAST = datetime(1970, 1, 1, tzinfo=UTC)
_FAR_FUTURE = datetime(2200, 1, 1, tzinfo=UTC)


def load_demo_training(
    session: Session, organisation_ids: Mapping[str, int], users: Mapping[str, User], password_hash: str
) -> None:
    """The programmes of seeds/demo/training.json; `organisation_ids` maps the demo's organisation keys to ids,
    `users` the demo logins' emails to their accounts."""
    if session.scalar(select(Programme.id).limit(1)) is not None:
        return
    data = json.loads(TRAINING_FILE.read_text(encoding="utf-8"))
    rng = random.Random(data["seed"])
    today = datetime.fromisoformat(data["today"])
    people = dict(users)
    for entry in data["trainers"]:
        people[entry["email"]] = accounts.create_user(
            session,
            entry["email"],
            "unused",
            [Role.TRAINER],
            full_name=entry["full_name"],
            language=entry.get("language", "en"),
            time_zone=entry.get("time_zone", "Europe/Paris"),
            password_hash=password_hash,
        )
    session.flush()
    scores = _latest_scores(session)
    rounds = _validated_rounds(session)
    consenting = set(session.scalars(select(Organisation.id).where(Organisation.peer_trainer_consent)))
    first_users = _first_representatives(session)
    names = iter(data["named_participants"] * len(data["programmes"]))
    for entry in data["programmes"]:
        domains = entry["domains"]
        trainers = [people[email] for email in entry["trainers"]]
        programme = service.create_programme(
            session,
            title=entry["title"],
            description=entry["description"],
            lead_organisation_id=_lead(organisation_ids.get(entry["lead"]), consenting, scores, domains),
            places=entry["places"],
            domains=domains,
            trainers=[t.id for t in trainers],
            created_by=trainers[0],
            status=entry["status"],
        )
        series = [_series(session, programme, spec) for spec in entry["series"]]
        held = _held(session, series)
        wanted = entry["participants"]
        chosen = _participants(
            [organisation_ids[key] for key in wanted["organisations"]],
            wanted["weakest"],
            programme.lead_organisation_id,
            domains,
            scores,
            rounds if wanted.get("assessed_before_and_after") else None,
            held,
        )
        participants = []  # those with a place: the waiting list attends nothing
        for organisation_id in chosen:
            enrolment = service.enrol(session, programme, organisation_id)
            user = first_users.get(organisation_id)
            sent = [service.add_participant(session, enrolment, user)] if user is not None else []
            if user is None or rng.random() < 0.5:
                sent.append(service.add_participant(session, enrolment, None, next(names)))
            if enrolment.status == EnrolmentStatus.ENROLLED:
                participants.extend(sent)
        _attend_and_rate(session, rng, held, participants, trainers[0], people, today, data["comments"])
    session.flush()


def _series(session: Session, programme: Programme, spec: dict[str, Any]) -> SessionSeries:
    series = service.create_series(
        session,
        programme,
        service.SeriesInput(
            title=spec["title"],
            start=datetime.fromisoformat(spec["start"]),
            end=datetime.fromisoformat(spec["end"]),
            tz=spec["tz"],
            weekdays=tuple(spec["weekdays"]),
            count=spec.get("count"),
            until=date.fromisoformat(spec["until"]) if spec.get("until") else None,
            location=spec.get("location", ""),
            online_url=spec.get("online_url", ""),
        ),
    )
    for moved in spec["moved"]:
        service.move_occurrence(
            session,
            series,
            datetime.fromisoformat(moved["original"]),
            datetime.fromisoformat(moved["start"]),
            datetime.fromisoformat(moved["end"]),
        )
    for cancelled in spec["cancelled"]:
        service.cancel_occurrence(session, series, datetime.fromisoformat(cancelled))
    return series


def _held(
    session: Session, series: Sequence[SessionSeries]
) -> list[tuple[SessionSeries, list[recurrence.Occurrence]]]:
    """Each series with the occurrences that take place (moved ones at their new time, cancelled ones out)."""
    changes = service.changes_of(session, [s.id for s in series])
    return [
        (s, recurrence.occurrences(service.as_series(s, changes.get(s.id, [])), _DISTANT_PAST, _FAR_FUTURE))
        for s in series
    ]


def _latest_scores(session: Session) -> dict[int, dict[str, float]]:
    """Each organisation's validated score per domain at its latest validated round."""
    scores: dict[int, dict[str, float]] = defaultdict(dict)
    for organisation_id, code, score in session.execute(
        select(DomainScore.organisation_id, DomainScore.domain_code, DomainScore.validated_score).where(
            DomainScore.latest, DomainScore.validated_score.is_not(None)
        )
    ):
        scores[organisation_id][code] = score
    return scores


def _validated_rounds(session: Session) -> dict[int, list[tuple[date, datetime]]]:
    """Each organisation's validated rounds: (opened on, validated at, in UTC)."""
    rounds: dict[int, list[tuple[date, datetime]]] = defaultdict(list)
    for organisation_id, opened_on, validated_at in session.execute(
        select(
            AssessmentRound.organisation_id, AssessmentRound.opened_on, AssessmentRound.validated_at
        ).where(
            AssessmentRound.status == RoundStatus.VALIDATED.value, AssessmentRound.validated_at.is_not(None)
        )
    ):
        moment = validated_at if validated_at.tzinfo else validated_at.replace(tzinfo=UTC)
        rounds[organisation_id].append((opened_on, moment))
    return rounds


def _first_representatives(session: Session) -> dict[int, User]:
    """Each organisation's first account (the demo representative for theirs): its participant in a programme."""
    first: dict[int, User] = {}
    for user in session.scalars(select(User).where(User.organisation_id.is_not(None)).order_by(User.id)):
        if user.organisation_id is not None and user.represented_organisation_id is not None:
            first.setdefault(user.organisation_id, user)
    return first


def _strength(scores: Mapping[str, float], domains: Sequence[str]) -> float | None:
    known = [scores[d] for d in domains if d in scores]
    return sum(known) / len(known) if known else None


def _lead(
    named: int | None, consenting: set[int], scores: Mapping[int, dict[str, float]], domains: Sequence[str]
) -> int | None:
    """The lead organisation the file names when it agreed to train peers; else the consenting organisation
    strongest in the domains taught (the assessment demo decides who consents)."""
    if named in consenting:
        return named
    ranked = sorted(
        (-(strength or 0.0), organisation_id)
        for organisation_id in consenting
        if (strength := _strength(scores.get(organisation_id, {}), domains)) is not None
    )
    return ranked[0][1] if ranked else None


def _participants(
    named: list[int],
    weakest: int,
    lead_id: int | None,
    domains: Sequence[str],
    scores: Mapping[int, dict[str, float]],
    rounds: Mapping[int, list[tuple[date, datetime]]] | None,
    held: Sequence[tuple[SessionSeries, list[recurrence.Occurrence]]],
) -> list[int]:
    """The organisations the file names, then the `weakest` in the domains taught; for a finished programme
    only those validated before its first session and assessed again after its last."""
    occurrences = [o for _series, found in held for o in found]
    first_start = min(o.start for o in occurrences).astimezone(UTC)
    last_day = max(o.end for o in occurrences).astimezone(UTC).date()

    def assessed_around(organisation_id: int) -> bool:
        taken = (rounds or {}).get(organisation_id, [])
        before = any(validated < first_start for _opened, validated in taken)
        return before and any(opened > last_day for opened, _validated in taken)

    candidates = [
        (strength, organisation_id)
        for organisation_id, mine in scores.items()
        if organisation_id not in named
        and organisation_id != lead_id
        and (strength := _strength(mine, domains)) is not None
        and (rounds is None or assessed_around(organisation_id))
    ]
    return named + [organisation_id for _strength_, organisation_id in sorted(candidates)[:weakest]]


def _attend_and_rate(
    session: Session,
    rng: random.Random,
    held: Sequence[tuple[SessionSeries, list[recurrence.Occurrence]]],
    participants: Sequence[Participant],
    trainer: User,
    people: Mapping[str, User],
    today: datetime,
    comments: Sequence[str],
) -> None:
    """Attendance of every occurrence over before `today`, marked by the trainer; most of those present with an
    account rate the session, some with a comment."""
    accounts_by_id = {user.id: user for user in people.values()}
    for series, found in held:
        for occurrence in found:
            if occurrence.end > today:
                continue
            presence = {p.id: rng.random() < PRESENT_SHARE for p in participants}
            if not presence:
                continue
            attendance.mark_attendance(session, series, occurrence.original_start, presence, trainer)
            for participant in participants:
                if not presence.get(participant.id) or participant.user_id is None:
                    continue
                if rng.random() >= RATED_SHARE:
                    continue
                user = accounts_by_id.get(participant.user_id) or session.get(User, participant.user_id)
                assert user is not None
                rating = rng.choices((2, 3, 4, 5), weights=(1, 3, 6, 5))[0]
                comment = rng.choice(comments) if rng.random() < COMMENTED_SHARE else ""
                attendance.rate_occurrence(session, series, occurrence.original_start, user, rating, comment)
