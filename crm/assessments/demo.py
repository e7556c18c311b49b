"""Demo assessments: two or three years of validated rounds for most demo organisations (answers inserted in
bulk; submitted, validated and planned through the service), with officer adjustments, one round answered by
three people who disagree, a round waiting for validation and action plans, so progress, disagreement and
recommendations show at first run. Deterministic: the same database every time."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from crm.accounts import service as accounts
from crm.accounts.models import User
from crm.assessments import service
from crm.assessments.models import (
    ActionStatus,
    AssessmentAnswer,
    AssessmentRound,
    Choice,
    Framework,
    FrameworkIndicator,
)
from crm.organisations.models import Organisation
from crm.settings import PROJECT_ROOT

# (opened on, framework version): a round a year, the last one on the revised framework.
ROUND_DATES = ((date(2024, 3, 12), 1), (date(2025, 3, 18), 1), (date(2026, 3, 10), 2))
# Actions the demo plans agree per domain code (data, like the other demo files; not interface text).
ACTIONS_FILE = PROJECT_ROOT / "seeds" / "demo" / "plan_actions.json"
OWNERS = ("Chair", "Treasurer", "Secretary", "Volunteer lead", "Communication lead")


@dataclass
class Profile:
    """An organisation's capacity per domain code in 2024 and how much it grows a year."""

    base: dict[str, float]
    growth: float


def _profile(rng: random.Random, domains: Sequence[str]) -> Profile:
    level = rng.uniform(1.3, 3.4)
    return Profile(
        {d: min(4.0, max(1.0, level + rng.uniform(-0.9, 0.9))) for d in domains}, rng.uniform(-0.2, 0.5)
    )


def _choice(rng: random.Random, target: float, spread: float = 0.6) -> Choice:
    roll = rng.random()
    if roll < 0.04:
        return Choice.NOT_APPLICABLE
    if roll < 0.07:
        return Choice.DONT_KNOW
    level = round(min(4.0, max(1.0, target + rng.uniform(-spread, spread))))
    return Choice(str(level))


def _answer(
    session: Session,
    rng: random.Random,
    round_: AssessmentRound,
    respondent: User,
    role: str,
    indicators: Sequence[FrameworkIndicator],
    codes: dict[int, str],
    targets: dict[str, float],
    shape: service.Structure,
    bias: float = 0.0,
) -> None:
    response = service.response_of(session, round_, respondent, role)
    # One INSERT per response rather than one save per answer: the demo loads thousands of answers.
    session.execute(
        insert(AssessmentAnswer),
        [
            {
                "response_id": response.id,
                "indicator_id": indicator.id,
                "choice": _choice(rng, targets[codes[indicator.domain_id]] + bias).value,
                "evidence": "Minutes of the general assembly" if rng.random() < 0.25 else None,
                "version": 1,
            }
            for indicator in indicators
        ],
    )
    service.submit_response(session, response, shape)


def _respondent(
    session: Session, organisation: Organisation, known: dict[int, User], password_hash: str, n: int
) -> User:
    """The organisation's demo representative, or an account made for it (not a demo login)."""
    if organisation.id in known and n == 0:
        return known[organisation.id]
    return accounts.create_user(
        session,
        f"respondent{n}.org{organisation.id}@demo.example.org",
        "unused",
        ["org_representative"],
        full_name=f"{('Chair', 'Treasurer', 'Volunteer lead')[n % 3]} of {organisation.acronym or organisation.name}"[
            :120
        ],
        password_hash=password_hash,
        organisation_id=organisation.id,
    )


def load_demo_assessments(
    session: Session,
    organisations: Sequence[Organisation],
    representatives: dict[int, User],
    officer: User,
    frameworks: dict[int, Framework],
    password_hash: str,
    featured: Organisation | None,
) -> None:
    """Rounds for about four organisations in five; `featured` (the demo representative's organisation) gets
    three rounds, the last answered by three respondents who disagree."""
    rng = random.Random(2026)
    titles = json.loads(ACTIONS_FILE.read_text(encoding="utf-8"))
    shapes = {version: service.structure(session, framework) for version, framework in frameworks.items()}
    domain_codes = [d.code for d in shapes[1].domains]
    waiting_done = False
    for index, organisation in enumerate(organisations):
        if organisation is not featured and rng.random() < 0.2:
            continue
        profile = _profile(rng, domain_codes)
        rounds = ROUND_DATES if organisation is featured or rng.random() < 0.6 else ROUND_DATES[1:]
        respondent = _respondent(session, organisation, representatives, password_hash, 0)
        for year, (opened_on, version) in enumerate(rounds):
            shape = shapes[version]
            codes = {d.id: d.code for d in shape.domains}
            targets = {code: profile.base[code] + profile.growth * year for code in domain_codes}
            round_ = service.start_round(session, organisation, respondent, frameworks[version], opened_on)
            indicators = shape.all_indicators()
            last = year == len(rounds) - 1
            if organisation is featured and last:
                # Three respondents: the chair rates high, the treasurer low, the volunteer lead in between.
                others = [
                    _respondent(session, organisation, representatives, password_hash, n) for n in (1, 2)
                ]
                for person, role, bias in (
                    (respondent, "Chair", 0.7),
                    (others[0], "Treasurer", -0.8),
                    (others[1], "Volunteer lead", 0.0),
                ):
                    _answer(session, rng, round_, person, role, indicators, codes, targets, shape, bias)
            else:
                _answer(session, rng, round_, respondent, "Chair", indicators, codes, targets, shape, 0.3)
            service.submit_round(session, round_, shape)
            submitted_at = datetime.combine(opened_on + timedelta(days=20), datetime.min.time(), UTC)
            _backdate_responses(session, round_, opened_on, submitted_at)
            if last and not waiting_done and organisation is not featured and index % 3 == 1:
                # One round waits for the officer, so the validation page has something to show.
                round_.submitted_at = submitted_at
                waiting_done = True
                continue
            _review_some(session, rng, round_, indicators, officer, shape)
            service.validate_round(session, round_, officer, None, shape)
            round_.submitted_at = submitted_at
            round_.validated_at = submitted_at + timedelta(days=14)
            _plan(session, rng, round_, shape, 0.7 if not last else 0.2, opened_on, titles)
        if profile.base and max(profile.base.values()) >= 3.2 and rng.random() < 0.7:
            organisation.peer_trainer_consent = True
    session.flush()


def _backdate_responses(session: Session, round_: AssessmentRound, opened_on: date, sent: datetime) -> None:
    """Responses dated within their round, as if answered that spring (the service stamps them now)."""
    started = datetime.combine(opened_on, datetime.min.time(), UTC) + timedelta(hours=9)
    for response, _user in service.responses_of(session, round_.id):
        response.created_at = started
        response.submitted_at = sent - timedelta(days=2)
        response.updated_at = response.submitted_at


def _review_some(
    session: Session,
    rng: random.Random,
    round_: AssessmentRound,
    indicators: Sequence[FrameworkIndicator],
    officer: User,
    shape: service.Structure,
) -> None:
    """Self-assessment runs high: the officer lowers a few scores the evidence does not support."""
    scores = service.scores_of(session, round_, shape)
    by_id = {i.indicator_id: i for d in scores.domains for i in d.indicators}
    for indicator in rng.sample(list(indicators), k=3):
        current = by_id[indicator.id].self_score
        if current is not None and current >= 2:
            service.review_indicator(
                session,
                round_,
                indicator,
                int(current) - 1,
                "The evidence shown (minutes, accounts) supports one level lower for now.",
                officer,
                None,
            )


def _plan(
    session: Session,
    rng: random.Random,
    round_: AssessmentRound,
    shape: service.Structure,
    done_share: float,
    on: date,
    titles: dict[str, str],
) -> None:
    scores = service.scores_of(session, round_, shape)
    for domain in scores.weakest(2):
        status = (
            ActionStatus.DONE
            if rng.random() < done_share
            else rng.choice((ActionStatus.PLANNED, ActionStatus.IN_PROGRESS))
        )
        service.add_action(
            session,
            round_,
            domain_id=domain.id,
            title=titles[domain.code],
            owner=rng.choice(OWNERS),
            due_on=on + timedelta(days=rng.randint(120, 300)),
            status=status.value,
        )
