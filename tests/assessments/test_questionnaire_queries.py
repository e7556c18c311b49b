"""The questionnaire's step page and its autosave run a fixed number of SQL statements, however many rounds,
responses and answers the database holds.

Each is measured in a small database, then again after other organisations' rounds (validated, with every
answer), fellow respondents' answers in the same round and the respondent's own answers were added: the counts
must be equal, and stay under a bound so that a query added per request shows up here too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments import service
from crm.assessments.models import AssessmentResponse, AssessmentRound, Framework, FrameworkIndicator
from crm.organisations.models import Organisation
from tests.organisations.conftest import StatementCounter

# Statements per request as measured (SQLite counts a BEGIN per transaction; PostgreSQL does not). Both: the
# signed-in user with their roles, in a transaction of its own. Step page: the response, its round with the
# framework, the framework's domains and indicators, the response's answers. Autosave: the response, its round,
# the indicator, its answer, the update, and the progress counted in one statement.
BOUNDS = {"step": 8, "step (htmx)": 8, "autosave": 9}


@pytest.fixture
def organisation(make_organisation: Any) -> Organisation:
    return make_organisation("Measured Diaspora Association")


@pytest.fixture
def chair(make_representative: Any, organisation: Organisation) -> User:
    return make_representative(organisation)


@pytest.fixture
def measured(
    db: Session, open_round: Any, organisation: Organisation, chair: User, framework: Framework
) -> AssessmentResponse:
    round_: AssessmentRound = open_round(organisation, chair, framework)
    response = service.response_of(db, round_, chair)
    db.commit()
    return response


def add_other_rounds(
    make_organisation: Any, make_representative: Any, validated_round: Any, framework: Framework, count: int
) -> None:
    for number in range(count):
        organisation = make_organisation(f"Other Association {number}")
        validated_round(organisation, framework, "3", respondent=make_representative(organisation))


def measure(
    client: Any, engine: Any, response: AssessmentResponse, indicator: FrameworkIndicator, version: str
) -> tuple[dict[str, int], str]:
    step = f"/assessments/responses/{response.id}/steps/2"
    counts = {}
    for name, method in (("step", client.get), ("step (htmx)", client.hx_get)):
        method(step)  # the first visit remembers the step; measured: a visit of the step one is on
        with StatementCounter(engine) as counted:
            answered = method(step)
        assert answered.status_code == 200, answered.text
        counts[name] = counted.count
    i = indicator.id
    with StatementCounter(engine) as counted:
        saved = client.submit(
            f"/assessments/responses/{response.id}/answers/{i}",
            {f"choice-{i}": "2" if version == "1" else "3", f"version-{i}": version},
            headers={"HX-Request": "true"},
        )
    assert saved.status_code == 200, saved.text
    counts["autosave"] = counted.count
    found = re.search(rf'id="version-{i}" value="(\d+)"', saved.text)
    assert found
    return counts, found.group(1)


def test_the_step_page_and_the_autosave_do_not_grow_with_the_database(
    db: Session,
    engine: Any,
    login: Any,
    chair: User,
    measured: AssessmentResponse,
    framework: Framework,
    make_organisation: Any,
    make_representative: Any,
    organisation: Organisation,
    validated_round: Any,
    answer: Any,
) -> None:
    shape = service.structure(db, framework)
    indicator = shape.indicators[shape.domains[1].id][0]
    client = login(chair)
    round_ = service.get_round(db, measured.round_id)
    assert round_ is not None
    first = service.save_answer(db, measured, indicator, None, "First note", None)
    db.commit()
    few, version = measure(client, engine, measured, indicator, str(first.version))

    add_other_rounds(make_organisation, make_representative, validated_round, framework, 8)
    for _ in range(3):
        answer(round_, make_representative(organisation), "2", submit=False)
    answer(round_, chair, {i.code: "4" for i in shape.all_indicators() if i.id != indicator.id}, submit=False)
    many, _ = measure(client, engine, measured, indicator, version)

    assert many == few
    over = {name: (count, BOUNDS[name]) for name, count in many.items() if count > BOUNDS[name]}
    assert not over, f"more statements than allowed (count, bound): {over}"
