"""The questionnaire pages through HTTP: an organisation's rounds, a round, one domain per step, autosave with
two tabs, resuming, reviewing and submitting, and who may open what."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments import service
from crm.assessments.models import AssessmentRound, Framework, FrameworkIndicator
from crm.organisations.models import Organisation
from tests.assessments.conftest import framework_document

HTMX = {"HX-Request": "true"}


@pytest.fixture
def organisation(make_organisation: Any) -> Organisation:
    return make_organisation("Sahel Teachers Abroad", consent_to_share=False)


@pytest.fixture
def chair(make_representative: Any, organisation: Organisation) -> User:
    return make_representative(organisation, email="chair@example.org", full_name="Aminata Chair")


@pytest.fixture
def treasurer(make_representative: Any, organisation: Organisation) -> User:
    return make_representative(organisation, email="treasurer@example.org", full_name="Bakary Treasurer")


@pytest.fixture
def round_(open_round: Any, organisation: Organisation, chair: User, framework: Framework) -> AssessmentRound:
    return open_round(organisation, chair, framework)


@pytest.fixture
def indicators(db: Session, framework: Framework) -> dict[str, FrameworkIndicator]:
    return {i.code: i for i in service.structure(db, framework).all_indicators()}


def begin(client: Any, round_: AssessmentRound, role: str = "") -> int:
    """Begin answering through the round page; the id of the response the page redirects to."""
    answered = client.submit(f"/assessments/{round_.id}/respond", {"role": role}, follow_redirects=False)
    assert answered.status_code == 303, answered.text
    found = re.search(r"/assessments/responses/(\d+)/steps/(\d+)$", answered.headers["location"])
    assert found, answered.headers["location"]
    return int(found.group(1))


def autosave(
    client: Any,
    response_id: int,
    indicator: FrameworkIndicator,
    choice: str = "",
    evidence: str = "",
    version: Any = "",
) -> Any:
    i = indicator.id
    return client.submit(
        f"/assessments/responses/{response_id}/answers/{i}",
        {f"choice-{i}": choice, f"evidence-{i}": evidence, f"version-{i}": version},
        headers=HTMX,
    )


def saved_version(html: str, indicator: FrameworkIndicator) -> str:
    found = re.search(rf'id="version-{indicator.id}" value="(\d*)"', html)
    assert found, html
    return found.group(1)


def checked(html: str, indicator: FrameworkIndicator) -> str | None:
    found = re.search(rf'id="choice-{indicator.id}-(\w+)"[^>]*? checked', html)
    return found.group(1) if found else None


def fresh(db: Session) -> None:
    """Read what the app committed: a new transaction (SQLite would read the last one's snapshot), and the
    test's objects reloaded."""
    db.rollback()
    db.expire_all()


def stored(db: Session, response_id: int) -> dict[int, tuple[str | None, str | None]]:
    fresh(db)
    return {i: (a.choice, a.evidence) for i, a in service.answers_of(db, response_id).items()}


# Answering ---------------------------------------------------------------------------------------------


def test_an_autosaved_answer_is_there_when_the_respondent_comes_back(
    login: Any, db: Session, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_, role="Chair")
    first = indicators["finance.first"]

    step = client.get(f"/assessments/responses/{response_id}/steps/2")
    assert step.status_code == 200
    assert "Domain 2 of 3" in step.text and "0 of 6 indicators answered" in step.text
    saved = autosave(client, response_id, first, "3", "Audited accounts 2025")
    assert saved.status_code == 200
    assert "Saved at" in saved.text and 'hx-swap-oob="true"' in saved.text
    assert "1 of 6 indicators answered" in saved.text

    # The browser closed: a new client of the same person finds the answer and the step where they stopped.
    later = login(chair)
    page = later.get(f"/assessments/{round_.id}")
    assert "Continue my answers (domain 2 of 3)" in page.text
    assert f'/assessments/responses/{response_id}/steps/2"' in page.text
    again = later.get(f"/assessments/responses/{response_id}/steps/2")
    assert checked(again.text, first) == "3"
    assert "Audited accounts 2025" in again.text
    assert stored(db, response_id) == {first.id: ("3", "Audited accounts 2025")}
    assert service.get_response(db, response_id).respondent_role == "Chair"


def test_each_indicator_offers_four_levels_not_applicable_and_dont_know(
    login: Any, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    page = client.get(f"/assessments/responses/{response_id}/steps/1").text
    first = indicators["governance.first"]

    assert '<legend><span class="q-number">1.1</span> governance first</legend>' in page
    for level, band in enumerate(("Nascent", "Emerging", "Expanding", "Mature"), start=1):
        assert f"Level {level} · {band}" in page
        assert f"governance first level {level}" in page
        assert f'<label class="q-choice" for="choice-{first.id}-{level}">' in page
    assert 'value="na"' in page and 'value="dk"' in page
    assert "Not applicable" in page and "Don’t know" in page
    assert f'<label for="evidence-{first.id}"' in page
    assert f'hx-post="/assessments/responses/{response_id}/answers/{first.id}"' in page
    assert "keyup changed delay:800ms" in page


def test_not_applicable_and_dont_know_are_stored_as_different_answers(
    login: Any, db: Session, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    first, second = indicators["governance.first"], indicators["governance.second"]

    assert autosave(client, response_id, first, "na").status_code == 200
    assert autosave(client, response_id, second, "dk").status_code == 200

    assert stored(db, response_id) == {first.id: ("na", None), second.id: ("dk", None)}
    page = client.get(f"/assessments/responses/{response_id}/steps/1").text
    assert checked(page, first) == "na" and checked(page, second) == "dk"


def test_a_second_tab_cannot_overwrite_a_newer_answer_silently(
    login: Any, db: Session, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    first = indicators["governance.first"]
    # Both tabs show the answer at the same version.
    shown = saved_version(autosave(client, response_id, first, "2").text, first)

    first_tab = autosave(client, response_id, first, "3", "Board minutes", version=shown)
    assert first_tab.status_code == 200
    second_tab = autosave(client, response_id, first, "1", version=shown)

    assert second_tab.status_code == 409
    assert "changed in another tab or window; this is what is saved now" in second_tab.text
    assert checked(second_tab.text, first) == "3" and "Board minutes" in second_tab.text
    assert "Your change, not saved:" in second_tab.text and "Level 1" in second_tab.text
    assert second_tab.headers["HX-Retarget"] == f"#indicator-{first.id}"
    assert stored(db, response_id) == {first.id: ("3", "Board minutes")}
    # The conflict showed the current version: the next change from that tab saves normally.
    current = saved_version(second_tab.text, first)
    assert current != shown
    assert autosave(client, response_id, first, "1", version=current).status_code == 200
    assert stored(db, response_id) == {first.id: ("1", None)}


def test_a_conflict_brings_the_progress_up_to_date(
    login: Any, db: Session, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    first, second = indicators["governance.first"], indicators["governance.second"]
    # Another tab answers two indicators while this one still shows none answered.
    autosave(client, response_id, first, "2")
    autosave(client, response_id, second, "3")

    refused = autosave(client, response_id, first, "4")

    assert refused.status_code == 409
    progress = re.search(
        r'<div class="q-progress" id="q-progress" hx-swap-oob="true">(.*?)</div>', refused.text, re.S
    )
    assert progress, refused.text
    assert "2 of 6 indicators answered" in progress.group(1)
    assert 'value="2" max="6"' in progress.group(1)


def test_a_first_answer_from_two_tabs_at_once_keeps_the_first(
    login: Any, db: Session, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    first = indicators["digital.first"]

    assert autosave(client, response_id, first, "4").status_code == 200
    late = autosave(client, response_id, first, "2")  # this tab showed no answer yet

    assert late.status_code == 409 and checked(late.text, first) == "4"
    assert stored(db, response_id) == {first.id: ("4", None)}


def test_an_invalid_choice_is_refused_next_to_the_field(
    login: Any, db: Session, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    first = indicators["governance.first"]

    refused = autosave(client, response_id, first, "7", "kept")

    assert refused.status_code == 422
    assert (
        f'<small class="field-error" id="choice-{first.id}-error">Choose one of the options.</small>'
        in refused.text
    )
    assert f'aria-describedby="choice-{first.id}-error"' in refused.text
    assert "kept" in refused.text
    assert stored(db, response_id) == {}


def test_an_indicator_of_another_framework_is_not_found(
    login: Any,
    load_framework: Any,
    chair: User,
    round_: AssessmentRound,
    db: Session,
) -> None:
    other = load_framework(framework_document(version=2, key="other-framework"))
    foreign = service.structure(db, other).all_indicators()[0]
    client = login(chair)
    response_id = begin(client, round_)

    assert autosave(client, response_id, foreign, "2").status_code == 404


def test_without_script_an_autosave_goes_back_to_the_step(
    login: Any, db: Session, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    second = indicators["finance.second"]

    answered = client.submit(
        f"/assessments/responses/{response_id}/answers/{second.id}",
        {f"choice-{second.id}": "2", f"version-{second.id}": ""},
        follow_redirects=False,
    )

    assert answered.status_code == 303
    assert (
        answered.headers["location"] == f"/assessments/responses/{response_id}/steps/2#indicator-{second.id}"
    )
    assert stored(db, response_id) == {second.id: ("2", None)}


def test_save_and_continue_saves_the_step_and_goes_to_the_next(
    login: Any, db: Session, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    first, second = indicators["governance.first"], indicators["governance.second"]

    saved = client.submit(
        f"/assessments/responses/{response_id}/steps/1",
        {
            f"choice-{first.id}": "2",
            f"evidence-{first.id}": "Statutes",
            f"version-{first.id}": "",
            f"evidence-{second.id}": "",
            f"version-{second.id}": "",
            "then": "next",
        },
        follow_redirects=False,
    )

    assert saved.status_code == 303
    assert saved.headers["location"] == f"/assessments/responses/{response_id}/steps/2"
    # The unanswered indicator left no empty answer behind.
    assert stored(db, response_id) == {first.id: ("2", "Statutes")}


def test_save_and_continue_reports_a_conflict_next_to_its_indicator_and_saves_the_rest(
    login: Any, db: Session, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    first, second = indicators["governance.first"], indicators["governance.second"]
    shown = saved_version(autosave(client, response_id, first, "2").text, first)
    autosave(client, response_id, first, "4", version=shown)  # another tab, meanwhile

    page = client.submit(
        f"/assessments/responses/{response_id}/steps/1",
        {
            f"choice-{first.id}": "1",
            f"version-{first.id}": shown,
            f"choice-{second.id}": "3",
            f"version-{second.id}": "",
        },
    )

    assert page.status_code == 200
    assert "changed in another tab or window; this is what is saved now" in page.text
    assert checked(page.text, first) == "4" and checked(page.text, second) == "3"
    assert stored(db, response_id) == {first.id: ("4", None), second.id: ("3", None)}


def test_a_step_says_once_which_domain_it_is(login: Any, chair: User, round_: AssessmentRound) -> None:
    client = login(chair)
    response_id = begin(client, round_)

    page = client.get(f"/assessments/responses/{response_id}/steps/2").text
    body = page.split("</title>", 1)[1]

    assert body.count("Domain 2 of 3") == 1
    assert '<p class="q-step">Domain 2 of 3</p>' in body


def test_a_step_out_of_range_is_not_found(login: Any, chair: User, round_: AssessmentRound) -> None:
    client = login(chair)
    response_id = begin(client, round_)

    assert client.get(f"/assessments/responses/{response_id}/steps/0").status_code == 404
    assert client.get(f"/assessments/responses/{response_id}/steps/4").status_code == 404
    assert client.get(f"/assessments/responses/{response_id}/steps/3").status_code == 200


# Reviewing and submitting ------------------------------------------------------------------------------


def test_submit_is_refused_while_incomplete_and_the_missing_answers_are_linked(
    login: Any, db: Session, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    for code in ("governance.first", "governance.second", "finance.first"):
        autosave(client, response_id, indicators[code], "2")
    autosave(client, response_id, indicators["finance.second"], evidence="A note is not an answer")

    review = client.get(f"/assessments/responses/{response_id}/review")
    assert "3 of 6 indicators answered" in review.text
    assert re.search(r"<button type=\"submit\"[^>]*disabled", review.text)
    refused = client.submit(f"/assessments/responses/{response_id}/submit")

    assert refused.status_code == 422
    assert "cannot be submitted yet" in refused.text
    for code, step in (("finance.second", 2), ("digital.first", 3), ("digital.second", 3)):
        link = f'href="/assessments/responses/{response_id}/steps/{step}#indicator-{indicators[code].id}"'
        assert link in refused.text, code
    assert "governance.first" not in refused.text.replace("governance.first level", "")
    assert service.get_response(db, response_id).status == "draft"


def test_the_review_shows_each_answer_with_a_link_to_change_it(
    login: Any, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    autosave(client, response_id, indicators["governance.first"], "2", "Statutes of 2019")
    autosave(client, response_id, indicators["governance.second"], "na")
    autosave(client, response_id, indicators["finance.first"], "dk")

    page = client.get(f"/assessments/responses/{response_id}/review").text
    words = " ".join(re.sub(r"<[^>]+>", " ", page).split())

    assert "1.1 governance first Level 2 · Emerging Evidence: Statutes of 2019 Change answer" in words
    assert "1.2 governance second Not applicable Change answer" in words
    assert "2.1 finance first Don’t know Change answer" in words
    assert "2.2 finance second Not answered Answer 2.2 finance second" in words
    link = (
        f'href="/assessments/responses/{response_id}/steps/1#indicator-{indicators["governance.first"].id}"'
    )
    assert link in page
    # A domain fully answered is folded away; one with answers missing is open.
    assert '<details class="q-review-domain" id="review-step-1">' in page
    assert '<details class="q-review-domain" id="review-step-2" open>' in page


def test_a_complete_response_is_submitted_and_then_read_only(
    login: Any, db: Session, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    for indicator in indicators.values():
        autosave(client, response_id, indicator, "dk" if indicator.code == "digital.second" else "3")

    submitted = client.submit(f"/assessments/responses/{response_id}/submit", follow_redirects=False)

    assert submitted.status_code == 303 and submitted.headers["location"] == f"/assessments/{round_.id}"
    fresh(db)
    assert service.get_response(db, response_id).status == "submitted"
    step = client.get(f"/assessments/responses/{response_id}/steps/3")
    assert "they can no longer change" in step.text and "<fieldset" not in step.text
    assert "Don’t know" in step.text
    late = autosave(client, response_id, indicators["digital.first"], "1", version="1")
    assert late.status_code == 409
    assert stored(db, response_id)[indicators["digital.first"].id] == ("3", None)


def test_a_round_is_sent_for_validation_only_with_a_submitted_response(
    login: Any, db: Session, chair: User, round_: AssessmentRound, answer: Any, treasurer: User
) -> None:
    client = login(chair)
    answer(round_, treasurer, "2", submit=False)

    refused = client.submit(f"/assessments/{round_.id}/submit")
    assert refused.status_code == 409 and "No response has been submitted yet" in refused.text
    # The refusal is shown at the sending address: reloading it comes back to the round, not a 405.
    reloaded = client.get(f"/assessments/{round_.id}/submit", follow_redirects=False)
    assert (reloaded.status_code, reloaded.headers["location"]) == (303, f"/assessments/{round_.id}")

    answer(round_, chair, "3")
    page = client.get(f"/assessments/{round_.id}").text
    assert "1 response is submitted and will count." in page
    assert "1 response still in draft will not count." in page
    sent = client.submit(f"/assessments/{round_.id}/submit", follow_redirects=False)
    assert sent.status_code == 303
    fresh(db)
    assert service.get_round(db, round_.id).status == "submitted"


# An organisation's rounds --------------------------------------------------------------------------------


def test_a_representative_starts_an_assessment_and_a_second_one_joins_it(
    login: Any, db: Session, organisation: Organisation, chair: User, treasurer: User, framework: Framework
) -> None:
    client = login(chair)
    empty = client.get(f"/organisations/{organisation.id}/assessments")
    assert "No assessment yet." in empty.text and "Start an assessment" in empty.text

    started = client.submit(f"/organisations/{organisation.id}/assessments", follow_redirects=False)
    assert started.status_code == 303
    round_id = int(started.headers["location"].rsplit("/", 1)[1])
    joined = login(treasurer).submit(f"/organisations/{organisation.id}/assessments", follow_redirects=False)
    assert joined.headers["location"] == f"/assessments/{round_id}"

    listed = client.get(f"/organisations/{organisation.id}/assessments").text
    assert "Continue the assessment in progress" in listed and "Start an assessment" not in listed
    assert "Test capacity framework" in listed and "Being answered" in listed
    assert "0 of 0" in listed


def test_starting_without_a_framework_says_what_is_missing(
    login: Any, organisation: Organisation, chair: User
) -> None:
    client = login(chair)
    assert (
        "No assessment framework has been loaded yet"
        in client.get(f"/organisations/{organisation.id}/assessments").text
    )

    refused = client.submit(f"/organisations/{organisation.id}/assessments")
    assert "No assessment framework has been loaded yet" in refused.text


def test_the_list_shows_scores_and_bands_of_validated_rounds(
    login: Any,
    organisation: Organisation,
    chair: User,
    framework: Framework,
    validated_round: Any,
    officer: User,
) -> None:
    validated_round(organisation, framework, "4", respondent=chair)
    page = login(officer).get(f"/organisations/{organisation.id}/assessments").text

    assert "Validated" in page and "4.00" in page and "Mature" in page and "1 of 1" in page
    assert "Start an assessment" in page


def test_staff_see_who_answered_while_the_organisation_sees_counts(
    login: Any,
    officer: User,
    chair: User,
    treasurer: User,
    round_: AssessmentRound,
    answer: Any,
) -> None:
    answer(round_, treasurer, "2")
    client = login(chair)
    begin(client, round_, role="Chair")

    staff_view = login(officer).get(f"/assessments/{round_.id}").text
    assert "Bakary Treasurer" in staff_view and "Aminata Chair" in staff_view and "· Chair" in staff_view
    assert "Answer this assessment" not in staff_view

    own_view = client.get(f"/assessments/{round_.id}").text
    assert "1 response submitted · 1 in progress" in own_view
    assert "Bakary Treasurer" not in own_view
    assert "Continue my answers (domain 1 of 3)" in own_view


def test_a_representative_who_has_not_begun_is_offered_to_answer(
    login: Any, treasurer: User, round_: AssessmentRound
) -> None:
    page = login(treasurer).get(f"/assessments/{round_.id}").text
    assert "Answer this assessment" in page and "Your role in the organisation" in page


def test_a_role_too_long_is_refused_next_to_the_field(
    login: Any, treasurer: User, round_: AssessmentRound
) -> None:
    refused = login(treasurer).submit(f"/assessments/{round_.id}/respond", {"role": "x" * 101})
    assert refused.status_code == 422
    assert '<small class="field-error" id="role-error">' in refused.text


# Who may open what ------------------------------------------------------------------------------------------


def test_a_representative_of_another_organisation_is_refused_on_every_route(
    login: Any,
    make_organisation: Any,
    make_representative: Any,
    organisation: Organisation,
    chair: User,
    round_: AssessmentRound,
    indicators: dict[str, FrameworkIndicator],
) -> None:
    response_id = begin(login(chair), round_)
    indicator = indicators["governance.first"].id
    outsider = login(make_representative(make_organisation("Other Diaspora Network", consent_to_share=True)))

    routes = [
        ("GET", f"/organisations/{organisation.id}/assessments"),
        ("POST", f"/organisations/{organisation.id}/assessments"),
        ("GET", f"/assessments/{round_.id}"),
        ("POST", f"/assessments/{round_.id}/respond"),
        ("POST", f"/assessments/{round_.id}/submit"),
        ("GET", f"/assessments/responses/{response_id}/steps/1"),
        ("POST", f"/assessments/responses/{response_id}/steps/1"),
        ("POST", f"/assessments/responses/{response_id}/answers/{indicator}"),
        ("GET", f"/assessments/responses/{response_id}/review"),
        ("POST", f"/assessments/responses/{response_id}/submit"),
    ]
    for method, url in routes:
        answered = (
            outsider.get(url) if method == "GET" else outsider.submit(url, {f"choice-{indicator}": "1"})
        )
        assert answered.status_code == 404, (method, url)
        assert "Sahel Teachers Abroad" not in answered.text


def test_a_representative_cannot_open_a_fellow_representatives_response(
    login: Any,
    db: Session,
    chair: User,
    treasurer: User,
    round_: AssessmentRound,
    indicators: dict[str, FrameworkIndicator],
) -> None:
    response_id = begin(login(chair), round_)
    indicator = indicators["governance.first"].id
    fellow = login(treasurer)

    assert fellow.get(f"/assessments/responses/{response_id}/steps/1").status_code == 403
    assert fellow.get(f"/assessments/responses/{response_id}/review").status_code == 403
    saved = fellow.submit(
        f"/assessments/responses/{response_id}/answers/{indicator}",
        {f"choice-{indicator}": "1"},
        headers=HTMX,
    )
    assert saved.status_code == 403
    assert fellow.submit(f"/assessments/responses/{response_id}/submit").status_code == 403
    assert stored(db, response_id) == {}


def test_staff_do_not_answer_for_the_organisation(login: Any, officer: User, round_: AssessmentRound) -> None:
    client = login(officer)
    assert client.submit(f"/assessments/{round_.id}/respond").status_code == 403


def test_the_organisation_page_links_to_its_assessments(
    login: Any, organisation: Organisation, chair: User, make_representative: Any, make_organisation: Any
) -> None:
    link = f'href="/organisations/{organisation.id}/assessments"'
    assert link in login(chair).get(f"/organisations/{organisation.id}").text
    public = make_organisation("Open Diaspora Network", consent_to_share=True)
    assert (
        f'href="/organisations/{public.id}/assessments"'
        not in login(chair).get(f"/organisations/{public.id}").text
    )


def test_saving_a_step_leaves_alone_an_answer_this_page_never_touched(
    login: Any, db: Session, chair: User, round_: AssessmentRound, indicators: dict[str, FrameworkIndicator]
) -> None:
    client = login(chair)
    response_id = begin(client, round_)
    first, second = indicators["governance.first"], indicators["governance.second"]
    autosave(client, response_id, second, "2")
    page = client.get(f"/assessments/responses/{response_id}/steps/1").text
    shown = {i.id: re.search(rf'name="shown-{i.id}" value="(\w+)"', page).group(1) for i in (first, second)}
    # Another tab changes the second answer; this page then answers the first only and saves the step.
    assert autosave(client, response_id, second, "4", version=saved_version(page, second)).status_code == 200

    saved = client.submit(
        f"/assessments/responses/{response_id}/steps/1",
        {
            f"choice-{first.id}": "3",
            f"evidence-{first.id}": "",
            f"version-{first.id}": "",
            f"shown-{first.id}": shown[first.id],
            f"choice-{second.id}": "2",
            f"evidence-{second.id}": "",
            f"version-{second.id}": saved_version(page, second),
            f"shown-{second.id}": shown[second.id],
        },
        follow_redirects=False,
    )

    # No conflict about an answer this page did not change: saved, on to the next step.
    assert saved.status_code == 303, saved.text
    assert stored(db, response_id) == {first.id: ("3", None), second.id: ("4", None)}
