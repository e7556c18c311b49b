"""The demo shows assessments at first run: progress over years and framework versions, disagreement between
respondents, a round waiting for the officer, action plans, and peers to recommend."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import seeding
from crm.accounts import service as accounts
from crm.assessments.models import AssessmentResponse, AssessmentRound, DomainScore, Framework, PlanAction
from crm.organisations.models import Organisation


def test_the_demo_has_assessments_that_show_progress_disagreement_and_peers(db: Session) -> None:
    seeding.load_demo(db)
    db.commit()
    organisations = db.scalar(select(func.count()).select_from(Organisation)) or 0
    assessed = db.scalar(select(func.count(func.distinct(AssessmentRound.organisation_id)))) or 0
    assert assessed >= organisations * 0.6
    assert db.scalar(select(func.count()).select_from(Framework)) == 2
    versions_used = db.scalar(select(func.count(func.distinct(AssessmentRound.framework_id))))
    assert versions_used == 2
    # Progress: rounds compared with an earlier one, across the framework versions too.
    assert (db.scalar(select(func.count()).where(AssessmentRound.change.is_not(None))) or 0) >= 20
    assert db.scalar(select(func.count()).where(AssessmentRound.status == "submitted")) == 1
    # The demo representative's organisation: three rounds, the last answered by three people who disagree.
    rep = accounts.get_user_by_email(db, "rep@demo.example.org")
    assert rep is not None and rep.organisation_id is not None
    latest = db.scalar(
        select(AssessmentRound).where(
            AssessmentRound.organisation_id == rep.organisation_id, AssessmentRound.latest
        )
    )
    assert latest is not None and latest.previous_round_id is not None
    respondents = db.scalar(select(func.count()).where(AssessmentResponse.round_id == latest.id))
    assert respondents == 3
    widest = db.scalar(select(func.max(DomainScore.spread)).where(DomainScore.round_id == latest.id))
    assert widest is not None and widest >= 1
    assert (db.scalar(select(func.count()).select_from(PlanAction)) or 0) >= 50
    # Peers to recommend: consenting organisations mature in some domain of their latest round.
    peers = db.scalar(
        select(func.count(func.distinct(DomainScore.organisation_id)))
        .join(Organisation, Organisation.id == DomainScore.organisation_id)
        .where(DomainScore.latest, DomainScore.validated_band == "mature", Organisation.peer_trainer_consent)
    )
    assert (peers or 0) >= 5
