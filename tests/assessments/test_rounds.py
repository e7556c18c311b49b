"""Rounds through the service: opening once, answering as drafts, submitting, validating, comparing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.assessments import service
from crm.assessments.models import Choice, Framework
from crm.organisations.models import Organisation
from crm.organisations.service import StaleVersion


def test_two_representatives_starting_a_round_get_the_same_one(
    db: Session, make_organisation: Any, make_representative: Any, framework: Framework, open_round: Any
) -> None:
    organisation = make_organisation()
    chair, treasurer = make_representative(organisation), make_representative(organisation)
    assert open_round(organisation, chair, framework).id == open_round(organisation, treasurer, framework).id


def test_a_response_is_refused_while_an_indicator_is_unanswered(
    db: Session,
    make_organisation: Any,
    make_representative: Any,
    framework: Framework,
    open_round: Any,
    answer: Any,
) -> None:
    organisation = make_organisation()
    chair = make_representative(organisation)
    round_ = open_round(organisation, chair, framework)
    response = answer(round_, chair, {"governance.first": "2", "finance.first": "na"}, submit=False)
    shape = service.structure(db, framework)
    with pytest.raises(service.Incomplete) as refused:
        service.submit_response(db, response, shape)
    missing = {i.code for i in shape.all_indicators() if i.id in refused.value.missing}
    assert missing == {"governance.second", "finance.second", "digital.first", "digital.second"}


def test_a_second_tab_saving_over_a_newer_answer_is_refused(
    db: Session, make_organisation: Any, make_representative: Any, framework: Framework, open_round: Any
) -> None:
    organisation = make_organisation()
    chair = make_representative(organisation)
    round_ = open_round(organisation, chair, framework)
    response = service.response_of(db, round_, chair)
    indicator = service.structure(db, framework).all_indicators()[0]
    first = service.save_answer(db, response, indicator, Choice.LEVEL_2, None, None)
    db.commit()
    seen = first.version
    service.save_answer(db, response, indicator, Choice.LEVEL_3, None, seen)
    db.commit()
    with pytest.raises(StaleVersion):
        service.save_answer(db, response, indicator, Choice.LEVEL_1, None, seen)
    db.rollback()
    assert service.answers_of(db, response.id)[indicator.id].choice == "3"


def test_validation_keeps_self_and_validated_scores_and_sets_the_band(
    db: Session, make_organisation: Any, validated_round: Any, framework: Framework, officer: Any
) -> None:
    organisation: Organisation = make_organisation()
    round_ = validated_round(organisation, framework, "4")
    db.refresh(organisation)
    assert (round_.self_score, round_.validated_score, round_.validated_band) == (4, 4, "mature")
    assert organisation.capacity_band == "mature" and round_.latest


def test_change_is_measured_against_the_previous_round_of_the_same_framework(
    db: Session, make_organisation: Any, validated_round: Any, framework: Framework
) -> None:
    organisation = make_organisation()
    first = validated_round(organisation, framework, "2", on=date(2025, 3, 1))
    second = validated_round(organisation, framework, "3", on=date(2026, 3, 1))
    assert second.previous_round_id == first.id and second.change == 1
    db.refresh(first)
    assert not first.latest and second.latest
