"""Assessment fixtures: a small framework (three domains of two indicators) loaded as `crm framework load`
would, and helpers that open, answer, submit and validate rounds through the service, as the pages do."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments import service
from crm.assessments.framework import parse_framework
from crm.assessments.models import AssessmentResponse, AssessmentRound, Choice, Framework
from crm.organisations.models import Organisation

DOMAINS = ("governance", "finance", "digital")


def framework_document(version: int = 1, **changes: Any) -> dict[str, Any]:
    """A valid framework: three domains, two indicators each, texts in English and French."""

    def text(words: str) -> dict[str, str]:
        return {"en": words, "fr": f"{words} (fr)"}

    document: dict[str, Any] = {
        "key": "test-capacity",
        "version": version,
        "title": text("Test capacity framework"),
        "domains": [
            {
                "code": code,
                "name": text(code.capitalize()),
                "indicators": [
                    {
                        "code": f"{code}.{name}",
                        "question": text(f"{code} {name}"),
                        "levels": [text(f"{code} {name} level {n}") for n in range(1, 5)],
                    }
                    for name in ("first", "second")
                ],
            }
            for code in DOMAINS
        ],
    }
    document.update(changes)
    return document


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


@pytest.fixture
def load_framework(db: Session) -> Any:
    def load(document: dict[str, Any] | None = None) -> Framework:
        framework, _ = service.load_framework(db, parse_framework(encode(document or framework_document())))
        db.commit()
        return framework

    return load


@pytest.fixture
def framework(load_framework: Any) -> Framework:
    return load_framework()


@pytest.fixture
def open_round(db: Session) -> Any:
    def open_(
        organisation: Organisation, user: User, framework: Framework, on: date | None = None
    ) -> AssessmentRound:
        round_ = service.start_round(db, organisation, user, framework, on or date(2026, 3, 1))
        db.commit()
        return round_

    return open_


@pytest.fixture
def answer(db: Session) -> Any:
    """answer(round, user, {"governance.first": "3", ...} or one choice for every indicator, submit=True)."""

    def answer_(
        round_: AssessmentRound, user: User, choices: dict[str, str] | str, submit: bool = True
    ) -> AssessmentResponse:
        shape = service.structure(db, db.get(Framework, round_.framework_id))
        response = service.response_of(db, round_, user)
        for indicator in shape.all_indicators():
            choice = choices if isinstance(choices, str) else choices.get(indicator.code)
            if choice is not None:
                service.save_answer(db, response, indicator, Choice(choice), None, None)
        if submit:
            service.submit_response(db, response, shape)
        db.commit()
        return response

    return answer_


@pytest.fixture
def validated_round(
    db: Session, open_round: Any, answer: Any, make_representative: Any, officer: User
) -> Any:
    """A round of the organisation answered by one representative with these choices, submitted, validated."""

    def make(
        organisation: Organisation,
        framework: Framework,
        choices: dict[str, str] | str,
        on: date | None = None,
        respondent: User | None = None,
    ) -> AssessmentRound:
        respondent = respondent or make_representative(organisation)
        round_ = open_round(organisation, respondent, framework, on)
        answer(round_, respondent, choices)
        shape = service.structure(db, framework)
        service.submit_round(db, round_, shape)
        service.validate_round(db, round_, officer, None, shape)
        db.commit()
        return round_

    return make
