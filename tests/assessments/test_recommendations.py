"""Peers recommended for an organisation's weakest domains: who qualifies (consent to be listed, mature in that
domain by the latest validated assessment, not the organisation itself, not merged away), the reason given,
and what a representative reads of a peer: its name and the domain, never its scores."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments import recommendations, service
from crm.assessments.models import AssessmentRound, Framework
from crm.organisations.models import Organisation
from tests.assessments.test_results import text_of

WEAK_IN_FINANCE = {
    "governance.first": "3",
    "governance.second": "3",
    "finance.first": "1",
    "finance.second": "2",
} | {
    "digital.first": "3",
    "digital.second": "2",
}
# Finance 4 (mature), governance 3.5 (mature), digital 2.
STRONG_IN_FINANCE = {
    "governance.first": "4",
    "governance.second": "3",
    "finance.first": "4",
    "finance.second": "4",
} | {
    "digital.first": "2",
    "digital.second": "2",
}


@pytest.fixture
def organisation(make_organisation: Any) -> Organisation:
    return make_organisation("Sahel Diaspora Network")


@pytest.fixture
def make_peer(db: Session, make_organisation: Any, framework: Framework, validated_round: Any) -> Any:
    def make(
        name: str, choices: dict[str, str] | str = STRONG_IN_FINANCE, consent: bool = True
    ) -> Organisation:
        peer = make_organisation(name)
        peer.peer_trainer_consent = consent
        db.commit()
        validated_round(peer, framework, choices, on=date(2025, 6, 1))
        return peer

    return make


@pytest.fixture
def weak(organisation: Organisation, framework: Framework, validated_round: Any) -> AssessmentRound:
    return validated_round(organisation, framework, WEAK_IN_FINANCE, on=date(2026, 3, 1))


def recommended(db: Session, viewer: User, round_: AssessmentRound) -> dict[str, list[str]]:
    """Peer names per weak domain code, as the results page asks for them."""
    framework = db.get(Framework, round_.framework_id)
    shape = service.structure(db, framework)
    scores = service.scores_of(db, round_, shape)
    domains = {d.id: d for d in shape.domains}
    weakest = [domains[d.id] for d in recommendations.weak_domains_to_strengthen(scores.domains)]
    found = recommendations.recommendations(db, viewer, round_.organisation_id, framework, weakest)
    return {w.code: [p.name for p in w.peers] for w in found}


def test_a_consenting_peer_mature_in_a_weak_domain_is_recommended_with_its_reason(
    db: Session, officer: User, make_peer: Any, weak: AssessmentRound, framework: Framework
) -> None:
    make_peer("Finance Mentors")
    shape = service.structure(db, framework)
    finance = next(d for d in shape.domains if d.code == "finance")

    (found,) = recommendations.recommendations(db, officer, weak.organisation_id, framework, [finance])

    (peer,) = found.peers
    assert peer.name == "Finance Mentors"
    assert (
        peer.reason("en") == "Mature in “Finance” by its latest validated assessment; agreed to train peers."
    )


def test_only_the_weak_domains_below_mature_are_looked_at(
    db: Session, officer: User, make_peer: Any, weak: AssessmentRound
) -> None:
    make_peer("Finance Mentors")

    # Finance 1.5, digital 2.5 and governance 3 are the weakest, none mature: the peer is mature in two of them.
    assert recommended(db, officer, weak) == {
        "finance": ["Finance Mentors"],
        "digital": [],
        "governance": ["Finance Mentors"],
    }


def test_a_peer_that_did_not_agree_to_be_listed_is_not_recommended(
    db: Session, officer: User, make_peer: Any, weak: AssessmentRound
) -> None:
    make_peer("Quiet Experts", consent=False)

    assert recommended(db, officer, weak)["finance"] == []


def test_only_the_latest_validated_assessment_of_a_peer_counts(
    db: Session,
    officer: User,
    make_peer: Any,
    weak: AssessmentRound,
    framework: Framework,
    validated_round: Any,
) -> None:
    peer = make_peer("Once Strong")
    validated_round(peer, framework, "2", on=date(2025, 12, 1))

    assert recommended(db, officer, weak)["finance"] == []


def test_the_organisation_itself_is_never_recommended_to_itself(
    db: Session,
    officer: User,
    organisation: Organisation,
    weak: AssessmentRound,
    framework: Framework,
    validated_round: Any,
) -> None:
    organisation.peer_trainer_consent = True
    db.commit()
    validated_round(organisation, framework, STRONG_IN_FINANCE, on=date(2026, 9, 1))

    # Read on its earlier round, whose finance was weak: its own later, mature finance is not a peer.
    assert recommended(db, officer, weak)["finance"] == []


def test_a_peer_merged_into_another_record_is_not_recommended(
    db: Session, officer: User, make_peer: Any, make_organisation: Any, weak: AssessmentRound
) -> None:
    peer = make_peer("Duplicate Mentors")
    peer.merged_into_id = make_organisation("Surviving Record").id
    db.commit()

    assert recommended(db, officer, weak)["finance"] == []


def test_a_representative_reads_the_peers_name_and_domain_but_never_its_scores(
    db: Session,
    login: Any,
    make_representative: Any,
    organisation: Organisation,
    make_peer: Any,
    weak: AssessmentRound,
) -> None:
    make_peer("Finance Mentors")

    page = login(make_representative(organisation)).get(f"/assessments/{weak.id}/results").text
    section = text_of(page.split('id="recommendations"')[1])

    assert "Finance Finance Mentors Mature in “Finance”" in section
    assert re.search(r"\d\.\d", section) is None
    assert "once training programmes exist" in section
