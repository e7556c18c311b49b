"""The results page of a round, as each reader gets it: its state before validation, self and validated scores
side by side, the chart, strengths and weaknesses, per-domain and per-indicator figures, the anonymity rule for
individual answers, and the comparison with the previous assessment, across framework versions only through
the mapping."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments import service
from crm.assessments.models import AssessmentRound, DomainScore, Framework
from crm.assessments.scoring import rounded
from crm.organisations.models import Organisation
from tests.assessments.conftest import framework_document


@pytest.fixture
def organisation(make_organisation: Any) -> Organisation:
    return make_organisation("Sahel Diaspora Network")


def submitted_by(
    db: Session,
    organisation: Organisation,
    framework: Framework,
    answers: list[tuple[User, Any]],
    open_round: Any,
) -> AssessmentRound:
    """A round answered by each (respondent, choices) and submitted."""
    round_ = open_round(organisation, answers[0][0], framework)
    shape = service.structure(db, framework)
    for user, choices in answers:
        response = service.response_of(db, round_, user)
        for indicator in shape.all_indicators():
            choice = choices if isinstance(choices, str) else choices[indicator.code]
            service.save_answer(db, response, indicator, service.Choice(choice), None, None)
        service.submit_response(db, response, shape)
    service.submit_round(db, round_, shape)
    db.commit()
    return round_


def validate(
    db: Session, round_: AssessmentRound, officer: User, reviews: dict[str, tuple[int, str]]
) -> None:
    framework = db.get(Framework, round_.framework_id)
    shape = service.structure(db, framework)
    for indicator in shape.all_indicators():
        if indicator.code in reviews:
            level, comment = reviews[indicator.code]
            service.review_indicator(db, round_, indicator, level, comment, officer, None)
    service.validate_round(db, round_, officer, None, shape)
    db.commit()


def text_of(html: str) -> str:
    """The page's words, tags and repeated spaces taken out."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_round_being_answered_has_no_results_yet(
    login: Any, make_representative: Any, organisation: Organisation, framework: Framework, open_round: Any
) -> None:
    chair = make_representative(organisation)
    round_ = open_round(organisation, chair, framework)

    page = login(chair).get(f"/assessments/{round_.id}/results")

    assert page.status_code == 200
    assert "has not been submitted yet" in page.text
    assert "domain-chart" not in page.text


def test_a_submitted_round_shows_its_self_scores_while_waiting_for_validation(
    db: Session,
    login: Any,
    make_representative: Any,
    organisation: Organisation,
    framework: Framework,
    open_round: Any,
) -> None:
    chair = make_representative(organisation)
    round_ = submitted_by(db, organisation, framework, [(chair, "3")], open_round)

    page = login(chair).get(f"/assessments/{round_.id}/results")

    assert page.status_code == 200
    assert "Waiting for validation" in page.text
    assert "domain-chart" in page.text and 'class="bar self"' in page.text
    assert 'class="bar validated"' not in page.text
    assert "Capacity development plan" not in page.text


def test_validated_results_show_self_and_validated_scores_side_by_side(
    db: Session,
    login: Any,
    make_representative: Any,
    organisation: Organisation,
    framework: Framework,
    open_round: Any,
    officer: User,
) -> None:
    chair = make_representative(organisation)
    round_ = submitted_by(db, organisation, framework, [(chair, "3")], open_round)
    validate(
        db, round_, officer, {"finance.first": (1, "No budget on file."), "finance.second": (2, "Partial.")}
    )

    page = login(chair).get(f"/assessments/{round_.id}/results")
    words = text_of(page.text)

    assert page.status_code == 200
    # Self 3 everywhere; validated finance 1.5, so overall (3 + 1.5 + 3) / 3 = 2.5.
    assert "Self-assessed 3.00 Expanding" in words and "Validated score 2.50 Expanding" in words
    assert "+0.50 self-rated above validated" in words
    assert "No budget on file." in page.text and "Partial." in page.text
    assert page.text.count('class="bar validated"') == 3
    # Finance is the weakest; the table gives the same numbers as the chart.
    weakest = words.split("The three weakest domains")[1]
    assert weakest.startswith(" Finance 1.50")
    assert "Finance 3.00 1.50 Nascent" in words
    assert "No earlier validated assessment to compare with yet." in words


@pytest.fixture
def two_disagreeing(
    db: Session,
    make_representative: Any,
    organisation: Organisation,
    framework: Framework,
    open_round: Any,
    officer: User,
) -> tuple[User, AssessmentRound]:
    """A validated round answered by two people far apart: (the chair, the round); the treasurer answered 1."""
    chair = make_representative(organisation, full_name="Aminata Chair")
    treasurer = make_representative(organisation, full_name="Bakary Treasurer")
    round_ = submitted_by(db, organisation, framework, [(chair, "3"), (treasurer, "1")], open_round)
    validate(db, round_, officer, {})
    return chair, round_


def test_the_officer_sees_who_answered_what(
    login: Any, officer: User, two_disagreeing: tuple[User, AssessmentRound]
) -> None:
    _chair, round_ = two_disagreeing

    page = login(officer).get(f"/assessments/{round_.id}/results")

    assert "Who answered what" in page.text
    assert "Aminata Chair" in page.text and "Bakary Treasurer" in page.text


def test_the_round_status_badge_is_coloured_as_on_the_rounds_list(
    db: Session,
    login: Any,
    make_representative: Any,
    organisation: Organisation,
    framework: Framework,
    open_round: Any,
    officer: User,
) -> None:
    chair = make_representative(organisation)
    round_ = submitted_by(db, organisation, framework, [(chair, "3")], open_round)
    client = login(officer)

    waiting = [client.get(f"/assessments/{round_.id}/{page}").text for page in ("results", "validate")]
    validate(db, round_, officer, {})
    validated = client.get(f"/assessments/{round_.id}/results").text
    listed = client.get(f"/organisations/{organisation.id}/assessments").text

    for page in waiting:
        assert '<span class="badge warn">Waiting for validation</span>' in page
    assert '<span class="badge ok">Validated</span>' in validated
    assert '<span class="badge ok">Validated</span>' in listed
    assert "status-" not in " ".join([*waiting, validated])


def test_with_two_respondents_the_organisation_sees_no_individual_answers(
    login: Any, two_disagreeing: tuple[User, AssessmentRound]
) -> None:
    chair, round_ = two_disagreeing

    page = login(chair).get(f"/assessments/{round_.id}/results")

    assert "Individual answers are hidden: fewer than 3 people answered" in page.text
    assert "Bakary Treasurer" not in page.text
    assert "How many respondents chose each answer" not in page.text
    # The consolidated score and the spread are shown all the same, disagreement flagged.
    assert "1–3" in page.text and "Disagreement" in page.text


def test_with_three_respondents_the_organisation_sees_how_many_chose_each_level_without_names(
    db: Session,
    login: Any,
    make_representative: Any,
    organisation: Organisation,
    framework: Framework,
    open_round: Any,
    officer: User,
) -> None:
    people = [make_representative(organisation, full_name=f"Respondent {n}") for n in (1, 2, 3)]
    round_ = submitted_by(
        db, organisation, framework, [(people[0], "3"), (people[1], "3"), (people[2], "na")], open_round
    )
    validate(db, round_, officer, {})

    page = login(people[0]).get(f"/assessments/{round_.id}/results")

    assert "How many respondents chose each answer" in page.text
    assert "Respondent 2" not in page.text and "Respondent 3" not in page.text
    assert "Who answered what" not in page.text
    # Per indicator: nobody at 1, 2 or 4, two at 3, one "not applicable", nobody "don't know".
    rows = re.findall(r"<tr><th scope=\"row\">[^<]*</th>((?:<td>\d+</td>){6})</tr>", page.text)
    assert len(rows) == 6
    assert all(re.findall(r"\d+", row) == ["0", "0", "2", "0", "1", "0"] for row in rows)


def test_a_representative_of_another_organisation_cannot_see_the_results(
    db: Session,
    login: Any,
    make_representative: Any,
    make_organisation: Any,
    organisation: Organisation,
    framework: Framework,
    validated_round: Any,
) -> None:
    round_ = validated_round(organisation, framework, "3")
    other = login(make_representative(make_organisation("Other Association")))

    assert other.get(f"/assessments/{round_.id}/results").status_code == 404
    assert other.hx_get(f"/assessments/{round_.id}/results").status_code == 404


def test_the_previous_assessment_is_overlaid_and_the_change_shown(
    login: Any, officer: User, organisation: Organisation, framework: Framework, validated_round: Any
) -> None:
    first = validated_round(organisation, framework, "2", on=date(2025, 3, 1))
    second = validated_round(organisation, framework, "3", on=date(2026, 3, 1))

    page = login(officer).get(f"/assessments/{second.id}/results")
    words = text_of(page.text)

    assert page.text.count('class="previous"') == 3
    assert "Finance 3.00 3.00 Expanding 2.00 +1.00" in words
    assert f'href="/assessments/{first.id}/results"' in page.text


def version_two() -> dict[str, Any]:
    """Version 2 of the test framework, mapped to version 1: governance the same, finance split into
    budgeting from finance.first and reporting from finance.second renamed, digital gains a new indicator."""

    def text(words: str) -> dict[str, str]:
        return {"en": words, "fr": f"{words} (fr)"}

    def indicator(code: str, maps_to: dict[str, Any] | None) -> dict[str, Any]:
        item: dict[str, Any] = {
            "code": code,
            "question": text(code.replace(".", " ")),
            "levels": [text(f"{code} level {n}") for n in range(1, 5)],
        }
        if maps_to is not None:
            item["maps_to"] = maps_to
        return item

    same = {"kind": "same", "from": []}
    return framework_document(
        version=2,
        previous_version=1,
        domains=[
            {
                "code": "governance",
                "name": text("Governance"),
                "indicators": [
                    indicator("governance.first", {**same, "from": ["governance.first"]}),
                    indicator("governance.second", {**same, "from": ["governance.second"]}),
                ],
            },
            {
                "code": "finance",
                "name": text("Finance"),
                "indicators": [
                    indicator("finance.budgeting", {"kind": "split", "from": ["finance.first"]}),
                    indicator("finance.forecasting", {"kind": "split", "from": ["finance.first"]}),
                    indicator(
                        "finance.reporting", {"kind": "merged", "from": ["finance.first", "finance.second"]}
                    ),
                ],
            },
            {
                "code": "digital",
                "name": text("Digital"),
                "indicators": [
                    indicator("digital.first", {**same, "from": ["digital.first"]}),
                    indicator("digital.security", {"kind": "new", "from": []}),
                ],
            },
        ],
    )


def test_across_framework_versions_only_mapped_domains_compare(
    login: Any,
    officer: User,
    organisation: Organisation,
    framework: Framework,
    load_framework: Any,
    validated_round: Any,
) -> None:
    validated_round(organisation, framework, "2", on=date(2025, 3, 1))
    newer = load_framework(version_two())
    second = validated_round(organisation, newer, "3", on=date(2026, 3, 1))

    words = text_of(login(officer).get(f"/assessments/{second.id}/results").text)

    assert "Governance 3.00 3.00 Expanding 2.00 +1.00" in words
    assert "Finance 3.00 3.00 Expanding 2.00 +1.00" in words
    # Digital holds a new indicator: nothing earlier compares with it.
    assert "Digital 3.00 3.00 Expanding Not comparable: the framework changed" in words


@pytest.mark.parametrize("across_versions", [False, True], ids=["same version", "across versions"])
def test_the_comparison_kept_at_validation_is_the_one_the_rule_finds(
    db: Session,
    organisation: Organisation,
    framework: Framework,
    load_framework: Any,
    validated_round: Any,
    across_versions: bool,
) -> None:
    earlier = {"governance.first": "1", "governance.second": "2", "finance.first": "4", "finance.second": "1"}
    validated_round(
        organisation, framework, {**earlier, "digital.first": "3", "digital.second": "4"}, on=date(2025, 3, 1)
    )
    newer = load_framework(version_two()) if across_versions else framework
    later = validated_round(organisation, newer, "3", on=date(2026, 3, 1))
    shape = service.structure(db, newer)
    scores = service.scores_of(db, later, shape)

    def figures(found: service.Comparison) -> tuple[Any, ...]:
        return (
            found.previous.id if found.previous else None,
            {code: rounded(score) for code, score in found.previous_domain_scores.items()},
            {code: rounded(change) for code, change in found.changes.items()},
            rounded(found.overall_change),
            found.same_framework,
        )

    computed = figures(service.compare(db, later, shape, scores))
    assert figures(service.stored_comparison(db, later, shape, scores)) == computed
    assert computed[0] is not None and any(change is not None for change in computed[2].values())

    rows = db.scalars(select(DomainScore).where(DomainScore.round_id == later.id)).all()
    assert {row.domain_code: row.previous_score for row in rows} == computed[1]

    # Rows kept before the previous score was stored are compared afresh, to the same figures.
    for row in rows:
        row.previous_score = None
    db.flush()
    assert figures(service.stored_comparison(db, later, shape, scores)) == computed
