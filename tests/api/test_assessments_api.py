"""The assessments API: frameworks for every role; an organisation's representatives start, answer and submit
its own round and read its results; the officer reviews and validates; another organisation learns nothing of
it; and what is answered never names a respondent to the organisation, nor shows answers under 3 of them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments import service
from crm.assessments.framework import parse_framework
from crm.assessments.models import AssessmentResponse, AssessmentRound, Choice, Framework
from crm.organisations.models import Organisation
from tests.api.conftest import assert_error, field_keys
from tests.assessments.conftest import encode, framework_document

API = "/api/v1"
CODES = [
    f"{domain}.{name}" for domain in ("governance", "finance", "digital") for name in ("first", "second")
]


@pytest.fixture
def framework(db: Session) -> Framework:
    framework, _ = service.load_framework(db, parse_framework(encode(framework_document())))
    db.commit()
    return framework


@pytest.fixture
def indicators(db: Session, framework: Framework) -> dict[str, int]:
    return {i.code: i.id for i in service.structure(db, framework).all_indicators()}


@pytest.fixture
def org_a(make_organisation: Any) -> Organisation:
    return make_organisation("Aardvark Quietwater Association", consent_to_share=False)


@pytest.fixture
def org_b(make_organisation: Any) -> Organisation:
    return make_organisation("Baobab Open Network", consent_to_share=True)


@pytest.fixture
def rep_a(make_representative: Any, org_a: Organisation) -> User:
    return make_representative(org_a, email="chair@aardvark.example", full_name="Chidi Chair")


@pytest.fixture
def rep_b(make_representative: Any, org_b: Organisation) -> User:
    return make_representative(org_b, email="rep@baobab.example")


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def start(client: Any, organisation: Organisation) -> dict[str, Any]:
    response = client.post(f"{API}/organisations/{organisation.id}/assessments")
    assert response.status_code in (200, 201), response.text
    return response.json()


def answer_all(client: Any, round_id: int, indicators: dict[str, int], choice: str) -> None:
    for indicator_id in indicators.values():
        ok(client.put(f"{API}/assessments/{round_id}/answers/{indicator_id}", json={"choice": choice}))


def respond(client: Any, round_id: int, indicators: dict[str, int], choice: str) -> None:
    answer_all(client, round_id, indicators, choice)
    ok(client.post(f"{API}/assessments/{round_id}/my-response/submit"))


# Frameworks --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "liaison_officer", "org_representative", "trainer"])
def test_every_role_reads_the_frameworks(
    role: str, make_user: Any, api_client: Any, framework: Framework
) -> None:
    client = api_client(make_user(role))
    listed = ok(client.get(f"{API}/frameworks"))
    assert [f["id"] for f in listed["items"]] == [framework.id]
    assert listed["current_id"] == framework.id
    body = ok(client.get(f"{API}/frameworks/{framework.id}"))
    assert [d["code"] for d in body["domains"]] == ["governance", "finance", "digital"]
    first = body["domains"][0]["indicators"][0]
    assert first["code"] == "governance.first"
    assert [level["level"] for level in first["levels"]] == [1, 2, 3, 4]
    assert first["levels"][0]["text"] == {
        "en": "governance first level 1",
        "fr": "governance first level 1 (fr)",
    }
    assert first["mapping"] is None


def test_a_framework_shows_how_its_indicators_map_to_the_previous_version(
    db: Session, officer: User, api_client: Any, framework: Framework
) -> None:
    document = framework_document(version=2, previous_version=1)
    for domain in document["domains"]:
        for indicator in domain["indicators"]:
            indicator["maps_to"] = {"kind": "same", "from": [indicator["code"]]}
    newer, _ = service.load_framework(db, parse_framework(encode(document)))
    db.commit()
    body = ok(api_client(officer).get(f"{API}/frameworks/{newer.id}"))
    assert body["previous_id"] == framework.id
    assert body["domains"][0]["indicators"][0]["mapping"] == {
        "kind": "same",
        "maps_from": ["governance.first"],
    }


def test_an_account_without_role_reads_no_framework(
    db: Session, make_user: Any, api_client: Any, framework: Framework
) -> None:
    user = make_user("trainer")
    user.role_rows.clear()
    db.commit()
    client = api_client(user)
    assert_error(client.get(f"{API}/frameworks"), 403)
    assert_error(client.get(f"{API}/frameworks/{framework.id}"), 403)


def test_an_unknown_framework_answers_404(officer: User, api_client: Any, framework: Framework) -> None:
    client = api_client(officer)
    assert_error(client.get(f"{API}/frameworks/{framework.id + 1000}"), 404)
    assert_error(client.get(f"{API}/frameworks/99999999999999999999"), 404)


# A representative's round -----------------------------------------------------------------------------


def test_representative_creates_answers_and_submits_its_own_round(
    db: Session, rep_a: User, org_a: Organisation, api_client: Any, indicators: dict[str, int]
) -> None:
    client = api_client(rep_a)
    started = client.post(f"{API}/organisations/{org_a.id}/assessments")
    round_ = ok(started, 201)
    assert (round_["organisation_id"], round_["status"]) == (org_a.id, "open")
    again = ok(client.post(f"{API}/organisations/{org_a.id}/assessments"), 200)
    assert again["id"] == round_["id"]
    path = f"{API}/assessments/{round_['id']}"
    assert_error(client.get(f"{path}/my-response"), 404)

    saved = ok(
        client.put(
            f"{path}/answers/{indicators['governance.first']}",
            json={"choice": "3", "evidence": "AGM minutes"},
        )
    )
    assert (saved["code"], saved["choice"], saved["evidence"], saved["version"]) == (
        "governance.first",
        "3",
        "AGM minutes",
        1,
    )
    changed = ok(
        client.put(f"{path}/answers/{indicators['governance.first']}", json={"choice": "4", "version": 1})
    )
    assert (changed["choice"], changed["evidence"], changed["version"]) == ("4", None, 2)
    mine = ok(client.get(f"{path}/my-response"))
    assert [a["code"] for a in mine["answers"]] == ["governance.first"]
    assert mine["unanswered"] == CODES[1:]

    for code in CODES[1:]:
        ok(
            client.put(
                f"{path}/answers/{indicators[code]}",
                json={"choice": "na" if code == "digital.second" else "2"},
            )
        )
    submitted = ok(client.post(f"{path}/my-response/submit"))
    assert (submitted["status"], submitted["unanswered"]) == ("submitted", [])
    assert_error(client.put(f"{path}/answers/{indicators['finance.first']}", json={"choice": "1"}), 409)

    sent = ok(client.post(f"{path}/submit"))
    assert sent["status"] == "submitted"
    # governance (4+2)/2 = 3, finance 2, digital 2 (not applicable is no score): (3+2+2)/3.
    assert sent["self_score"] == 2.33
    assert sent["validated_score"] is None
    assert_error(client.put(f"{path}/answers/{indicators['finance.first']}", json={"choice": "1"}), 403)
    listed = ok(client.get(f"{API}/assessments"))
    assert [r["id"] for r in listed["items"]] == [round_["id"]]


def test_a_round_is_sent_for_validation_only_once_someone_submitted(
    rep_a: User, org_a: Organisation, api_client: Any, indicators: dict[str, int]
) -> None:
    client = api_client(rep_a)
    round_id = start(client, org_a)["id"]
    answer_all(client, round_id, indicators, "2")
    error = assert_error(client.post(f"{API}/assessments/{round_id}/submit"), 409)
    assert "submitted" in error["detail"]


def test_incomplete_submit_answers_422_listing_the_unanswered_codes(
    db: Session, rep_a: User, org_a: Organisation, api_client: Any, indicators: dict[str, int]
) -> None:
    client = api_client(rep_a)
    round_id = start(client, org_a)["id"]
    path = f"{API}/assessments/{round_id}"
    ok(client.put(f"{path}/answers/{indicators['governance.first']}", json={"choice": "2"}))
    # Evidence alone is no answer.
    ok(
        client.put(
            f"{path}/answers/{indicators['finance.first']}", json={"choice": None, "evidence": "Ledger"}
        )
    )
    error = assert_error(client.post(f"{path}/my-response/submit"), 422)
    assert [f["key"] for f in error["fields"]] == [c for c in CODES if c != "governance.first"]
    assert ok(client.get(f"{path}/my-response"))["status"] == "draft"


def test_submitting_without_any_answer_saved_lists_every_code_and_begins_nothing(
    db: Session, rep_a: User, org_a: Organisation, api_client: Any, indicators: dict[str, int]
) -> None:
    client = api_client(rep_a)
    round_id = start(client, org_a)["id"]
    error = assert_error(client.post(f"{API}/assessments/{round_id}/my-response/submit"), 422)
    assert [f["key"] for f in error["fields"]] == CODES
    db.commit()
    assert db.scalar(select(func.count()).select_from(AssessmentResponse)) == 0


def test_two_clients_saving_over_the_same_version_one_is_refused_409(
    db: Session, rep_a: User, org_a: Organisation, api_client: Any, indicators: dict[str, int]
) -> None:
    laptop, phone = api_client(rep_a), api_client(rep_a)
    round_id = start(laptop, org_a)["id"]
    url = f"{API}/assessments/{round_id}/answers/{indicators['governance.first']}"
    version = ok(laptop.put(url, json={"choice": "2"}))["version"]

    first = laptop.put(url, json={"choice": "3", "version": version})
    second = phone.put(url, json={"choice": "1", "version": version})

    assert sorted([first.status_code, second.status_code]) == [200, 409]
    error = assert_error(second, 409)
    assert "“3”" in error["detail"] and f"version {version + 1}" in error["detail"]
    answers = ok(phone.get(f"{API}/assessments/{round_id}/my-response"))["answers"]
    assert [(a["choice"], a["version"]) for a in answers] == [("3", version + 1)]


def test_two_clients_saving_a_first_answer_at_once_one_is_refused_409(
    rep_a: User, org_a: Organisation, api_client: Any, indicators: dict[str, int]
) -> None:
    laptop, phone = api_client(rep_a), api_client(rep_a)
    round_id = start(laptop, org_a)["id"]
    url = f"{API}/assessments/{round_id}/answers/{indicators['governance.first']}"
    assert ok(laptop.put(url, json={"choice": "2", "version": None}))["version"] == 1
    assert_error(phone.put(url, json={"choice": "4", "version": None}), 409)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"choice": "7"}, {"choice"}),
        ({"choice": "2", "evidence": "x" * 5001}, {"evidence"}),
        ({"choice": "2", "evidence": "Minutes\x00"}, {"evidence"}),
        ({"choice": "2", "version": 0}, {"version"}),
        ({"choice": "2", "version": 99999999999999999999}, {"version"}),
        ({"evidence": "no choice given"}, {"choice"}),
    ],
)
def test_invalid_answers_answer_400_naming_the_field(
    body: dict[str, Any],
    fields: set[str],
    rep_a: User,
    org_a: Organisation,
    api_client: Any,
    indicators: dict[str, int],
) -> None:
    client = api_client(rep_a)
    round_id = start(client, org_a)["id"]
    response = client.put(f"{API}/assessments/{round_id}/answers/{indicators['governance.first']}", json=body)
    assert field_keys(assert_error(response, 400)) == fields


def test_an_indicator_of_another_framework_is_not_a_question_of_the_round(
    db: Session, rep_a: User, org_a: Organisation, api_client: Any, indicators: dict[str, int]
) -> None:
    client = api_client(rep_a)
    round_id = start(client, org_a)["id"]
    other, _ = service.load_framework(db, parse_framework(encode(framework_document(key="other-framework"))))
    db.commit()
    foreign = service.structure(db, other).all_indicators()[0].id
    for indicator_id in (foreign, 99999999999999999999):
        assert_error(
            client.put(f"{API}/assessments/{round_id}/answers/{indicator_id}", json={"choice": "2"}), 404
        )


def test_the_officer_is_no_respondent(
    officer: User, rep_a: User, org_a: Organisation, api_client: Any, indicators: dict[str, int]
) -> None:
    round_id = start(api_client(rep_a), org_a)["id"]
    client = api_client(officer)
    path = f"{API}/assessments/{round_id}"
    assert_error(client.put(f"{path}/answers/{indicators['governance.first']}", json={"choice": "2"}), 403)
    assert_error(client.post(f"{path}/my-response/submit"), 403)


def test_starting_a_round_needs_a_framework(rep_a: User, org_a: Organisation, api_client: Any) -> None:
    error = assert_error(api_client(rep_a).post(f"{API}/organisations/{org_a.id}/assessments"), 409)
    assert "framework" in error["detail"]


# Another organisation ---------------------------------------------------------------------------------


ROUND_ROUTES = [
    ("GET", "/assessments/{round}", None),
    ("GET", "/assessments/{round}/my-response", None),
    ("PUT", "/assessments/{round}/answers/{indicator}", {"choice": "2"}),
    ("POST", "/assessments/{round}/my-response/submit", None),
    ("POST", "/assessments/{round}/submit", None),
    ("GET", "/assessments/{round}/results", None),
    ("PUT", "/assessments/{round}/reviews/{indicator}", {"level": 2, "comment": "Seen"}),
    ("POST", "/assessments/{round}/validate", {"note": None}),
]


@pytest.mark.parametrize(
    ("method", "route", "body"), ROUND_ROUTES, ids=[f"{m} {r}" for m, r, _ in ROUND_ROUTES]
)
def test_representative_is_refused_another_organisations_round_on_every_route(
    method: str,
    route: str,
    body: dict[str, Any] | None,
    db: Session,
    rep_a: User,
    rep_b: User,
    org_a: Organisation,
    api_client: Any,
    indicators: dict[str, int],
) -> None:
    owner = api_client(rep_a)
    round_id = start(owner, org_a)["id"]
    respond(owner, round_id, indicators, "3")
    url = API + route.format(round=round_id, indicator=indicators["governance.first"])
    stranger = api_client(rep_b)

    error = assert_error(stranger.request(method, url, json=body), 404)

    assert "Aardvark" not in str(error)
    db.commit()
    assert db.get(AssessmentRound, round_id).status == "open"  # type: ignore[union-attr]


def test_representative_cannot_start_another_organisations_round(
    rep_b: User, org_a: Organisation, make_organisation: Any, api_client: Any, framework: Framework
) -> None:
    client = api_client(rep_b)
    assert_error(client.post(f"{API}/organisations/{org_a.id}/assessments"), 404)
    # A consenting organisation is in the directory for all: its assessments are still its own.
    public = make_organisation("Cedar Visible Collective", consent_to_share=True)
    assert_error(client.post(f"{API}/organisations/{public.id}/assessments"), 403)


def test_the_list_shows_each_persona_only_the_rounds_it_may_see(
    rep_a: User,
    rep_b: User,
    officer: User,
    trainer: User,
    org_a: Organisation,
    org_b: Organisation,
    api_client: Any,
    framework: Framework,
) -> None:
    round_a = start(api_client(rep_a), org_a)["id"]
    round_b = start(api_client(rep_b), org_b)["id"]

    def ids(user: User, **params: Any) -> set[int]:
        body = ok(api_client(user).get(f"{API}/assessments", params=params))
        assert body["total"] == len(body["items"])
        return {r["id"] for r in body["items"]}

    assert ids(officer) == {round_a, round_b}
    assert ids(officer, organisation_id=org_b.id) == {round_b}
    assert ids(officer, status="validated") == set()
    assert ids(rep_a) == {round_a}
    assert ids(rep_b) == {round_b}
    assert ids(rep_b, organisation_id=org_a.id) == set()
    assert ids(trainer) == set()


@pytest.mark.parametrize(
    "params", [{"status": "lost"}, {"organisation_id": "0"}, {"organisation_id": "99999999999999999999"}]
)
def test_invalid_list_parameters_answer_400(params: dict[str, str], officer: User, api_client: Any) -> None:
    assert field_keys(assert_error(api_client(officer).get(f"{API}/assessments", params=params), 400)) == set(
        params
    )


def test_unknown_or_out_of_range_rounds_answer_404(officer: User, api_client: Any) -> None:
    client = api_client(officer)
    for round_id in (12345, 99999999999999999999):
        assert_error(client.get(f"{API}/assessments/{round_id}"), 404)
        assert_error(client.get(f"{API}/assessments/{round_id}/results"), 404)


# Validation ---------------------------------------------------------------------------------------------


def test_officer_reviews_and_validates_and_both_scores_are_kept(
    db: Session,
    officer: User,
    rep_a: User,
    org_a: Organisation,
    api_client: Any,
    indicators: dict[str, int],
) -> None:
    owner, staff = api_client(rep_a), api_client(officer)
    round_id = start(owner, org_a)["id"]
    path = f"{API}/assessments/{round_id}"
    review_url = f"{path}/reviews/{indicators['governance.first']}"
    assert_error(staff.put(review_url, json={"level": 4, "comment": "Board minutes"}), 409)
    assert_error(staff.post(f"{path}/validate", json={}), 409)
    respond(owner, round_id, indicators, "2")
    ok(owner.post(f"{path}/submit"))

    assert field_keys(assert_error(staff.put(review_url, json={"level": 4}), 400)) == {"comment"}
    assert field_keys(assert_error(staff.put(review_url, json={"level": 5, "comment": "x"}), 400)) == {
        "level"
    }
    assert_error(owner.put(review_url, json={"level": 4, "comment": "We are great"}), 403)
    reviewed = ok(staff.put(review_url, json={"level": 4, "comment": "Board minutes seen"}))
    assert (reviewed["level"], reviewed["comment"]) == (4, "Board minutes seen")
    assert_error(owner.post(f"{path}/validate", json={}), 403)

    validated = ok(staff.post(f"{path}/validate", json={"note": "Visit on 3 March"}))

    # Self: 2 everywhere. Validated: governance (4+2)/2 = 3, finance 2, digital 2.
    assert (validated["status"], validated["self_score"], validated["validated_score"]) == (
        "validated",
        2,
        2.33,
    )
    assert (validated["validated_band"], validated["validation_note"]) == ("emerging", "Visit on 3 March")
    results = ok(owner.get(f"{path}/results"))
    assert (results["self_score"], results["validated_score"], results["band"]) == (2, 2.33, "emerging")
    governance = results["domains"][0]
    assert (governance["self_score"], governance["validated_score"]) == (2, 3)
    assert governance["indicators"][0]["review"] == {"level": 4, "comment": "Board minutes seen"}
    assert (results["change"], results["previous_round_id"]) == (None, None)
    assert_error(staff.post(f"{path}/validate", json={}), 409)
    db.refresh(org_a)
    assert org_a.capacity_band == "emerging"


def test_withdrawing_a_review_needs_no_comment(
    officer: User, rep_a: User, org_a: Organisation, api_client: Any, indicators: dict[str, int]
) -> None:
    owner, staff = api_client(rep_a), api_client(officer)
    round_id = start(owner, org_a)["id"]
    respond(owner, round_id, indicators, "2")
    ok(owner.post(f"{API}/assessments/{round_id}/submit"))
    url = f"{API}/assessments/{round_id}/reviews/{indicators['finance.first']}"
    saved = ok(staff.put(url, json={"level": 1, "comment": "No accounts"}))
    assert saved["version"] == 1
    assert ok(staff.put(url, json={"level": None, "version": 1})) == {
        "indicator_id": indicators["finance.first"],
        "level": None,
        "comment": None,
        "version": None,
    }
    assert ok(staff.get(f"{API}/assessments/{round_id}/results"))["validated_score"] == 2


def test_a_review_saved_over_another_officers_is_refused_with_theirs(
    officer: User,
    make_user: Any,
    rep_a: User,
    org_a: Organisation,
    api_client: Any,
    indicators: dict[str, int],
) -> None:
    owner, first, second = api_client(rep_a), api_client(officer), api_client(make_user("liaison_officer"))
    round_id = start(owner, org_a)["id"]
    respond(owner, round_id, indicators, "2")
    ok(owner.post(f"{API}/assessments/{round_id}/submit"))
    url = f"{API}/assessments/{round_id}/reviews/{indicators['finance.first']}"
    ok(first.put(url, json={"level": 3, "comment": "Accounts seen"}))

    stale = second.put(url, json={"level": 1, "comment": "No accounts"})
    boolean = second.put(url, json={"level": 1, "comment": "No accounts", "version": True})

    assert "level 3, version 1" in assert_error(stale, 409)["detail"]
    assert boolean.status_code == 400
    state = ok(first.get(f"{API}/assessments/{round_id}/results"))
    assert state["validated_score"] != 2


def test_results_show_the_change_since_the_previous_comparable_round(
    db: Session,
    officer: User,
    rep_a: User,
    org_a: Organisation,
    api_client: Any,
    framework: Framework,
    indicators: dict[str, int],
) -> None:
    shape = service.structure(db, framework)
    earlier = service.start_round(db, org_a, rep_a, framework, date(2025, 3, 1))
    response = service.response_of(db, earlier, rep_a)
    for indicator in shape.all_indicators():
        service.save_answer(db, response, indicator, Choice.LEVEL_2, None, None)
    service.submit_response(db, response, shape)
    service.submit_round(db, earlier, shape)
    service.validate_round(db, earlier, officer, None, shape)
    db.commit()
    owner = api_client(rep_a)
    round_id = start(owner, org_a)["id"]
    respond(owner, round_id, indicators, "3")

    results = ok(owner.get(f"{API}/assessments/{round_id}/results"))

    assert (results["previous_round_id"], results["change"]) == (earlier.id, 1)
    assert [(d["previous_score"], d["change"]) for d in results["domains"]] == [(2, 1)] * 3


# What the organisation sees of individual answers -------------------------------------------------------


def test_results_hide_names_from_the_organisation_and_answers_under_three_respondents(
    make_representative: Any,
    officer: User,
    rep_a: User,
    org_a: Organisation,
    api_client: Any,
    indicators: dict[str, int],
) -> None:
    treasurer = make_representative(org_a, email="treasurer@aardvark.example", full_name="Tomasz Treasurer")
    secretary = make_representative(org_a, email="secretary@aardvark.example", full_name="Sadia Secretary")
    owner = api_client(rep_a)
    round_id = start(owner, org_a)["id"]
    path = f"{API}/assessments/{round_id}"
    respond(owner, round_id, indicators, "2")
    respond(api_client(treasurer), round_id, indicators, "4")

    two = owner.get(f"{path}/results")
    body = ok(two)
    assert (body["respondents"], body["individual_answers_shown"]) == (2, False)
    first = body["domains"][0]["indicators"][0]
    assert (first["self_score"], first["distribution"], first["answers"]) == (3, None, None)
    staff_view = ok(api_client(officer).get(f"{path}/results"))["domains"][0]["indicators"][0]
    assert {(a["name"], a["choice"]) for a in staff_view["answers"]} == {
        ("Chidi Chair", "2"),
        ("Tomasz Treasurer", "4"),
    }

    respond(api_client(secretary), round_id, indicators, "dk")
    three = owner.get(f"{path}/results")
    body = ok(three)
    assert (body["respondents"], body["individual_answers_shown"]) == (3, True)
    first = body["domains"][0]["indicators"][0]
    assert first["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "na": 0, "dk": 1}
    assert first["answers"] is None
    round_view = ok(owner.get(path))
    assert (round_view["responses"], round_view["submitted_responses"], round_view["respondents"]) == (
        3,
        3,
        None,
    )
    for response in (two, three, owner.get(path)):
        for private in ("Chidi", "Tomasz", "Sadia", "treasurer@", "secretary@"):
            assert private not in response.text
    staff_round = ok(api_client(officer).get(path))
    assert [r["name"] for r in staff_round["respondents"]] == [
        "Chidi Chair",
        "Tomasz Treasurer",
        "Sadia Secretary",
    ]


# Documentation ------------------------------------------------------------------------------------------


def test_the_openapi_schema_documents_the_assessment_operations_and_no_page(client: Any) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    expected = {
        "/api/v1/frameworks": {"get"},
        "/api/v1/frameworks/{framework_id}": {"get"},
        "/api/v1/assessments": {"get"},
        "/api/v1/organisations/{organisation_id}/assessments": {"post"},
        "/api/v1/assessments/{round_id}": {"get"},
        "/api/v1/assessments/{round_id}/my-response": {"get"},
        "/api/v1/assessments/{round_id}/answers/{indicator_id}": {"put"},
        "/api/v1/assessments/{round_id}/my-response/submit": {"post"},
        "/api/v1/assessments/{round_id}/submit": {"post"},
        "/api/v1/assessments/{round_id}/results": {"get"},
        "/api/v1/assessments/{round_id}/reviews/{indicator_id}": {"put"},
        "/api/v1/assessments/{round_id}/validate": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
        for operation in (paths[path][m] for m in methods):
            assert {"bearer": []} in operation["security"]
    assert "422" in paths["/api/v1/assessments/{round_id}/my-response/submit"]["post"]["responses"]
    assert [p for p in paths if not p.startswith("/api/")] == []
