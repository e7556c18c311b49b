"""The officer's validation page: reading each respondent's answer and evidence, setting validated scores with
a reason, and validating, through real HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments import service
from crm.assessments.models import AssessmentRound, Framework, IndicatorReview, RoundStatus
from crm.organisations.models import Organisation
from tests.assessments.conftest import framework_document


@pytest.fixture
def organisation(make_organisation: Any) -> Organisation:
    return make_organisation("Sahel Diaspora Network")


@pytest.fixture
def submitted(
    db: Session, organisation: Organisation, framework: Framework, make_representative: Any, open_round: Any
) -> AssessmentRound:
    """A round answered by the chair (all 3, with evidence on one) and the treasurer (all 2), submitted."""
    chair = make_representative(organisation, full_name="Aminata Chair")
    treasurer = make_representative(organisation, full_name="Bakary Treasurer")
    round_ = open_round(organisation, chair, framework)
    shape = service.structure(db, framework)
    for user, choice in ((chair, "3"), (treasurer, "2")):
        response = service.response_of(db, round_, user, role="Chair" if user is chair else "Treasurer")
        for indicator in shape.all_indicators():
            evidence = "Board minutes of May" if user is chair and indicator.code == "finance.first" else None
            service.save_answer(db, response, indicator, service.Choice(choice), evidence, None)
        service.submit_response(db, response, shape)
    service.submit_round(db, round_, shape)
    db.commit()
    return round_


def reread(db: Session) -> None:
    """Read what the app committed: a new transaction (SQLite would keep the snapshot it began with), and
    every loaded record read again."""
    db.rollback()
    db.expire_all()


def indicator_id(db: Session, framework: Framework, code: str) -> int:
    return next(i.id for i in service.structure(db, framework).all_indicators() if i.code == code)


def shown_state(html: str) -> str:
    """The reviews as the confirmation step showed them (its hidden field)."""
    found = re.search(r'name="reviews_state" value="([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


def confirm(client: Any, round_id: int, note: str = "", **kwargs: Any) -> Any:
    """Validate as the page does: ask, read the confirmation step, confirm it."""
    step = client.submit(f"/assessments/{round_id}/validate", {"note": note})
    form = {"note": note, "confirmed": "true", "reviews_state": shown_state(step.text)}
    return client.submit(f"/assessments/{round_id}/validate", form, **kwargs)


def test_officer_sees_who_answered_what_with_their_evidence(
    login: Any, officer: User, submitted: AssessmentRound
) -> None:
    page = login(officer).get(f"/assessments/{submitted.id}/validate")

    assert page.status_code == 200
    assert "Aminata Chair" in page.text and "Bakary Treasurer" in page.text
    assert "Treasurer" in page.text and "Board minutes of May" in page.text
    assert "finance first" in page.text  # the indicator's question
    assert "2.50" in page.text  # the consolidated self score


def test_the_validation_page_sums_up_what_is_left_and_opens_the_domains_to_look_at(
    db: Session,
    login: Any,
    officer: User,
    organisation: Organisation,
    framework: Framework,
    make_representative: Any,
    open_round: Any,
    answer: Any,
) -> None:
    round_ = open_round(organisation, make_representative(organisation), framework)
    codes = [i.code for i in service.structure(db, framework).all_indicators()]
    answer(round_, make_representative(organisation), "3")
    # Two levels apart on one digital indicator: a disagreement.
    answer(
        round_, make_representative(organisation), {c: "1" if c == "digital.first" else "3" for c in codes}
    )
    service.submit_round(db, round_, service.structure(db, framework))
    db.commit()
    client = login(officer)
    client.submit(
        f"/assessments/{round_.id}/reviews/{indicator_id(db, framework, 'finance.second')}",
        {"level": "2", "comment": "No accounts yet."},
    )

    page = client.get(f"/assessments/{round_.id}/validate").text
    summary = page.split('id="validation-summary"', 1)[1].split("</div>\n</div>", 1)[0]
    words = " ".join(re.sub(r"<[^>]+>", " ", summary).split())

    assert "6 indicators" in words and "1 indicator adjusted" in words
    assert "1 disagreement between respondents" in words and "2 respondents" in words
    assert '<a href="#validate" role="button"' in page and 'id="validate"' in page
    domains = {d.code: d.id for d in service.structure(db, framework).domains}
    assert f'<details class="review-domain" id="domain-{domains["governance"]}">' in page
    assert f'<details class="review-domain" id="domain-{domains["finance"]}" open>' in page
    assert f'<details class="review-domain" id="domain-{domains["digital"]}" open>' in page


def test_the_level_options_are_short_and_the_descriptors_listed_beside_them(
    db: Session, login: Any, officer: User, submitted: AssessmentRound, framework: Framework
) -> None:
    target = indicator_id(db, framework, "finance.first")

    page = login(officer).get(f"/assessments/{submitted.id}/validate").text

    assert '<option value="2">Level 2 · Emerging</option>' in page
    assert "<strong>Level 2 · Emerging</strong> — finance first level 2" in page
    # The comment box is tied to the level: the script hides it while the self score is agreed.
    assert f'data-review-comment="comment-field-{target}"' in page
    assert f'<div id="comment-field-{target}" class="review-comment-field">' in page


def test_representative_cannot_open_the_validation_page(
    login: Any, make_representative: Any, organisation: Organisation, submitted: AssessmentRound
) -> None:
    own = login(make_representative(organisation))
    assert own.get(f"/assessments/{submitted.id}/validate").status_code == 403
    assert own.submit(f"/assessments/{submitted.id}/validate", {"confirmed": "true"}).status_code == 403


def test_representative_of_another_organisation_learns_nothing_of_the_round(
    login: Any, make_representative: Any, make_organisation: Any, submitted: AssessmentRound
) -> None:
    other = login(make_representative(make_organisation("Other Association")))
    assert other.get(f"/assessments/{submitted.id}/validate").status_code == 404


def test_a_validated_score_needs_a_comment(
    db: Session, login: Any, officer: User, submitted: AssessmentRound, framework: Framework
) -> None:
    target = indicator_id(db, framework, "finance.first")
    client = login(officer)

    response = client.submit(
        f"/assessments/{submitted.id}/reviews/{target}",
        {"level": "1", "comment": "  "},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert f'id="comment-{target}-error"' in response.text
    assert "Say why the validated score differs" in response.text
    assert service.reviews_of(db, submitted.id) == {}


def test_without_script_a_review_without_comment_comes_back_on_the_whole_page(
    db: Session, login: Any, officer: User, submitted: AssessmentRound, framework: Framework
) -> None:
    target = indicator_id(db, framework, "finance.first")

    response = login(officer).submit(f"/assessments/{submitted.id}/reviews/{target}", {"level": "2"})

    assert response.status_code == 422
    assert "Validate the self-assessment" in response.text
    assert f'id="comment-{target}-error"' in response.text
    assert '<option value="2" selected>' in response.text


def test_a_review_keeps_the_self_score_beside_the_validated_one(
    db: Session, login: Any, officer: User, submitted: AssessmentRound, framework: Framework
) -> None:
    target = indicator_id(db, framework, "finance.first")
    client = login(officer)

    response = client.submit(
        f"/assessments/{submitted.id}/reviews/{target}",
        {"level": "1", "comment": "No budget was shown."},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "Validated level: 1" in response.text and "No budget was shown." in response.text
    # The domain's and the round's figures follow, out of band.
    assert 'id="validation-summary"' in response.text and 'hx-swap-oob="true"' in response.text
    assert "1 indicator adjusted" in response.text
    flags = re.search(
        r'<span id="domain-flags-\d+" class="domain-flags" hx-swap-oob="true">(.*?)</span>\s*$',
        response.text,
        re.S | re.M,
    )
    assert flags and '<span class="badge adjusted">1 adjusted' in flags.group(1), response.text
    reread(db)
    review = db.get(IndicatorReview, service.reviews_of(db, submitted.id)[target].id)
    assert (review.level, review.comment, review.officer_id) == (1, "No budget was shown.", officer.id)

    validated = confirm(client, submitted.id)
    assert validated.status_code == 200  # followed to the results
    reread(db)
    round_ = db.get(AssessmentRound, submitted.id)
    assert round_.status == RoundStatus.VALIDATED
    # Self 2.5 everywhere; validated: finance (1 + 2.5) / 2 = 1.75, so overall (2.5 + 1.75 + 2.5) / 3 = 2.25.
    assert (round_.self_score, round_.validated_score) == (2.5, 2.25)
    results = client.get(f"/assessments/{submitted.id}/results").text
    assert "+0.25 self-rated above validated" in results
    assert "No budget was shown." in results


def test_agreeing_with_the_self_score_withdraws_the_review(
    db: Session, login: Any, officer: User, submitted: AssessmentRound, framework: Framework
) -> None:
    target = indicator_id(db, framework, "governance.first")
    client = login(officer)
    client.submit(f"/assessments/{submitted.id}/reviews/{target}", {"level": "4", "comment": "Strong board."})

    response = client.submit(
        f"/assessments/{submitted.id}/reviews/{target}",
        {"level": "", "comment": "", "version": "1"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/assessments/{submitted.id}/validate#indicator-{target}"
    reread(db)
    assert service.reviews_of(db, submitted.id) == {}


def test_an_indicator_of_another_framework_is_not_found(
    db: Session, login: Any, officer: User, submitted: AssessmentRound, load_framework: Any
) -> None:
    other = load_framework(framework_document(key="other-framework"))
    foreign = service.structure(db, other).all_indicators()[0].id

    response = login(officer).submit(
        f"/assessments/{submitted.id}/reviews/{foreign}", {"level": "2", "comment": "x"}
    )

    assert response.status_code == 404


def test_reviews_and_validation_are_refused_once_the_round_is_no_longer_submitted(
    db: Session, login: Any, officer: User, submitted: AssessmentRound, framework: Framework
) -> None:
    client = login(officer)
    confirm(client, submitted.id)
    target = indicator_id(db, framework, "digital.first")

    review = client.submit(
        f"/assessments/{submitted.id}/reviews/{target}",
        {"level": "2", "comment": "Too late"},
        headers={"HX-Request": "true"},
    )
    again = client.submit(f"/assessments/{submitted.id}/validate", {"confirmed": "true"})

    assert review.status_code == 409 and "not waiting for validation" in review.text
    assert again.status_code == 409 and "not waiting for validation" in again.text


def test_validating_shows_the_scores_once_more_before_storing_them(
    db: Session, login: Any, officer: User, submitted: AssessmentRound
) -> None:
    client = login(officer)

    step = client.submit(f"/assessments/{submitted.id}/validate", {"note": "Good first assessment"})

    assert step.status_code == 200
    assert "Validate with these scores?" in step.text
    assert re.search(r'name="note" value="Good first assessment"', step.text)
    reread(db)
    assert db.get(AssessmentRound, submitted.id).status == RoundStatus.SUBMITTED

    done = client.submit(
        f"/assessments/{submitted.id}/validate",
        {"note": "Good first assessment", "confirmed": "true", "reviews_state": shown_state(step.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/assessments/{submitted.id}/results"
    reread(db)
    round_ = db.get(AssessmentRound, submitted.id)
    assert (round_.status, round_.validation_note, round_.validated_by_id) == (
        RoundStatus.VALIDATED,
        "Good first assessment",
        officer.id,
    )


def test_a_round_still_being_answered_cannot_be_validated(
    db: Session,
    login: Any,
    officer: User,
    organisation: Organisation,
    framework: Framework,
    make_representative: Any,
    open_round: Any,
) -> None:
    round_ = open_round(organisation, make_representative(organisation), framework)
    client = login(officer)

    page = client.get(f"/assessments/{round_.id}/validate")
    refused = client.submit(f"/assessments/{round_.id}/validate", {"confirmed": "true"})

    assert page.status_code == 200 and "has not been submitted yet" in page.text
    assert f'<form method="post" action="/assessments/{round_.id}/validate"' not in page.text
    assert refused.status_code == 409


def test_two_officers_reviewing_one_indicator_never_overwrite_each_other(
    db: Session, login: Any, officer: User, make_user: Any, submitted: AssessmentRound, framework: Framework
) -> None:
    target = indicator_id(db, framework, "governance.first")
    first, second = login(officer), login(make_user("liaison_officer", full_name="Second Officer"))
    url = f"/assessments/{submitted.id}/reviews/{target}"
    # Both opened the page while the indicator had no review (empty version).
    saved = first.submit(
        url, {"level": "3", "comment": "Minutes seen", "version": ""}, headers={"HX-Request": "true"}
    )
    refused = second.submit(
        url, {"level": "1", "comment": "No board", "version": ""}, headers={"HX-Request": "true"}
    )

    assert saved.status_code == 200
    assert refused.status_code == 409
    assert "Another officer saved this review" in refused.text and "No board" in refused.text
    # The refused page shows the first officer's review, with its version for a deliberate second try.
    assert "Minutes seen" in refused.text and 'name="version" value="1"' in refused.text
    reread(db)
    review = service.reviews_of(db, submitted.id)[target]
    assert (review.level, review.comment, review.officer_id) == (3, "Minutes seen", officer.id)

    again = second.submit(
        url, {"level": "1", "comment": "No board", "version": "1"}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 200
    reread(db)
    assert service.reviews_of(db, submitted.id)[target].level == 1


def test_validation_is_confirmed_only_against_the_reviews_it_showed(
    db: Session, login: Any, officer: User, make_user: Any, submitted: AssessmentRound, framework: Framework
) -> None:
    client = login(officer)
    step = client.submit(f"/assessments/{submitted.id}/validate", {"note": ""})
    shown = shown_state(step.text)
    # Meanwhile another officer changes a review: the scores shown are no longer the ones to store.
    other = login(make_user("liaison_officer"))
    target = indicator_id(db, framework, "finance.first")
    other.submit(
        f"/assessments/{submitted.id}/reviews/{target}", {"level": "1", "comment": "No budget", "version": ""}
    )

    refused = client.submit(
        f"/assessments/{submitted.id}/validate", {"note": "", "confirmed": "true", "reviews_state": shown}
    )

    assert refused.status_code == 409
    assert "check the scores again" in refused.text and "Validate with these scores?" in refused.text
    reread(db)
    assert db.get(AssessmentRound, submitted.id).status == RoundStatus.SUBMITTED
    assert confirm(client, submitted.id).status_code == 200
    reread(db)
    assert db.get(AssessmentRound, submitted.id).validated_score == 2.25
