"""The capacity development plan on the results page: adding and changing actions, its progress, who may
change it, and at the next assessment each planned domain read against its change."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments import service
from crm.assessments.models import AssessmentRound, Framework, PlanAction
from crm.organisations.models import Organisation
from tests.assessments.test_results import text_of


@pytest.fixture
def organisation(make_organisation: Any) -> Organisation:
    return make_organisation("Sahel Diaspora Network")


@pytest.fixture
def representative(make_representative: Any, organisation: Organisation) -> User:
    return make_representative(organisation, full_name="Aminata Chair")


@pytest.fixture
def validated(
    organisation: Organisation, framework: Framework, validated_round: Any, representative: User
) -> AssessmentRound:
    return validated_round(organisation, framework, "2", respondent=representative)


def ids(db: Session, framework: Framework) -> dict[str, int]:
    """Domain and indicator ids by code."""
    shape = service.structure(db, framework)
    found = {d.code: d.id for d in shape.domains}
    found.update({i.code: i.id for i in shape.all_indicators()})
    return found


def reread(db: Session) -> None:
    db.rollback()
    db.expire_all()


def test_a_representative_adds_an_action_to_the_plan(
    db: Session, login: Any, representative: User, validated: AssessmentRound, framework: Framework
) -> None:
    code = ids(db, framework)
    client = login(representative)

    response = client.submit(
        f"/assessments/{validated.id}/actions",
        {
            "title": "Adopt a yearly budget",
            "domain_id": code["finance"],
            "indicator_id": code["finance.first"],
            "owner": "Treasurer",
            "due_on": "2026-09-30",
            "status": "planned",
        },
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/assessments/{validated.id}/results#plan"
    page = client.get(response.headers["location"])
    assert "Action added to the development plan." in page.text
    assert "Adopt a yearly budget" in page.text and "by Treasurer" in page.text
    assert "0 of 1 action done" in page.text
    reread(db)
    (action,) = service.actions_of(db, validated.id)
    assert (action.domain_id, action.indicator_id, action.due_on) == (
        code["finance"],
        code["finance.first"],
        date(2026, 9, 30),
    )


def test_an_action_needs_a_title_and_a_domain_of_the_assessment(
    db: Session, login: Any, officer: User, validated: AssessmentRound
) -> None:
    response = login(officer).submit(
        f"/assessments/{validated.id}/actions", {"title": "", "domain_id": "999999", "status": "planned"}
    )

    assert response.status_code == 422
    assert 'id="new-action-title-error"' in response.text
    reread(db)
    assert service.actions_of(db, validated.id) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("due_on", "0001-01-01", "Enter a date between 2000 and 2099."),
        ("due_on", "9999-12-31", "Enter a date between 2000 and 2099."),
        ("title", "Line one\nline two", "Write this on one line."),
        ("title", "abc\u202edef", "Remove the invisible control characters"),
    ],
)
def test_an_implausible_date_a_broken_line_or_a_reversing_character_is_refused_next_to_its_field(
    db: Session,
    login: Any,
    officer: User,
    validated: AssessmentRound,
    framework: Framework,
    field: str,
    value: str,
    message: str,
) -> None:
    fields = {"title": "Adopt a budget", "domain_id": ids(db, framework)["finance"], "status": "planned"}

    response = login(officer).submit(f"/assessments/{validated.id}/actions", {**fields, field: value})

    assert response.status_code == 422
    assert f'id="new-action-{field}-error"' in response.text and message in response.text
    reread(db)
    assert service.actions_of(db, validated.id) == []


def test_an_action_aimed_at_an_indicator_of_another_domain_is_refused(
    db: Session, login: Any, officer: User, validated: AssessmentRound, framework: Framework
) -> None:
    code = ids(db, framework)

    response = login(officer).submit(
        f"/assessments/{validated.id}/actions",
        {"title": "Website", "domain_id": code["finance"], "indicator_id": code["digital.first"]},
    )

    assert response.status_code == 422
    assert 'id="new-action-indicator_id-error"' in response.text
    assert "Choose an indicator of the chosen domain" in response.text


def test_the_plan_waits_for_validation(
    db: Session,
    login: Any,
    representative: User,
    organisation: Organisation,
    framework: Framework,
    open_round: Any,
) -> None:
    round_ = open_round(organisation, representative, framework)
    code = ids(db, framework)

    response = login(representative).submit(
        f"/assessments/{round_.id}/actions", {"title": "Too early", "domain_id": code["finance"]}
    )

    assert response.status_code == 409
    assert "once the assessment is validated" in response.text


def test_changing_an_action_updates_the_progress_and_overdue_count(
    db: Session, login: Any, representative: User, validated: AssessmentRound, framework: Framework
) -> None:
    code = ids(db, framework)
    yesterday = date.today() - timedelta(days=2)
    late = service.add_action(db, validated, domain_id=code["finance"], title="Budget", due_on=yesterday)
    other = service.add_action(db, validated, domain_id=code["digital"], title="Website")
    db.commit()
    client = login(representative)
    assert "1 overdue" in client.get(f"/assessments/{validated.id}/results").text

    response = client.submit(
        f"/assessments/actions/{late.id}",
        {
            "title": "Budget adopted",
            "domain_id": code["finance"],
            "due_on": yesterday.isoformat(),
            "status": "done",
            "version": late.version,
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert f'id="action-{late.id}"' in response.text and "Budget adopted" in response.text
    assert 'id="plan-progress"' in response.text and "1 of 2 actions done" in response.text
    assert "overdue" not in text_of(response.text)
    reread(db)
    assert db.get(PlanAction, late.id).status == "done"
    assert db.get(PlanAction, other.id).status == "planned"


def test_an_action_changed_by_someone_else_is_not_overwritten(
    db: Session,
    login: Any,
    representative: User,
    officer: User,
    validated: AssessmentRound,
    framework: Framework,
) -> None:
    code = ids(db, framework)
    action = service.add_action(db, validated, domain_id=code["finance"], title="Budget")
    db.commit()
    seen = action.version
    fields = {"domain_id": code["finance"], "status": "in_progress", "version": seen}
    login(officer).submit(f"/assessments/actions/{action.id}", {**fields, "title": "Budget, officer's"})

    response = login(representative).submit(
        f"/assessments/actions/{action.id}",
        {**fields, "title": "Budget, mine"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 409
    assert "Someone else changed this action" in response.text
    # What this person typed is shown back, not lost.
    assert "Yours, not saved: Budget, mine" in response.text
    # The form shows the current values, with the current version, so saving again is a decision.
    assert 'value="Budget, officer&#39;s"' in response.text
    reread(db)
    current = db.get(PlanAction, action.id)
    assert current.title == "Budget, officer's"
    assert f'name="version" value="{current.version}"' in response.text


def test_a_representative_of_another_organisation_cannot_touch_the_plan(
    db: Session,
    login: Any,
    make_representative: Any,
    make_organisation: Any,
    validated: AssessmentRound,
    framework: Framework,
) -> None:
    code = ids(db, framework)
    action = service.add_action(db, validated, domain_id=code["finance"], title="Budget")
    db.commit()
    other = login(make_representative(make_organisation("Other Association")))

    added = other.submit(
        f"/assessments/{validated.id}/actions", {"title": "Mine", "domain_id": code["finance"]}
    )
    changed = other.submit(
        f"/assessments/actions/{action.id}",
        {"title": "Mine", "domain_id": code["finance"], "status": "done", "version": action.version},
    )

    assert (added.status_code, changed.status_code) == (404, 404)


def test_at_the_next_assessment_each_planned_domain_shows_whether_it_improved(
    db: Session,
    login: Any,
    representative: User,
    organisation: Organisation,
    framework: Framework,
    validated_round: Any,
) -> None:
    code = ids(db, framework)
    first = validated_round(
        organisation,
        framework,
        {"governance.first": "3", "governance.second": "3", "finance.first": "1", "finance.second": "1"}
        | {"digital.first": "2", "digital.second": "2"},
        on=date(2025, 3, 1),
        respondent=representative,
    )
    for title, domain, status in (
        ("Budget", "finance", "done"),
        ("Accounts", "finance", "done"),
        ("Website", "digital", "in_progress"),
        ("Board", "governance", "dropped"),
        ("Board charter", "governance", "planned"),
    ):
        service.add_action(db, first, domain_id=code[domain], title=title, status=status)
    db.commit()
    second = validated_round(
        organisation,
        framework,
        {"governance.first": "2", "governance.second": "2", "finance.first": "3", "finance.second": "3"}
        | {"digital.first": "2", "digital.second": "2"},
        on=date(2026, 3, 1),
        respondent=representative,
    )

    words = text_of(login(representative).get(f"/assessments/{second.id}/results").text)
    since = words.split("Since the previous assessment")[-1]

    assert "Governance 0 of 1 -1.00 Declined" in since
    assert "Finance 2 of 2 +2.00 Improved" in since
    assert "Digital 0 of 1 ±0.00 Unchanged" in since
