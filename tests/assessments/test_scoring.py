"""Scoring, as pure functions: means of scored answers only, bands at their edges, no score from nothing."""

from __future__ import annotations

import pytest

from crm.assessments.results import DomainShape, score_round
from crm.assessments.scoring import Band, capacity_band, domain_score, indicator_score, overall_score, spread


def test_not_applicable_and_dont_know_are_left_out_not_counted_as_zero() -> None:
    assert indicator_score(["4", "na", "dk", "2"]) == 3
    assert indicator_score(["na", "dk"]) is None
    assert indicator_score([None]) is None


def test_a_domain_with_no_scored_answer_has_no_score_rather_than_zero() -> None:
    assert domain_score([None, None]) is None
    assert domain_score([None, 2.0, 3.0]) == 2.5


def test_overall_is_the_mean_of_the_domains_that_have_a_score() -> None:
    assert overall_score([1.0, None, 4.0]) == 2.5
    assert overall_score([]) is None


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (1.0, Band.NASCENT),
        (1.7499, Band.NASCENT),
        (1.75, Band.EMERGING),
        (2.4999, Band.EMERGING),
        (2.5, Band.EXPANDING),
        (3.2499, Band.EXPANDING),
        (3.25, Band.MATURE),
        (4.0, Band.MATURE),
        (None, None),
    ],
)
def test_capacity_bands_start_at_their_lower_edge(score: float | None, band: Band | None) -> None:
    assert capacity_band(score) == band


def test_spread_shows_respondents_who_disagree() -> None:
    found = spread([1, None, 4])
    assert found is not None and (found.low, found.high, found.disagreement) == (1, 4, True)
    found = spread([2, 3])
    assert found is not None and not found.disagreement
    assert spread([None]) is None


def test_a_round_scores_each_indicator_over_its_respondents_and_keeps_the_officers_level_beside_it() -> None:
    domains = [DomainShape(1, "governance", (11, 12)), DomainShape(2, "finance", (21,))]
    answers = {100: {11: "1", 12: "na", 21: "dk"}, 200: {11: "3", 12: "4", 21: "dk"}}
    scores = score_round(domains, answers, reviews={12: 2})
    governance, finance = scores.domains
    first, second = governance.indicators
    assert (first.self_score, first.validated_score) == (2, 2)
    assert (second.self_score, second.validated_score, second.adjusted) == (4, 2, True)
    assert governance.self_score == 3 and governance.validated_score == 2
    assert finance.self_score is None and finance.band is None
    assert scores.self_score == 3 and scores.validated_score == 2
    assert scores.respondents == 2
    # Respondent 100 scores governance 1, respondent 200 scores it 3.5: their domain scores are the spread.
    assert governance.spread is not None and (governance.spread.low, governance.spread.high) == (1, 3.5)
