"""Assessments: loading frameworks, opening rounds, saving answers as respondents go, submitting, validating,
the action plan and the figures read back (results, recommendations, portfolio). No HTTP here."""

from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments import comparison, permissions
from crm.assessments.framework import FrameworkError, FrameworkSpec
from crm.assessments.models import (
    ActionStatus,
    AssessmentAnswer,
    AssessmentResponse,
    AssessmentRound,
    Choice,
    DomainScore,
    Framework,
    FrameworkDomain,
    FrameworkIndicator,
    IndicatorReview,
    PlanAction,
    ResponseStatus,
    RoundStatus,
    Text18n,
)
from crm.assessments.plan_schemas import ActionIn, ActionUpdate
from crm.assessments.results import DomainShape, RoundScores, score_round
from crm.assessments.scoring import rounded
from crm.db.base import utcnow
from crm.db.engine import writing
from crm.organisations.models import Organisation
from crm.organisations.service import StaleVersion
from crm.web.i18n import N_
from crm.web.pagination import Page


class Incomplete(Exception):
    """A response submitted with indicators left unanswered (their ids, in questionnaire order)."""

    def __init__(self, missing: list[int]) -> None:
        super().__init__(f"{len(missing)} indicators unanswered")
        self.missing = missing


class NotReady(Exception):
    """The round cannot move on yet; str() says why (for the page and the API)."""


# Frameworks ------------------------------------------------------------------------------------------


def load_framework(session: Session, spec: FrameworkSpec) -> tuple[Framework, bool]:
    """Store a framework version; (framework, False) if this exact file is already loaded. A version that an
    assessment uses never changes: loading different content under its number is refused."""
    existing = session.scalar(
        select(Framework).where(Framework.key == spec.key, Framework.version == spec.version)
    )
    if existing is not None and existing.content_hash == spec.content_hash:
        return existing, False
    previous = None
    if spec.previous_version is not None:
        previous = session.scalar(
            select(Framework).where(Framework.key == spec.key, Framework.version == spec.previous_version)
        )
        if previous is None:
            raise FrameworkError(
                f"previous_version: version {spec.previous_version} of “{spec.key}” is not loaded; load it first"
            )
        known = set(
            session.scalars(
                select(FrameworkIndicator.code).where(FrameworkIndicator.framework_id == previous.id)
            )
        )
        for d, domain in enumerate(spec.domains):
            for i, indicator in enumerate(domain.indicators):
                unknown = [code for code in indicator.maps_from if code not in known]
                if unknown:
                    raise FrameworkError(
                        f"domains[{d}].indicators[{i}].maps_to.from: “{unknown[0]}” is not an indicator of "
                        f"version {spec.previous_version}"
                    )
    if existing is not None:
        used = session.scalar(select(func.count()).where(AssessmentRound.framework_id == existing.id)) or 0
        if used:
            raise FrameworkError(
                f"version: version {spec.version} of “{spec.key}” is used by {used} assessments and cannot "
                "change; give the changed file a new version number"
            )
        session.delete(existing)
        session.flush()
    framework = Framework(
        key=spec.key,
        version=spec.version,
        title=spec.title,
        description=spec.description,
        previous_id=previous.id if previous else None,
        content_hash=spec.content_hash,
    )
    session.add(framework)
    session.flush()
    for position, domain_spec in enumerate(spec.domains, start=1):
        domain = FrameworkDomain(
            framework_id=framework.id,
            code=domain_spec.code,
            position=position,
            name=domain_spec.name,
            description=domain_spec.description,
        )
        session.add(domain)
        session.flush()
        session.add_all(
            FrameworkIndicator(
                framework_id=framework.id,
                domain_id=domain.id,
                code=indicator.code,
                position=n,
                question=indicator.question,
                guidance=indicator.guidance,
                levels=indicator.levels,
                mapping_kind=indicator.mapping_kind,
                maps_from=indicator.maps_from,
            )
            for n, indicator in enumerate(domain_spec.indicators, start=1)
        )
    session.flush()
    return framework, True


def list_frameworks(session: Session) -> Sequence[Framework]:
    return session.scalars(select(Framework).order_by(Framework.key, Framework.version.desc())).all()


def get_framework(session: Session, framework_id: int) -> Framework | None:
    return session.get(Framework, framework_id)


def current_framework(session: Session) -> Framework | None:
    """The framework new rounds answer: the highest version of the framework loaded last."""
    return session.scalar(
        select(Framework).order_by(Framework.loaded_at.desc(), Framework.version.desc()).limit(1)
    )


@dataclass
class Structure:
    """A framework's domains and indicators in questionnaire order (two queries, whatever the size)."""

    framework: Framework
    domains: list[FrameworkDomain]
    indicators: dict[int, list[FrameworkIndicator]]

    def all_indicators(self) -> list[FrameworkIndicator]:
        return [i for d in self.domains for i in self.indicators[d.id]]

    def shapes(self) -> list[DomainShape]:
        return [DomainShape(d.id, d.code, tuple(i.id for i in self.indicators[d.id])) for d in self.domains]

    def refs(self) -> list[comparison.IndicatorRef]:
        codes = {d.id: d.code for d in self.domains}
        return [
            comparison.IndicatorRef(i.code, codes[i.domain_id], i.mapping_kind, tuple(i.maps_from))
            for i in self.all_indicators()
        ]

    def number_of(self, indicator_id: int) -> str:
        """The question's number as the questionnaire shows it: step, then place in the step (“3.2”)."""
        step = self.step_of(indicator_id)
        listed = self.indicators[self.domains[step - 1].id]
        return f"{step}.{[i.id for i in listed].index(indicator_id) + 1}"

    def step_of(self, indicator_id: int) -> int:
        for step, domain in enumerate(self.domains, start=1):
            if any(i.id == indicator_id for i in self.indicators[domain.id]):
                return step
        raise KeyError(indicator_id)


# A framework version never changes once stored (a changed file replaces an unused version under a new id), so
# its domains and indicators are read once per process and kept detached, read-only. The key names the database
# and the row as loaded, so another database (tests, the benchmark) never reads this one's entries.
_Kept = tuple[list[FrameworkDomain], dict[int, list[FrameworkIndicator]]]
_STRUCTURES: dict[tuple[str, int, str, datetime], _Kept] = {}
_STRUCTURES_KEPT = 64


def structure(session: Session, framework: Framework) -> Structure:
    """The framework's domains and indicators in order: two queries the first time, none after."""
    key = (str(session.get_bind().engine.url), framework.id, framework.content_hash, framework.loaded_at)
    kept = _STRUCTURES.get(key)
    if kept is None:
        kept = _read_structure(session, framework)
        if len(_STRUCTURES) >= _STRUCTURES_KEPT:
            _STRUCTURES.clear()
        _STRUCTURES[key] = kept
    return Structure(framework, *kept)


def _read_structure(session: Session, framework: Framework) -> _Kept:
    domains = list(
        session.scalars(
            select(FrameworkDomain)
            .where(FrameworkDomain.framework_id == framework.id)
            .order_by(FrameworkDomain.position)
        )
    )
    indicators: dict[int, list[FrameworkIndicator]] = {d.id: [] for d in domains}
    for indicator in session.scalars(
        select(FrameworkIndicator)
        .where(FrameworkIndicator.framework_id == framework.id)
        .order_by(FrameworkIndicator.position)
    ):
        indicators[indicator.domain_id].append(indicator)
    # Detached, so that no session expires or changes them once they are shared between requests.
    for row in [*domains, *(i for listed in indicators.values() for i in listed)]:
        session.expunge(row)
    return domains, indicators


# Rounds and responses ----------------------------------------------------------------------------------


def get_round(session: Session, round_id: int) -> AssessmentRound | None:
    return session.scalar(select(AssessmentRound).where(AssessmentRound.id == round_id))


def rounds_of(session: Session, organisation_id: int) -> Sequence[AssessmentRound]:
    return session.scalars(
        select(AssessmentRound)
        .where(AssessmentRound.organisation_id == organisation_id)
        .order_by(AssessmentRound.opened_on.desc(), AssessmentRound.id.desc())
    ).all()


def round_in_progress(session: Session, organisation_id: int) -> AssessmentRound | None:
    return session.scalar(
        select(AssessmentRound).where(
            AssessmentRound.organisation_id == organisation_id,
            AssessmentRound.status != RoundStatus.VALIDATED,
        )
    )


def start_round(
    session: Session, organisation: Organisation, user: User, framework: Framework, today: date
) -> AssessmentRound:
    """The organisation's round in progress, opened now if it has none (two people starting one at once get
    the same round: the database allows one in progress per organisation)."""
    existing = round_in_progress(session, organisation.id)
    if existing is not None:
        return existing
    round_ = AssessmentRound(
        organisation_id=organisation.id, framework_id=framework.id, opened_on=today, opened_by_id=user.id
    )
    try:
        with session.begin_nested():
            session.add(round_)
    except IntegrityError:
        existing = round_in_progress(session, organisation.id)
        if existing is None:
            raise
        return existing
    return round_


def responses_of(session: Session, round_id: int) -> list[tuple[AssessmentResponse, User]]:
    return [
        (response, user)
        for response, user in session.execute(
            select(AssessmentResponse, User)
            .join(User, User.id == AssessmentResponse.respondent_id)
            .where(AssessmentResponse.round_id == round_id)
            .order_by(AssessmentResponse.created_at, AssessmentResponse.id)
        )
    ]


def get_response(session: Session, response_id: int) -> AssessmentResponse | None:
    return session.get(AssessmentResponse, response_id)


def response_of(
    session: Session, round_: AssessmentRound, user: User, role: str | None = None
) -> AssessmentResponse:
    """This respondent's response in the round, begun now if they have none."""
    query = select(AssessmentResponse).where(
        AssessmentResponse.round_id == round_.id, AssessmentResponse.respondent_id == user.id
    )
    existing = session.scalar(query)
    if existing is not None:
        return existing
    response = AssessmentResponse(round_id=round_.id, respondent_id=user.id, respondent_role=role)
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:
        existing = session.scalar(query)
        if existing is None:
            raise
        return existing
    return response


def answers_of(session: Session, response_id: int) -> dict[int, AssessmentAnswer]:
    return {
        a.indicator_id: a
        for a in session.scalars(select(AssessmentAnswer).where(AssessmentAnswer.response_id == response_id))
    }


def save_answer(
    session: Session,
    response: AssessmentResponse,
    indicator: FrameworkIndicator,
    choice: Choice | None,
    evidence: str | None,
    version: int | None,
) -> AssessmentAnswer:
    """Save one answer as a draft. `version` is the answer's version the respondent's page holds (None when it
    showed no answer yet): another tab's newer save raises StaleVersion instead of being overwritten."""
    if response.status != ResponseStatus.DRAFT:
        raise NotReady("submitted")
    answer = session.scalar(
        select(AssessmentAnswer).where(
            AssessmentAnswer.response_id == response.id, AssessmentAnswer.indicator_id == indicator.id
        )
    )
    if answer is None:
        if version is not None:
            raise StaleVersion()
        answer = AssessmentAnswer(response_id=response.id, indicator_id=indicator.id)
        try:
            with session.begin_nested():
                answer.choice = choice.value if choice else None
                answer.evidence = evidence
                session.add(answer)
        except IntegrityError:
            raise StaleVersion() from None
        return answer
    if version != answer.version:
        raise StaleVersion()
    answer.choice = choice.value if choice else None
    answer.evidence = evidence
    session.flush()
    return answer


def set_step(session: Session, response: AssessmentResponse, step: int) -> None:
    """Remember the step the respondent is on, without touching the response's version."""
    if response.current_step != step:
        session.execute(
            update(AssessmentResponse.__table__)
            .where(AssessmentResponse.__table__.c.id == response.id)
            .values(current_step=step)
        )


def missing_indicators(shape: Structure, answers: dict[int, AssessmentAnswer]) -> list[FrameworkIndicator]:
    """Indicators with no answer chosen (an evidence note alone is not an answer)."""
    return [i for i in shape.all_indicators() if i.id not in answers or answers[i.id].choice is None]


def submit_response(session: Session, response: AssessmentResponse, shape: Structure) -> None:
    if response.status != ResponseStatus.DRAFT:
        return
    missing = missing_indicators(shape, answers_of(session, response.id))
    if missing:
        raise Incomplete([i.id for i in missing])
    response.status = ResponseStatus.SUBMITTED.value
    response.submitted_at = utcnow()
    session.flush()


def submitted_answers(session: Session, round_id: int) -> dict[int, dict[int, str | None]]:
    """Submitted responses' answers: response id → indicator id → choice (drafts do not count)."""
    answers: dict[int, dict[int, str | None]] = defaultdict(dict)
    for response_id, indicator_id, choice in session.execute(
        select(AssessmentAnswer.response_id, AssessmentAnswer.indicator_id, AssessmentAnswer.choice)
        .join(AssessmentResponse, AssessmentResponse.id == AssessmentAnswer.response_id)
        .where(AssessmentResponse.round_id == round_id, AssessmentResponse.status == ResponseStatus.SUBMITTED)
    ):
        answers[response_id][indicator_id] = choice
    return dict(answers)


def reviews_of(session: Session, round_id: int) -> dict[int, IndicatorReview]:
    return {
        r.indicator_id: r
        for r in session.scalars(select(IndicatorReview).where(IndicatorReview.round_id == round_id))
    }


def scores_of(
    session: Session,
    round_: AssessmentRound,
    shape: Structure,
    reviews: dict[int, IndicatorReview] | None = None,
) -> RoundScores:
    """The round's scores from its submitted answers and the officer's reviews (read here unless given)."""
    if reviews is None:
        reviews = reviews_of(session, round_.id)
    levels = {i: r.level for i, r in reviews.items()}
    return score_round(shape.shapes(), submitted_answers(session, round_.id), levels)


def _store_scores(
    session: Session,
    round_: AssessmentRound,
    scores: RoundScores,
    changes: dict[str, float | None],
    previous_scores: dict[str, float | None],
) -> None:
    session.execute(delete(DomainScore).where(DomainScore.round_id == round_.id))
    session.add_all(
        DomainScore(
            round_id=round_.id,
            domain_id=d.id,
            domain_code=d.code,
            organisation_id=round_.organisation_id,
            self_score=rounded(d.self_score),
            validated_score=rounded(d.validated_score) if round_.status == RoundStatus.VALIDATED else None,
            validated_band=(d.band.value if d.band else None)
            if round_.status == RoundStatus.VALIDATED
            else None,
            spread=rounded(d.spread.width) if d.spread else None,
            previous_score=rounded(previous_scores.get(d.code)),
            change=rounded(changes.get(d.code)),
            latest=round_.latest,
        )
        for d in scores.domains
    )
    session.flush()


def submit_round(session: Session, round_: AssessmentRound, shape: Structure) -> None:
    """Close the round to answers and send it for validation: needs at least one submitted response."""
    if round_.status != RoundStatus.OPEN:
        raise NotReady("not open")
    answers = submitted_answers(session, round_.id)
    if not answers:
        raise NotReady("no submitted response")
    round_.status = RoundStatus.SUBMITTED.value
    round_.submitted_at = utcnow()
    scores = score_round(shape.shapes(), answers, {})
    round_.self_score = rounded(scores.self_score)
    session.flush()
    _store_scores(session, round_, scores, {}, {})


def review_indicator(
    session: Session,
    round_: AssessmentRound,
    indicator: FrameworkIndicator,
    level: int | None,
    comment: str,
    officer: User,
    version: int | None,
) -> IndicatorReview | None:
    """Set (or, with no level, withdraw) the officer's validated score for one indicator. `version` is the
    review's version the officer's page holds (None when it showed none): a review another officer saved or
    withdrew since raises StaleVersion instead of being overwritten."""
    if round_.status != RoundStatus.SUBMITTED:
        raise NotReady("not submitted")
    review = session.scalar(
        select(IndicatorReview).where(
            IndicatorReview.round_id == round_.id, IndicatorReview.indicator_id == indicator.id
        )
    )
    if (review.version if review else None) != version:
        raise StaleVersion()
    if level is None:
        if review is not None:
            session.delete(review)
            session.flush()
        return None
    if review is None:
        review = IndicatorReview(
            round_id=round_.id, indicator_id=indicator.id, level=level, comment=comment, officer_id=officer.id
        )
        try:
            with session.begin_nested():
                session.add(review)
        except IntegrityError:
            raise StaleVersion() from None
        return review
    review.level, review.comment, review.officer_id = level, comment, officer.id
    session.flush()
    return review


def reviews_state(reviews: dict[int, IndicatorReview]) -> str:
    """What the officer saw of the reviews, as a short digest: validation is confirmed only against the
    reviews it showed (another officer's review since then asks for a new look)."""
    seen = ",".join(f"{i}:{r.version}" for i, r in sorted(reviews.items()))
    return hashlib.sha256(seen.encode()).hexdigest()[:16]


@dataclass
class Comparison:
    previous: AssessmentRound | None
    previous_domain_scores: dict[str, float | None]
    changes: dict[str, float | None]
    overall_change: float | None
    same_framework: bool


def previous_comparable(session: Session, round_: AssessmentRound) -> AssessmentRound | None:
    """The latest validated round before this one whose framework compares: the same version, or the version
    this one's framework maps to."""
    frameworks = [round_.framework_id]
    if round_.framework.previous_id is not None:
        frameworks.append(round_.framework.previous_id)
    query = (
        select(AssessmentRound)
        .where(
            AssessmentRound.organisation_id == round_.organisation_id,
            AssessmentRound.status == RoundStatus.VALIDATED,
            AssessmentRound.framework_id.in_(frameworks),
            AssessmentRound.id != round_.id,
        )
        .order_by(AssessmentRound.opened_on.desc(), AssessmentRound.id.desc())
        .limit(1)
    )
    if round_.validated_at is not None:
        query = query.where(AssessmentRound.validated_at < round_.validated_at)
    return session.scalar(query)


def compare(session: Session, round_: AssessmentRound, shape: Structure, scores: RoundScores) -> Comparison:
    previous = previous_comparable(session, round_)
    if previous is None:
        return Comparison(None, {}, {}, None, True)
    same = previous.framework_id == round_.framework_id
    previous_shape = structure(session, previous.framework) if not same else shape
    previous_scores = scores_of(session, previous, previous_shape)
    by_code = {i.code: previous_scores.indicator_scores()[i.id] for i in previous_shape.all_indicators()}
    before = comparison.previous_domain_scores(shape.refs(), by_code, same)
    current = {d.code: d.validated_score for d in scores.domains}
    changes = comparison.domain_changes(current, before)
    return Comparison(previous, before, changes, comparison.overall_change(changes), same)


def stored_comparison(
    session: Session, round_: AssessmentRound, shape: Structure, scores: RoundScores
) -> Comparison:
    """A validated round's comparison as `compare` found it at validation and `_store_scores` kept it (one
    short query instead of scoring the previous round's answers again); computed afresh for rows stored
    before the previous score was kept."""
    if round_.previous_round_id is None:
        return Comparison(None, {}, {}, None, True)
    stored = session.execute(
        select(DomainScore.domain_code, DomainScore.previous_score, DomainScore.change).where(
            DomainScore.round_id == round_.id
        )
    ).all()
    complete = {code for code, _before, _change in stored} == {d.code for d in shape.domains}
    if not complete or any(change is not None and before is None for _code, before, change in stored):
        return compare(session, round_, shape, scores)
    previous = session.get(AssessmentRound, round_.previous_round_id)
    assert previous is not None
    return Comparison(
        previous,
        {code: before for code, before, _change in stored},
        {code: change for code, _before, change in stored},
        round_.change,
        previous.framework_id == round_.framework_id,
    )


def validate_round(
    session: Session, round_: AssessmentRound, officer: User, note: str | None, shape: Structure
) -> RoundScores:
    """The officer agrees the scores: both self and validated scores are kept; the organisation's band and
    its latest round follow."""
    if round_.status != RoundStatus.SUBMITTED:
        raise NotReady("not submitted")
    round_.status = RoundStatus.VALIDATED.value
    round_.validated_at = utcnow()
    round_.validated_by_id = officer.id
    round_.validation_note = note
    scores = scores_of(session, round_, shape)
    round_.validated_score = rounded(scores.validated_score)
    round_.validated_band = scores.band.value if scores.band else None
    found = compare(session, round_, shape, scores)
    round_.previous_round_id = found.previous.id if found.previous else None
    round_.change = rounded(found.overall_change)
    _mark_latest(session, round_)
    _store_scores(session, round_, scores, found.changes, found.previous_domain_scores)
    return scores


def _mark_latest(session: Session, round_: AssessmentRound) -> None:
    organisation_id = round_.organisation_id
    session.execute(
        update(AssessmentRound)
        .where(AssessmentRound.organisation_id == organisation_id, AssessmentRound.latest.is_(True))
        .values(latest=False)
    )
    session.execute(
        update(DomainScore)
        .where(DomainScore.organisation_id == organisation_id, DomainScore.latest.is_(True))
        .values(latest=False)
    )
    round_.latest = True
    session.execute(
        update(Organisation.__table__)
        .where(Organisation.__table__.c.id == organisation_id)
        .values(capacity_band=round_.validated_band)
    )
    session.flush()


# The action plan --------------------------------------------------------------------------------------


def actions_of(session: Session, round_id: int) -> Sequence[PlanAction]:
    return session.scalars(
        select(PlanAction)
        .where(PlanAction.round_id == round_id)
        .order_by(PlanAction.due_on.is_(None), PlanAction.due_on, PlanAction.id)
    ).all()


def get_action(session: Session, action_id: int) -> PlanAction | None:
    return session.get(PlanAction, action_id)


def add_action(session: Session, round_: AssessmentRound, **fields: object) -> PlanAction:
    if round_.status != RoundStatus.VALIDATED:
        raise NotReady("not validated")
    action = PlanAction(round_id=round_.id, **fields)
    session.add(action)
    session.flush()
    return action


def update_action(session: Session, action: PlanAction, version: int, **fields: object) -> None:
    if version != action.version:
        raise StaleVersion()
    for key, value in fields.items():
        setattr(action, key, value)
    session.flush()


@dataclass(frozen=True)
class PlanProgress:
    total: int
    done: int
    overdue: int

    @property
    def percent(self) -> int:
        counted = self.total
        return round(100 * self.done / counted) if counted else 0


def plan_progress(actions: Sequence[PlanAction], today: date) -> PlanProgress:
    live = [a for a in actions if a.status != ActionStatus.DROPPED]
    return PlanProgress(
        total=len(live),
        done=sum(a.status == ActionStatus.DONE for a in live),
        overdue=sum(
            a.status != ActionStatus.DONE and a.due_on is not None and a.due_on < today for a in live
        ),
    )


# Results pages ---------------------------------------------------------------------------------------


def organisation_of(session: Session, round_: AssessmentRound) -> Organisation:
    organisation = session.get(Organisation, round_.organisation_id)
    assert organisation is not None  # the round's foreign key cascades
    return organisation


def indicator_in(shape: Structure, indicator_id: int) -> FrameworkIndicator | None:
    """The indicator of this framework with that id, or None (an id from another framework included)."""
    return next((i for i in shape.all_indicators() if i.id == indicator_id), None)


def submitted_respondents(session: Session, round_id: int) -> list[tuple[AssessmentResponse, User]]:
    """The respondents whose answers count (submitted responses), in the order they began."""
    return [(r, u) for r, u in responses_of(session, round_id) if r.status == ResponseStatus.SUBMITTED]


@dataclass(frozen=True)
class Answered:
    choice: str | None
    evidence: str | None


def answers_with_evidence(session: Session, round_id: int) -> dict[int, dict[int, Answered]]:
    """Submitted responses' answers with their evidence notes: indicator id → response id → answer."""
    found: dict[int, dict[int, Answered]] = defaultdict(dict)
    for response_id, indicator_id, choice, evidence in session.execute(
        select(
            AssessmentAnswer.response_id,
            AssessmentAnswer.indicator_id,
            AssessmentAnswer.choice,
            AssessmentAnswer.evidence,
        )
        .join(AssessmentResponse, AssessmentResponse.id == AssessmentAnswer.response_id)
        .where(AssessmentResponse.round_id == round_id, AssessmentResponse.status == ResponseStatus.SUBMITTED)
    ):
        found[indicator_id][response_id] = Answered(choice, evidence)
    return dict(found)


def names_of(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return {
        user_id: User.name_to_show(full_name, email)
        for user_id, full_name, email in session.execute(
            select(User.id, User.full_name, User.email).where(User.id.in_(ids))
        )
    }


def choice_counts(choices: Iterable[str | None]) -> dict[str, int]:
    """How many respondents chose each level, "not applicable" and "don't know": what the organisation sees
    of individual answers, which never ties one person's answers together across indicators."""
    counts = {choice.value: 0 for choice in Choice}
    for choice in choices:
        if choice in counts:
            counts[choice] += 1
    return counts


class Trend(enum.StrEnum):
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    DECLINED = "declined"
    NOT_COMPARABLE = "not_comparable"


# Scores are shown with two decimals: a change that does not show there is no change.
STEADY = 0.005


def trend_of(change: float | None) -> Trend:
    if change is None:
        return Trend.NOT_COMPARABLE
    if change >= STEADY:
        return Trend.IMPROVED
    if change <= -STEADY:
        return Trend.DECLINED
    return Trend.UNCHANGED


@dataclass(frozen=True)
class PlannedDomain:
    """A domain the previous plan acted on, read against how its score moved since."""

    name: Text18n
    planned: int
    done: int
    change: float | None
    trend: Trend


def previous_plan_against_change(
    session: Session, previous: AssessmentRound, shape: Structure, changes: dict[str, float | None]
) -> list[PlannedDomain]:
    """Per domain of the previous round's plan: its actions (done/total, dropped ones left out) next to this
    round's change in the domain of the same code (none where the domain does not compare)."""
    actions = [a for a in actions_of(session, previous.id) if a.status != ActionStatus.DROPPED]
    if not actions:
        return []
    if previous.framework_id == shape.framework.id:
        domains = {d.id: d for d in shape.domains}
    else:
        ids = {a.domain_id for a in actions}
        domains = {
            d.id: d for d in session.scalars(select(FrameworkDomain).where(FrameworkDomain.id.in_(ids)))
        }
    by_domain: dict[int, list[PlanAction]] = defaultdict(list)
    for action in actions:
        by_domain[action.domain_id].append(action)
    planned = []
    for domain_id, domain_actions in sorted(by_domain.items(), key=lambda item: domains[item[0]].position):
        domain = domains[domain_id]
        change = changes.get(domain.code)
        planned.append(
            PlannedDomain(
                name=domain.name,
                planned=len(domain_actions),
                done=sum(a.status == ActionStatus.DONE for a in domain_actions),
                change=change,
                trend=trend_of(change),
            )
        )
    return planned


class PlanError(Exception):
    """An action aimed outside the round's framework: field → message (marked with N_, translated where shown)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


WRONG_DOMAIN = N_("Choose one of this assessment's domains.")
WRONG_INDICATOR = N_("Choose an indicator of the chosen domain, or none.")


def _action_fields(shape: Structure, form: ActionIn) -> dict[str, object]:
    if form.domain_id not in shape.indicators:
        raise PlanError({"domain_id": WRONG_DOMAIN})
    if form.indicator_id is not None and form.indicator_id not in {
        i.id for i in shape.indicators[form.domain_id]
    }:
        raise PlanError({"indicator_id": WRONG_INDICATOR})
    return {
        "title": form.title,
        "domain_id": form.domain_id,
        "indicator_id": form.indicator_id,
        "owner": form.owner,
        "due_on": form.due_on,
        "status": form.status.value,
    }


def plan_action(session: Session, round_: AssessmentRound, shape: Structure, form: ActionIn) -> PlanAction:
    """Add an action to the round's plan, aimed at one of its framework's domains (and indicators)."""
    return add_action(session, round_, **_action_fields(shape, form))


def replan_action(session: Session, action: PlanAction, shape: Structure, form: ActionUpdate) -> None:
    """Change an action; StaleVersion if someone changed it since the form was shown."""
    update_action(session, action, form.version, **_action_fields(shape, form))


# API ---------------------------------------------------------------------------------------------------


def rounds_page(
    session: Session,
    user: User,
    page: int,
    per_page: int,
    organisation_id: int | None = None,
    status: RoundStatus | None = None,
) -> Page[AssessmentRound]:
    """The rounds this user may see (permissions.visible_rounds), the latest opened first."""
    query = select(AssessmentRound).where(permissions.visible_rounds(user))
    if organisation_id is not None:
        query = query.where(AssessmentRound.organisation_id == organisation_id)
    if status is not None:
        query = query.where(AssessmentRound.status == status.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AssessmentRound.opened_on.desc(), AssessmentRound.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return Page(items=rows, number=page, per_page=per_page, total=total)


def open_round(
    session: Session, organisation: Organisation, user: User, today: date
) -> tuple[AssessmentRound, bool]:
    """The organisation's round in progress, or one opened now on the current framework (True then)."""
    existing = round_in_progress(session, organisation.id)
    if existing is not None:
        return existing, False
    framework = current_framework(session)
    if framework is None:
        raise NotReady("no framework")
    return start_round(session, organisation, user, framework, today), True


def own_response(session: Session, round_: AssessmentRound, user: User) -> AssessmentResponse | None:
    """This respondent's response in the round if they began one; unlike response_of, begins none."""
    return session.scalar(
        select(AssessmentResponse).where(
            AssessmentResponse.round_id == round_.id, AssessmentResponse.respondent_id == user.id
        )
    )


def indicator_of(session: Session, round_: AssessmentRound, indicator_id: int) -> FrameworkIndicator | None:
    """One of the round's questions: an indicator of another framework is none of them."""
    return session.scalar(
        select(FrameworkIndicator).where(
            FrameworkIndicator.id == indicator_id, FrameworkIndicator.framework_id == round_.framework_id
        )
    )


@dataclass
class RoundResults:
    """Everything a round's results show: scores, change since the previous round, who answered, reviews."""

    shape: Structure
    scores: RoundScores
    comparison: Comparison
    # The submitted responses the scores count, by response id, with their respondents.
    respondents: dict[int, tuple[AssessmentResponse, User]]
    reviews: dict[int, IndicatorReview]


def results_of(session: Session, round_: AssessmentRound) -> RoundResults:
    shape = structure(session, round_.framework)
    scores = scores_of(session, round_, shape)
    respondents = {
        response.id: (response, user) for response, user in submitted_respondents(session, round_.id)
    }
    return RoundResults(
        shape=shape,
        scores=scores,
        comparison=compare(session, round_, shape, scores),
        respondents=respondents,
        reviews=reviews_of(session, round_.id),
    )


# Questionnaire pages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundRow:
    """A round in its organisation's list, with how many responses were begun and how many submitted."""

    round: AssessmentRound
    submitted: int
    responses: int


def round_rows(session: Session, organisation_id: int) -> list[RoundRow]:
    """The organisation's rounds, latest first, with their response counts (two queries)."""
    rounds = rounds_of(session, organisation_id)
    counts: dict[int, tuple[int, int]] = {}
    if rounds:
        submitted = func.sum(case((AssessmentResponse.status == ResponseStatus.SUBMITTED.value, 1), else_=0))
        counts = {
            round_id: (int(done or 0), int(begun))
            for round_id, done, begun in session.execute(
                select(AssessmentResponse.round_id, submitted, func.count())
                .where(AssessmentResponse.round_id.in_([r.id for r in rounds]))
                .group_by(AssessmentResponse.round_id)
            )
        }
    return [RoundRow(r, *counts.get(r.id, (0, 0))) for r in rounds]


@dataclass(frozen=True)
class Respondent:
    response: AssessmentResponse
    user: User
    answered: int


@dataclass(frozen=True)
class RoundOverview:
    """A round's respondents with how far each got, and the size of its framework."""

    respondents: list[Respondent]
    domains: int
    indicators: int

    @property
    def submitted(self) -> int:
        return sum(r.response.status == ResponseStatus.SUBMITTED for r in self.respondents)

    @property
    def drafts(self) -> int:
        return len(self.respondents) - self.submitted

    def of(self, user: User) -> Respondent | None:
        return next((r for r in self.respondents if r.user.id == user.id), None)


def _framework_size(session: Session, framework_id: int) -> tuple[int, int]:
    domains = select(func.count(FrameworkDomain.id)).where(FrameworkDomain.framework_id == framework_id)
    indicators = select(func.count(FrameworkIndicator.id)).where(
        FrameworkIndicator.framework_id == framework_id
    )
    found = session.execute(select(domains.scalar_subquery(), indicators.scalar_subquery())).one()
    return int(found[0]), int(found[1])


def round_overview(session: Session, round_: AssessmentRound) -> RoundOverview:
    """Three queries, however many respondents and answers."""
    answered: dict[int, int] = {
        response_id: count
        for response_id, count in session.execute(
            select(AssessmentAnswer.response_id, func.count())
            .join(AssessmentResponse, AssessmentResponse.id == AssessmentAnswer.response_id)
            .where(AssessmentResponse.round_id == round_.id, AssessmentAnswer.choice.is_not(None))
            .group_by(AssessmentAnswer.response_id)
        )
    }
    respondents = [
        Respondent(response, user, answered.get(response.id, 0))
        for response, user in responses_of(session, round_.id)
    ]
    return RoundOverview(respondents, *_framework_size(session, round_.framework_id))


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int

    @property
    def complete(self) -> bool:
        return self.answered >= self.total


def progress_of(shape: Structure, answers: dict[int, AssessmentAnswer]) -> Progress:
    """Indicators with a chosen answer (an evidence note alone is not an answer), out of all."""
    total = len(shape.all_indicators())
    return Progress(total - len(missing_indicators(shape, answers)), total)


def response_progress(session: Session, response: AssessmentResponse, framework_id: int) -> Progress:
    """progress_of, counted by the database in one statement (after an autosave, nothing else is loaded)."""
    answered = select(func.count(AssessmentAnswer.id)).where(
        AssessmentAnswer.response_id == response.id, AssessmentAnswer.choice.is_not(None)
    )
    total = select(func.count(FrameworkIndicator.id)).where(FrameworkIndicator.framework_id == framework_id)
    found = session.execute(select(answered.scalar_subquery(), total.scalar_subquery())).one()
    return Progress(int(found[0]), int(found[1]))


def answers_can_change(response: AssessmentResponse, round_: AssessmentRound) -> bool:
    """A response is answered while it is a draft and its round has not been sent for validation."""
    return response.status == ResponseStatus.DRAFT and round_.status == RoundStatus.OPEN


def remember_step(session: Session, response: AssessmentResponse, step: int) -> None:
    """set_step from a page that otherwise only reads: in a short transaction of its own (SQLite takes the
    write lock as a writing transaction begins), and only when the step changed."""
    if response.current_step != step:
        with writing(session):
            set_step(session, response, step)


@dataclass(frozen=True)
class AnswerEntry:
    """One indicator's answer as a questionnaire page sent it, with the answer's version that page showed."""

    indicator: FrameworkIndicator
    choice: Choice | None
    evidence: str | None
    version: int | None


def save_own_answer(
    session: Session, response: AssessmentResponse, round_: AssessmentRound, entry: AnswerEntry
) -> AssessmentAnswer:
    """Autosave one answer: NotReady once the response is submitted or its round sent for validation,
    StaleVersion when another tab or window saved this answer since the page showed it."""
    if not answers_can_change(response, round_):
        raise NotReady("closed")
    return save_answer(session, response, entry.indicator, entry.choice, entry.evidence, entry.version)


def save_step(
    session: Session,
    response: AssessmentResponse,
    round_: AssessmentRound,
    entries: list[AnswerEntry],
    saved: dict[int, AssessmentAnswer],
) -> list[int]:
    """Save a step's answers as its form sent them (`saved`: the response's answers as stored). Returns the
    indicators that another tab or window changed since the page showed them: those keep what was saved there.
    An answer sent as it is stored, or an empty one never saved, is left alone (no new version)."""
    if not answers_can_change(response, round_):
        raise NotReady("closed")
    conflicts = []
    for entry in entries:
        choice = entry.choice.value if entry.choice else None
        current = saved.get(entry.indicator.id)
        if current is None and choice is None and not entry.evidence:
            continue
        if current is not None and (current.choice, current.evidence) == (choice, entry.evidence):
            continue
        try:
            save_answer(session, response, entry.indicator, entry.choice, entry.evidence, entry.version)
        except StaleVersion:
            conflicts.append(entry.indicator.id)
    return conflicts


@dataclass(frozen=True)
class StepReview:
    """One step of the questionnaire as its review shows it: how many of its indicators are answered, and
    which are not."""

    step: int
    domain: FrameworkDomain
    total: int
    missing: list[FrameworkIndicator]

    @property
    def answered(self) -> int:
        return self.total - len(self.missing)


def review_steps(shape: Structure, answers: dict[int, AssessmentAnswer]) -> list[StepReview]:
    missing = {i.id for i in missing_indicators(shape, answers)}
    return [
        StepReview(
            step,
            domain,
            len(shape.indicators[domain.id]),
            [i for i in shape.indicators[domain.id] if i.id in missing],
        )
        for step, domain in enumerate(shape.domains, start=1)
    ]
