"""The organisations API: token authentication, the directory's search and visibility, create, read, update,
delete, and errors that are always our JSON body, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts import service as accounts
from crm.accounts.models import User
from crm.organisations import service
from crm.organisations.models import Contact, Organisation
from tests.api.conftest import assert_error, field_keys

API = "/api/v1/organisations"


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


# Authentication ---------------------------------------------------------------------------------------


def test_request_without_token_is_refused_with_json_401(client: Any) -> None:
    error = assert_error(client.get(API), 401)
    assert "fields" not in error


def test_unknown_token_is_refused(client: Any) -> None:
    assert_error(client.get(API, headers={"Authorization": "Bearer crm_not-a-real-token"}), 401)


def test_token_sent_another_way_than_bearer_is_refused(officer: User, db: Session, client: Any) -> None:
    token = accounts.create_api_token(db, officer, "t")
    db.commit()
    assert_error(client.get(API, headers={"Authorization": f"Basic {token.secret}"}), 401)
    assert_error(client.get(API, params={"token": token.secret}), 401)
    assert client.get(API, headers={"Authorization": f"bearer {token.secret}"}).status_code == 200


def test_revoked_token_is_refused(officer: User, db: Session, client: Any) -> None:
    token = accounts.create_api_token(db, officer, "t")
    db.commit()
    headers = {"Authorization": f"Bearer {token.secret}"}
    assert client.get(API, headers=headers).status_code == 200
    assert accounts.revoke_api_token(db, officer, token.token.id)
    db.commit()
    assert_error(client.get(API, headers=headers), 401)


def test_token_of_deactivated_user_is_refused(officer: User, db: Session, api_client: Any) -> None:
    client = api_client(officer)
    officer.is_active = False
    db.commit()
    assert_error(client.get(API), 401)


def test_browser_session_cookie_does_not_authenticate_the_api(officer: User, login: Any) -> None:
    browser = login(officer)
    assert browser.get("/").status_code == 200
    assert_error(browser.get(API), 401)
    assert_error(
        browser.post(API, json={"name": "X", "origin_country": "SN", "residence_country": "FR"}), 401
    )


# Listing and searching --------------------------------------------------------------------------------


def test_officer_pages_through_the_directory(officer: User, api_client: Any, make_organisation: Any) -> None:
    for letter in "ABCDE":
        make_organisation(f"{letter} association")
    client = api_client(officer)
    first = client.get(API, params={"per_page": 2})
    assert first.json()["page"] == 1 and first.json()["per_page"] == 2 and first.json()["total"] == 5
    assert names(first) == ["A association", "B association"]
    assert names(client.get(API, params={"per_page": 2, "page": 3})) == ["E association"]
    assert names(client.get(API, params={"sort": "-name", "per_page": 1})) == ["E association"]


def test_list_defaults_to_25_per_page(officer: User, api_client: Any, make_organisation: Any) -> None:
    make_organisation()
    body = api_client(officer).get(API).json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 25, 1)


def test_list_items_carry_every_vocabulary(officer: User, api_client: Any, make_organisation: Any) -> None:
    make_organisation(sectors=["health"], capital_kinds=["social"], audiences=["refugees_displaced"])
    [item] = api_client(officer).get(API).json()["items"]
    assert (item["sectors"], item["capital_kinds"], item["audiences"]) == (
        ["health"],
        ["social"],
        ["refugees_displaced"],
    )


def test_list_filters_like_the_directory(officer: User, api_client: Any, make_organisation: Any) -> None:
    make_organisation("Paris health", residence_country="FR", sectors=["health"])
    make_organisation("Berlin health", residence_country="DE", sectors=["health"], origin_country="ML")
    make_organisation("Brussels schools", residence_country="BE", sectors=["education"])
    make_organisation("Refugee help", residence_country="FR", audiences=["refugees_displaced"])
    make_organisation(
        "Silent group", residence_country="FR", consent_to_share=False, capital_kinds=["economic"]
    )
    client = api_client(officer)

    assert names(client.get(API, params={"residence": ["FR", "de"]})) == [
        "Berlin health",
        "Paris health",
        "Refugee help",
        "Silent group",
    ]
    assert names(client.get(API, params={"origin": "ML"})) == ["Berlin health"]
    assert names(client.get(API, params={"sector": "health", "residence": "FR"})) == ["Paris health"]
    assert names(client.get(API, params={"capital": "economic"})) == ["Silent group"]
    assert names(client.get(API, params={"audience": "refugees_displaced"})) == ["Refugee help"]
    assert names(client.get(API, params={"vulnerable": "true"})) == ["Refugee help"]
    assert "Silent group" not in names(client.get(API, params={"consent": "true"}))
    assert names(client.get(API, params={"q": "brussel"})) == ["Brussels schools"]
    assert names(client.get(API, params={"sort": "country", "residence": ["BE", "DE"]})) == [
        "Brussels schools",
        "Berlin health",
    ]


def test_organisation_without_consent_is_hidden_from_trainer(
    trainer: User, api_client: Any, make_organisation: Any
) -> None:
    make_organisation("Public association")
    private = make_organisation("Private association", consent_to_share=False)
    client = api_client(trainer)
    body = client.get(API).json()
    assert [item["name"] for item in body["items"]] == ["Public association"]
    assert body["total"] == 1
    assert_error(client.get(f"{API}/{private.id}"), 404)


def test_representative_sees_own_organisation_without_consent(
    api_client: Any, make_organisation: Any, make_representative: Any
) -> None:
    own = make_organisation("Own association", consent_to_share=False)
    make_organisation("Other private association", consent_to_share=False)
    client = api_client(make_representative(own))
    assert names(client.get(API)) == ["Own association"]
    assert client.get(f"{API}/{own.id}").json()["name"] == "Own association"


def test_merged_organisation_is_hidden_from_everyone_but_staff(
    db: Session,
    officer: User,
    trainer: User,
    api_client: Any,
    make_organisation: Any,
    make_representative: Any,
) -> None:
    survivor = make_organisation("Survivor")
    duplicate = make_organisation("Duplicate")
    representative = make_representative(duplicate)
    service.merge_organisations(db, survivor, duplicate)
    db.commit()
    for user in (trainer, representative):
        client = api_client(user)
        assert names(client.get(API)) == ["Survivor"]
        assert_error(client.get(f"{API}/{duplicate.id}"), 404)
    staff = api_client(officer)
    assert names(staff.get(API)) == ["Survivor"]
    assert staff.get(f"{API}/{duplicate.id}").status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "0"},
        {"page": "-1"},
        {"page": "99999999999999999999"},
        {"per_page": "1000"},
        {"per_page": "-5"},
        {"per_page": "0"},
        {"sort": "bogus"},
        {"residence": "ZZZ"},
        {"residence": "ZZ"},
        {"origin": "France"},
        {"sector": "knitting"},
        {"capital": "nope"},
        {"audience": "martians"},
        {"vulnerable": "maybe"},
        {"consent": "2"},
        {"q": "x" * 201},
    ],
    ids=lambda params: "&".join(f"{k}={v[:20]}" for k, v in params.items()),
)
def test_invalid_list_parameters_answer_400_naming_the_parameter(
    params: dict[str, str], officer: User, api_client: Any, reference: None
) -> None:
    error = assert_error(api_client(officer).get(API, params=params), 400)
    assert field_keys(error) == set(params)


def test_too_many_values_of_one_filter_answer_400(officer: User, api_client: Any, reference: None) -> None:
    error = assert_error(api_client(officer).get(API, params={"residence": ["FR"] * 51}), 400)
    assert field_keys(error) == {"residence"}


def test_a_page_past_the_end_answers_the_last_page(
    officer: User, api_client: Any, make_organisation: Any
) -> None:
    make_organisation()
    body = api_client(officer).get(API, params={"page": 7}).json()
    assert body["page"] == 1 and len(body["items"]) == 1


@pytest.mark.parametrize(
    "q", ['"', "*", "a AND", "NEAR(x y)", "'; drop table organisations; --", "é ü 中文", "-"]
)
def test_search_with_punctuation_is_never_an_error(
    q: str, officer: User, api_client: Any, make_organisation: Any
) -> None:
    make_organisation()
    assert api_client(officer).get(API, params={"q": q}).status_code == 200


# Creating ---------------------------------------------------------------------------------------------


NEW = {
    "name": "Association des Sénégalais de Lyon",
    "acronym": "ASL",
    "origin_country": "SN",
    "residence_country": "FR",
    "residence_city": "Lyon",
    "sectors": ["education", "health"],
    "capital_kinds": ["social"],
    "audiences": ["youth"],
    "languages": ["fr", "wo"],
    "contribution_modes": ["skills"],
    "consent_to_share": True,
}


@pytest.mark.parametrize("role", ["admin", "liaison_officer"])
def test_staff_creates_an_organisation(
    role: str, db: Session, make_user: Any, api_client: Any, reference: None
) -> None:
    response = api_client(make_user(role)).post(API, json=NEW)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == NEW["name"]
    assert body["sectors"] == ["education", "health"]
    assert body["languages"] == ["fr", "wo"]
    assert body["version"] == 1
    assert body["completeness"] > 0
    stored = db.get(Organisation, body["id"])
    assert stored is not None and stored.residence_city == "Lyon"


def test_create_with_invalid_fields_answers_400_listing_them(
    db: Session, officer: User, api_client: Any, reference: None
) -> None:
    response = api_client(officer).post(
        API, json={"name": "", "origin_country": "Atlantis", "email": "not-an-email", "founded_year": "x"}
    )
    error = assert_error(response, 400)
    assert {"name", "origin_country", "residence_country", "email", "founded_year"} <= field_keys(error)
    assert db.scalar(select(Organisation)) is None


def test_create_with_unknown_sector_answers_400(
    db: Session, officer: User, api_client: Any, reference: None
) -> None:
    error = assert_error(api_client(officer).post(API, json={**NEW, "sectors": ["knitting"]}), 400)
    assert error["fields"] == [{"key": "sectors", "message": "Choose from the list.", "source": "body"}]
    assert db.scalar(select(Organisation)) is None


@pytest.mark.parametrize(
    "body",
    [b"not json", b"", b"[1, 2]", b'{"name": ', b"null", '{"name": "\u0000"}'.encode()],
    ids=["text", "empty", "list", "truncated", "null", "nul-char"],
)
def test_garbage_body_answers_400(body: bytes, officer: User, api_client: Any, reference: None) -> None:
    response = api_client(officer).post(API, content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400)


@pytest.mark.parametrize("role", ["org_representative", "trainer"])
def test_non_staff_cannot_create_organisation(
    role: str, make_user: Any, api_client: Any, reference: None
) -> None:
    assert_error(api_client(make_user(role)).post(API, json=NEW), 403)


# Reading ----------------------------------------------------------------------------------------------


def test_any_user_reads_an_organisation_that_consented(
    trainer: User, api_client: Any, make_organisation: Any
) -> None:
    organisation = make_organisation(sectors=["health"], audiences=["women"], capital_kinds=["cultural"])
    body = api_client(trainer).get(f"{API}/{organisation.id}").json()
    assert body["id"] == organisation.id
    assert body["sectors"] == ["health"] and body["audiences"] == ["women"]
    assert body["capital_kinds"] == ["cultural"]
    assert body["version"] == 1
    assert "search_text" not in body and "import_key" not in body


@pytest.mark.parametrize("path", ["99999", "99999999999999999999", "0", "-1", "abc", "1.5"])
def test_unknown_or_malformed_id_answers_404_or_400(path: str, officer: User, api_client: Any) -> None:
    response = api_client(officer).get(f"{API}/{path}")
    assert response.status_code in (400, 404), response.text
    assert_error(response, response.status_code)


def test_huge_id_answers_404_to_every_method(
    officer: User, admin: User, api_client: Any, reference: None
) -> None:
    url = f"{API}/99999999999999999999"
    assert_error(api_client(officer).put(url, json={**NEW, "version": 1}), 404)
    assert_error(api_client(admin).delete(url), 404)
    assert_error(api_client(officer).get(f"{url}/contacts"), 404)


# Updating ---------------------------------------------------------------------------------------------


def _update(organisation: Organisation, **changes: Any) -> dict[str, Any]:
    return {
        "name": organisation.name,
        "origin_country": organisation.origin_country,
        "residence_country": organisation.residence_country,
        "consent_to_share": organisation.consent_to_share,
        "version": organisation.version,
        **changes,
    }


def test_officer_updates_an_organisation_and_gets_the_new_version(
    db: Session, officer: User, api_client: Any, make_organisation: Any
) -> None:
    organisation = make_organisation()
    response = api_client(officer).put(
        f"{API}/{organisation.id}", json=_update(organisation, name="Renamed", sectors=["culture"])
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Renamed" and body["sectors"] == ["culture"]
    assert body["version"] == 2
    db.expire_all()
    stored = db.get(Organisation, organisation.id)
    assert stored is not None and (stored.name, stored.version) == ("Renamed", 2)


def test_stale_version_update_returns_409_and_changes_nothing(
    db: Session, officer: User, api_client: Any, make_organisation: Any
) -> None:
    organisation = make_organisation("Original")
    client = api_client(officer)
    stale = _update(organisation)
    assert client.put(f"{API}/{organisation.id}", json={**stale, "name": "First edit"}).status_code == 200
    error = assert_error(client.put(f"{API}/{organisation.id}", json={**stale, "name": "Second edit"}), 409)
    assert "changed" in error["detail"]
    db.expire_all()
    assert db.get(Organisation, organisation.id).name == "First edit"  # type: ignore[union-attr]


def test_changing_only_sectors_bumps_the_version(
    officer: User, api_client: Any, make_organisation: Any
) -> None:
    organisation = make_organisation(sectors=["health"], description="We care")
    client = api_client(officer)
    stale = _update(organisation, description="We care")
    assert (
        client.put(f"{API}/{organisation.id}", json={**stale, "sectors": ["education"]}).json()["version"]
        == 2
    )
    assert_error(client.put(f"{API}/{organisation.id}", json={**stale, "sectors": ["culture"]}), 409)


def test_representative_updates_own_organisation(
    api_client: Any, make_organisation: Any, make_representative: Any
) -> None:
    own = make_organisation(consent_to_share=False)
    client = api_client(make_representative(own))
    response = client.put(f"{API}/{own.id}", json=_update(own, description="We teach"))
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "We teach"


def test_representative_cannot_update_other_organisation(
    db: Session, api_client: Any, make_organisation: Any, make_representative: Any
) -> None:
    own = make_organisation("Own")
    public_other = make_organisation("Public other")
    private_other = make_organisation("Private other", consent_to_share=False)
    client = api_client(make_representative(own))
    assert_error(client.put(f"{API}/{public_other.id}", json=_update(public_other, name="Hijacked")), 403)
    assert_error(client.put(f"{API}/{private_other.id}", json=_update(private_other, name="Hijacked")), 404)
    db.expire_all()
    assert db.get(Organisation, public_other.id).name == "Public other"  # type: ignore[union-attr]
    assert db.get(Organisation, private_other.id).name == "Private other"  # type: ignore[union-attr]


def test_trainer_cannot_update_an_organisation(
    trainer: User, api_client: Any, make_organisation: Any
) -> None:
    organisation = make_organisation()
    assert_error(api_client(trainer).put(f"{API}/{organisation.id}", json=_update(organisation)), 403)


def test_update_with_unknown_audience_answers_400(
    officer: User, api_client: Any, make_organisation: Any
) -> None:
    organisation = make_organisation()
    response = api_client(officer).put(
        f"{API}/{organisation.id}", json=_update(organisation, audiences=["x"])
    )
    assert field_keys(assert_error(response, 400)) == {"audiences"}


def test_update_without_version_answers_400(officer: User, api_client: Any, make_organisation: Any) -> None:
    organisation = make_organisation()
    body = _update(organisation)
    del body["version"]
    assert "version" in field_keys(
        assert_error(api_client(officer).put(f"{API}/{organisation.id}", json=body), 400)
    )


# Deleting ---------------------------------------------------------------------------------------------


def test_admin_deletes_an_organisation_with_its_contacts(
    db: Session,
    admin: User,
    api_client: Any,
    make_organisation: Any,
    make_contact: Any,
    make_representative: Any,
) -> None:
    organisation = make_organisation()
    make_contact(organisation)
    representative = make_representative(organisation)
    client = api_client(admin)
    url = f"{API}/{organisation.id}"
    response = client.delete(url)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_error(client.get(url), 404)
    db.expire_all()
    assert db.scalar(select(Organisation)) is None
    assert db.scalar(select(Contact)) is None
    assert db.get(User, representative.id).organisation_id is None  # type: ignore[union-attr]


def test_deleting_an_organisation_others_were_merged_into_deletes_the_merged_records_too(
    db: Session, admin: User, api_client: Any, make_organisation: Any
) -> None:
    survivor = make_organisation("Survivor")
    duplicate = make_organisation("Duplicate")
    service.merge_organisations(db, survivor, duplicate)
    db.commit()
    survivor_id, duplicate_id = survivor.id, duplicate.id
    assert api_client(admin).delete(f"{API}/{survivor_id}").status_code == 204
    db.expunge_all()
    assert db.get(Organisation, survivor_id) is None
    assert db.get(Organisation, duplicate_id) is None


@pytest.mark.parametrize("role", ["liaison_officer", "org_representative", "trainer"])
def test_only_admin_deletes_an_organisation(
    role: str, db: Session, make_user: Any, api_client: Any, make_organisation: Any
) -> None:
    organisation = make_organisation()
    user = make_user(role)
    user.organisation_id = organisation.id
    db.commit()
    assert_error(api_client(user).delete(f"{API}/{organisation.id}"), 403)
    db.expire_all()
    assert db.get(Organisation, organisation.id) is not None


# Documentation ----------------------------------------------------------------------------------------


def test_openapi_lists_the_api_with_bearer_security(client: Any) -> None:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    expected = {
        "/api/v1/organisations": {"get", "post"},
        "/api/v1/organisations/{organisation_id}": {"get", "put", "delete"},
        "/api/v1/organisations/{organisation_id}/contacts": {"get", "post"},
        "/api/v1/contacts": {"get"},
        "/api/v1/contacts/{contact_id}": {"get", "put"},
        "/api/v1/partners": {"get", "post"},
        "/api/v1/partners/{partner_id}": {"get", "put"},
    }
    for path, methods in expected.items():
        operations = schema["paths"][path]
        assert methods <= set(operations), path
        for method in methods:
            operation = operations[method]
            assert operation["summary"], (path, method)
            assert operation["security"] == [{"bearer": []}], (path, method)
            assert set(operation["tags"]) & {"organisations", "contacts", "partners"}, (path, method)
            assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ApiError"
            }, (path, method)


def test_email_and_phone_are_shown_to_whom_the_profile_page_shows_them(
    officer: User,
    trainer: User,
    api_client: Any,
    login: Any,
    make_organisation: Any,
    make_representative: Any,
) -> None:
    organisation = make_organisation(email="contact@asso.example.org", phone="+33 1 23 45 67 89")
    representative = make_representative(organisation)
    for user, private in ((officer, True), (representative, True), (trainer, False)):
        body = api_client(user).get(f"{API}/{organisation.id}").json()
        listed = api_client(user).get(API).json()["items"][0]
        page = login(user).get(f"/organisations/{organisation.id}").text
        assert ("contact@asso.example.org" in page) is private
        assert (body["email"], body["phone"]) == (
            ("contact@asso.example.org", "+33 1 23 45 67 89") if private else (None, None)
        )
        assert listed["email"] == body["email"]
