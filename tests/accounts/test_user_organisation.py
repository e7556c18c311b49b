"""The administrator links a user to the organisation it represents on the user form, choosing it with a picker
that searches the directory as one types; the form refuses what cannot be represented, next to the field."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts import service
from crm.accounts.models import User, UserSession
from crm.db.audit import AuditLog
from crm.organisations import service as organisations
from crm.organisations.models import Organisation


@pytest.fixture
def admin_browser(admin: User, login: Any) -> Any:
    return login(admin)


@pytest.fixture
def haitians(make_organisation: Any) -> Organisation:
    return make_organisation(
        "Regroupement des Haïtiens de Montréal",
        acronym="RHMD",
        residence_city="Montréal",
        residence_country="CA",
    )


@pytest.fixture
def merged_duplicate(make_organisation: Any, haitians: Organisation, db: Session) -> Organisation:
    duplicate = make_organisation("Regroupement des Haitiens de Montreal", residence_country="CA")
    organisations.merge_organisations(db, haitians, duplicate)
    db.commit()
    return duplicate


def new_representative_form(**changes: Any) -> dict[str, Any]:
    form = {
        "email": "fatou@example.org",
        "full_name": "Fatou Sarr",
        "roles": ["org_representative"],
        "language": "fr",
        "time_zone": "America/Toronto",
        "is_active": "true",
        "password": "a long enough password",
        "organisation": "",
    }
    form.update(changes)
    return form


def edit_form(user: User, **changes: Any) -> dict[str, Any]:
    """What the edit page posts back when the admin changes nothing but `changes`."""
    form = {
        "email": user.email,
        "full_name": user.full_name,
        "roles": sorted(role.value for role in user.roles),
        "language": user.language,
        "time_zone": user.time_zone,
        "is_active": "true" if user.is_active else None,
        "version": user.version,
        "password": "",
        "organisation": "" if user.organisation_id is None else str(user.organisation_id),
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<small class="field-error" id="([^"]+)-error">([^<]*)</small>', html))


def reload(db: Session, user: User) -> User:
    db.expire_all()
    found = db.get(User, user.id)
    assert found is not None
    return found


# Saving the organisation -------------------------------------------------------------------------------


def test_admin_creates_a_representative_of_an_organisation(
    admin_browser: Any, db: Session, haitians: Organisation
) -> None:
    response = admin_browser.submit(
        "/admin/users/new", new_representative_form(organisation=str(haitians.id)), follow_redirects=False
    )

    assert response.status_code in (302, 303)
    created = service.get_user_by_email(db, "fatou@example.org")
    assert created is not None
    assert created.organisation_id == haitians.id


def test_admin_links_an_existing_user_to_the_organisation_it_represents(
    admin_browser: Any, db: Session, make_user: Any, haitians: Organisation
) -> None:
    user = make_user("org_representative", email="fatou@example.org")

    response = admin_browser.submit(
        f"/admin/users/{user.id}", edit_form(user, organisation=str(haitians.id)), follow_redirects=False
    )

    assert response.status_code in (302, 303)
    assert reload(db, user).organisation_id == haitians.id
    audited = db.scalars(
        select(AuditLog).where(AuditLog.entity == "users", AuditLog.entity_id == str(user.id))
    ).all()
    assert [None, haitians.id] in [entry.changes.get("organisation_id") for entry in audited]


def test_admin_sees_the_organisation_a_user_represents_by_its_name(
    admin_browser: Any, make_representative: Any, haitians: Organisation
) -> None:
    representative = make_representative(haitians)

    page = admin_browser.get(f"/admin/users/{representative.id}").text

    assert f'<input type="hidden" name="organisation" value="{haitians.id}">' in page
    assert "<strong>Regroupement des Haïtiens de Montréal</strong>" in page
    assert ">Clear</button>" in page


def test_admin_clears_the_organisation_and_the_representative_is_signed_out(
    admin_browser: Any, db: Session, make_representative: Any, haitians: Organisation, login: Any
) -> None:
    representative = make_representative(haitians)
    login(representative)

    admin_browser.submit(f"/admin/users/{representative.id}", edit_form(representative, organisation=""))

    assert reload(db, representative).organisation_id is None
    assert db.scalars(select(UserSession).where(UserSession.user_id == representative.id)).all() == []


def test_saving_a_representative_unchanged_keeps_its_organisation_and_sessions(
    admin_browser: Any, db: Session, make_representative: Any, haitians: Organisation, login: Any
) -> None:
    representative = make_representative(haitians)
    login(representative)

    admin_browser.submit(f"/admin/users/{representative.id}", edit_form(representative, full_name="Fatou S."))

    assert reload(db, representative).organisation_id == haitians.id
    assert db.scalars(select(UserSession).where(UserSession.user_id == representative.id)).all() != []


# Refusals, next to the field ----------------------------------------------------------------------------


def test_admin_giving_an_organisation_to_a_user_without_the_representative_role_is_told_next_to_the_field(
    admin_browser: Any, db: Session, haitians: Organisation
) -> None:
    form = new_representative_form(roles=["trainer"], organisation=str(haitians.id))

    response = admin_browser.submit("/admin/users/new", form)

    assert response.status_code == 200
    assert field_errors(response.text) == {
        "organisation": "Only an organisation representative can represent an organisation: "
        "give the user that role, or leave the organisation empty."
    }
    # The choice is kept, by its name, so the admin only has to tick the role.
    assert "<strong>Regroupement des Haïtiens de Montréal</strong>" in response.text
    assert service.get_user_by_email(db, "fatou@example.org") is None


def test_admin_taking_the_representative_role_but_keeping_the_organisation_changes_nothing(
    admin_browser: Any, db: Session, make_representative: Any, haitians: Organisation
) -> None:
    representative = make_representative(haitians, "trainer", full_name="Fatou Sarr")

    response = admin_browser.submit(
        f"/admin/users/{representative.id}", edit_form(representative, roles=["trainer"], full_name="Changed")
    )

    assert "organisation" in field_errors(response.text)
    kept = reload(db, representative)
    assert (kept.full_name, kept.organisation_id) == ("Fatou Sarr", haitians.id)
    assert {role.value for role in kept.roles} == {"trainer", "org_representative"}


def test_admin_choosing_a_merged_organisation_is_pointed_to_the_one_it_was_merged_into(
    admin_browser: Any, db: Session, haitians: Organisation, merged_duplicate: Organisation
) -> None:
    response = admin_browser.submit(
        "/admin/users/new", new_representative_form(organisation=str(merged_duplicate.id))
    )

    assert field_errors(response.text) == {
        "organisation": f"“Regroupement des Haitiens de Montreal” was merged into “Regroupement des Haïtiens "
        f"de Montréal” (number {haitians.id}): choose that one."
    }
    assert service.get_user_by_email(db, "fatou@example.org") is None


def test_admin_posting_an_unknown_organisation_is_told_next_to_the_field(
    admin_browser: Any, db: Session, reference: None
) -> None:
    response = admin_browser.submit("/admin/users/new", new_representative_form(organisation="4242"))

    assert field_errors(response.text) == {"organisation": "No organisation has the number 4242."}
    assert service.get_user_by_email(db, "fatou@example.org") is None


@pytest.mark.parametrize("value", ["abc", "0", "99999999999999999999"])
def test_admin_posting_something_else_than_an_organisation_number_is_told_next_to_the_field(
    admin_browser: Any, db: Session, value: str
) -> None:
    response = admin_browser.submit("/admin/users/new", new_representative_form(organisation=value))

    assert response.status_code == 200
    assert set(field_errors(response.text)) == {"organisation"}
    assert service.get_user_by_email(db, "fatou@example.org") is None


def test_the_refusal_of_a_merged_organisation_names_the_survivor_in_french_too(
    admin_browser: Any, haitians: Organisation, merged_duplicate: Organisation
) -> None:
    admin_browser.cookies.set("crm_lang", "fr", domain="testserver.local")

    response = admin_browser.submit(
        "/admin/users/new", new_representative_form(organisation=str(merged_duplicate.id))
    )

    message = field_errors(response.text)["organisation"]
    assert str(haitians.id) in message
    assert "Regroupement des Haïtiens de Montréal" in message


# The picker ---------------------------------------------------------------------------------------------


def picked(html: str) -> list[str]:
    """The organisations the picker offers, by the name on each button."""
    return [
        name.strip() for name in re.findall(r'hx-get="/organisations/picker\?chosen=\d+"[^>]*>([^<(]+)', html)
    ]


@pytest.mark.parametrize(
    "typed", ["haïtiens", "Haitiens", "RHMD", "montreal"], ids=["name", "folded", "acronym", "city"]
)
def test_admin_finds_the_organisation_by_part_of_its_name_acronym_or_city(
    admin_browser: Any, haitians: Organisation, make_organisation: Any, typed: str
) -> None:
    make_organisation("Association Sénégalaise de Lyon", residence_city="Lyon")

    response = admin_browser.hx_get("/organisations/picker/results", params={"organisation_query": typed})

    assert response.status_code == 200
    assert picked(response.text) == ["Regroupement des Haïtiens de Montréal"]
    assert "Montréal, Canada" in response.text


def test_picker_results_are_buttons_a_keyboard_reaches_and_presses(
    admin_browser: Any, haitians: Organisation
) -> None:
    html = admin_browser.hx_get("/organisations/picker/results", params={"organisation_query": "RHMD"}).text

    assert re.search(rf'<button type="button"[^>]*hx-get="/organisations/picker\?chosen={haitians.id}"', html)


def test_picker_lists_ten_organisations_at_most_and_says_how_many_match(
    admin_browser: Any, make_organisation: Any
) -> None:
    for number in range(12):
        make_organisation(f"Amicale des Maliens {number:02d}")

    html = admin_browser.hx_get(
        "/organisations/picker/results", params={"organisation_query": "amicale"}
    ).text

    assert picked(html) == [f"Amicale des Maliens {number:02d}" for number in range(10)]
    assert "12 organisations match." in html
    assert "The first 10 are shown: type more to narrow the list." in html


def test_picker_never_offers_a_merged_organisation(
    admin_browser: Any, haitians: Organisation, merged_duplicate: Organisation
) -> None:
    html = admin_browser.hx_get(
        "/organisations/picker/results", params={"organisation_query": "regroupement"}
    ).text

    assert picked(html) == ["Regroupement des Haïtiens de Montréal"]


def test_picker_says_so_when_nothing_matches(admin_browser: Any, haitians: Organisation) -> None:
    html = admin_browser.hx_get("/organisations/picker/results", params={"organisation_query": "zzzz"}).text

    assert picked(html) == []
    assert "No organisation matches “zzzz”." in html


@pytest.mark.parametrize("typed", ["", "   ", "--"])
def test_picker_lists_nothing_before_a_word_is_typed(
    admin_browser: Any, haitians: Organisation, typed: str
) -> None:
    html = admin_browser.hx_get("/organisations/picker/results", params={"organisation_query": typed}).text

    assert picked(html) == []
    assert "matches" not in html


def test_choosing_an_organisation_puts_its_number_in_the_form_and_shows_its_name(
    admin_browser: Any, haitians: Organisation
) -> None:
    html = admin_browser.hx_get("/organisations/picker", params={"chosen": haitians.id}).text

    assert f'<input type="hidden" name="organisation" value="{haitians.id}">' in html
    assert "<strong>Regroupement des Haïtiens de Montréal</strong>" in html
    assert re.search(r"<button[^>]*autofocus>Clear</button>", html)


def test_clearing_the_organisation_gives_an_empty_search_box(admin_browser: Any) -> None:
    html = admin_browser.hx_get("/organisations/picker").text

    assert '<input type="hidden" name="organisation" value="">' in html
    assert 'name="organisation_query"' in html


def test_choosing_an_organisation_that_does_not_exist_is_not_found(
    admin_browser: Any, reference: None
) -> None:
    assert admin_browser.hx_get("/organisations/picker", params={"chosen": 4242}).status_code == 404


def test_an_officer_may_use_the_picker_too(login: Any, officer: User, haitians: Organisation) -> None:
    html = login(officer).hx_get("/organisations/picker/results", params={"organisation_query": "rhmd"}).text

    assert picked(html) == ["Regroupement des Haïtiens de Montréal"]


@pytest.mark.parametrize("persona", ["representative", "trainer"])
def test_a_representative_or_a_trainer_cannot_use_the_picker(
    login: Any, make_representative: Any, trainer: User, haitians: Organisation, persona: str
) -> None:
    client = login(make_representative(haitians) if persona == "representative" else trainer)

    results = client.hx_get("/organisations/picker/results", params={"organisation_query": "rhmd"})
    chosen = client.hx_get("/organisations/picker", params={"chosen": haitians.id})

    assert (results.status_code, chosen.status_code) == (403, 403)
    assert "Regroupement" not in results.text + chosen.text


def test_someone_signed_out_cannot_use_the_picker(client: Any, haitians: Organisation) -> None:
    response = client.get("/organisations/picker/results?organisation_query=rhmd", follow_redirects=False)

    assert response.status_code in (302, 303, 401)
    assert "Regroupement" not in response.text


def test_the_new_user_form_has_the_picker_and_its_search_box_is_not_posted_with_the_user(
    admin_browser: Any,
) -> None:
    page = admin_browser.get("/admin/users/new").text

    assert "<legend>Organisation represented</legend>" in page
    assert 'form="organisation-search"' in page
    assert '<form id="organisation-search"' in page


def test_a_created_representative_signs_in_and_is_led_to_its_organisation(
    admin_browser: Any, db: Session, haitians: Organisation, client_factory: Any
) -> None:
    admin_browser.submit("/admin/users/new", new_representative_form(organisation=str(haitians.id)))
    browser = client_factory()
    browser.submit("/login", {"email": "fatou@example.org", "password": "a long enough password"})

    home = browser.get("/").text

    assert f'href="/organisations/{haitians.id}"' in home
    # The account was created in French: its home page speaks French.
    assert "Votre organisation : Regroupement des Haïtiens de Montréal" in home
