"""An organisation's page: the public profile tab, the private contacts and activities tabs, and who sees them."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations import service
from crm.organisations.models import Organisation

PRIVATE_TABS = ("contacts", "activities")


@pytest.fixture
def organisation(
    make_organisation: Any, make_contact: Any, make_activity: Any, officer: User
) -> Organisation:
    organisation = make_organisation(
        "Association des Sénégalais de Lyon",
        acronym="ASL",
        residence_city="Lyon",
        description="Tutoring for pupils and their parents.",
        sectors=["education"],
        email="bureau@asl.example.org",
        phone="+33 4 72 00 00 00",
    )
    make_contact(organisation, "Awa Diop", email="awa.diop@example.org", role_title="President")
    make_activity(organisation, "Discussed the tutoring programme", author=officer)
    return organisation


@pytest.fixture
def private_organisation(make_organisation: Any, make_contact: Any) -> Organisation:
    organisation = make_organisation("Quiet Senegalese Mutual", consent_to_share=False)
    make_contact(organisation, "Moussa Ba", email="moussa.ba@example.org")
    return organisation


def tab_links(page: str) -> set[str]:
    return set(re.findall(r'<a href="/organisations/\d+/(contacts|activities)" hx-get=', page))


# Profile -----------------------------------------------------------------------------------------------


def test_a_trainer_reads_the_profile_of_a_consenting_organisation(
    login: Any, trainer: User, organisation: Organisation
) -> None:
    response = login(trainer).get(f"/organisations/{organisation.id}")

    assert response.status_code == 200
    assert "<h1>Association des Sénégalais de Lyon" in response.text
    assert "Tutoring for pupils and their parents." in response.text
    assert "Education" in response.text


def test_the_public_profile_hides_contact_tabs_email_and_phone(
    login: Any, trainer: User, organisation: Organisation
) -> None:
    page = login(trainer).get(f"/organisations/{organisation.id}").text

    assert tab_links(page) == set()
    assert "bureau@asl.example.org" not in page
    assert "+33 4 72 00 00 00" not in page
    assert "awa.diop@example.org" not in page
    assert "Edit profile" not in page


@pytest.mark.parametrize("role", ["liaison_officer", "admin"])
def test_staff_see_the_private_tabs_and_the_organisation_email(
    login: Any, make_user: Any, organisation: Organisation, role: str
) -> None:
    page = login(make_user(role)).get(f"/organisations/{organisation.id}").text

    assert tab_links(page) == set(PRIVATE_TABS)
    assert "bureau@asl.example.org" in page
    assert "Edit profile" in page


def test_the_organisation_representative_sees_the_private_tabs(
    login: Any, make_representative: Any, organisation: Organisation
) -> None:
    page = login(make_representative(organisation)).get(f"/organisations/{organisation.id}").text

    assert tab_links(page) == set(PRIVATE_TABS)
    assert "bureau@asl.example.org" in page
    assert "Edit profile" in page


def test_the_profile_shows_the_completeness_score_and_what_is_missing(
    login: Any, officer: User, make_organisation: Any
) -> None:
    organisation = make_organisation(
        "Sparse Diaspora Club", description="A short description.", sectors=["culture"]
    )

    page = login(officer).get(f"/organisations/{organisation.id}").text
    missing = re.search(r'<ul class="missing">(.*?)</ul>', page, re.S)

    assert "<strong>20%</strong>" in page
    assert '<progress value="20" max="100">' in page
    assert missing is not None
    items = re.findall(r"<li>(.*?)</li>", missing.group(1))
    assert {"Kinds of diaspora capital", "Audiences served", "City of residence", "Email"} <= set(items)
    assert "Description" not in items
    assert "Sectors" not in items
    assert "Diaspora-led initiatives" in items


def test_a_complete_profile_has_nothing_missing(
    login: Any, officer: User, make_organisation: Any, make_initiative: Any
) -> None:
    organisation = make_organisation(
        "Complete Diaspora Foundation",
        acronym="CDF",
        description="Everything filled in.",
        residence_city="Paris",
        founded_year=2004,
        legal_status="foundation",
        website="https://cdf.example.org",
        email="hello@cdf.example.org",
        phone="+33 1 00 00 00 00",
        sectors=["health"],
        capital_kinds=["economic"],
        audiences=["youth"],
        languages=["fr", "wo"],
        members_count=120,
        budget_band="10k_50k",
        skills_offered=["accounting"],
        contribution_modes=["skills"],
    )
    make_initiative(organisation, "Health caravans", sector_code="health", country="SN", start_year=2019)

    page = login(officer).get(f"/organisations/{organisation.id}").text

    assert "<strong>100%</strong>" in page
    assert 'class="missing"' not in page
    assert "Health caravans" in page


def test_an_htmx_tab_request_returns_the_tab_only(
    login: Any, officer: User, organisation: Organisation
) -> None:
    client = login(officer)

    for path in ("", "/contacts", "/activities"):
        response = client.hx_get(f"/organisations/{organisation.id}{path}")
        assert response.status_code == 200
        assert "<html" not in response.text
        assert "<h1>" not in response.text
    assert "Profile completeness" in client.hx_get(f"/organisations/{organisation.id}").text
    assert "awa.diop@example.org" in client.hx_get(f"/organisations/{organisation.id}/contacts").text


@pytest.mark.parametrize("tab", ["profile", "contacts", "activities"])
def test_an_htmx_tab_request_moves_the_current_tab_to_it(
    login: Any, officer: User, organisation: Organisation, tab: str
) -> None:
    path = "" if tab == "profile" else f"/{tab}"

    response = login(officer).hx_get(f"/organisations/{organisation.id}{path}")

    tabs = re.search(r'<nav class="tabs" id="org-tabs"[^>]*>.*?</nav>', response.text, re.S)
    assert tabs is not None
    assert 'hx-swap-oob="true"' in tabs.group(0)
    current = re.findall(r'<a [^>]*id="tab-(\w+)"[^>]*aria-current="page"', tabs.group(0))
    assert current == [tab]
    assert 'hx-push-url="true"' in tabs.group(0)
    assert "HX-Request" in response.headers["vary"]


def test_opening_a_tab_by_its_address_gives_the_whole_page_with_that_tab_current(
    login: Any, officer: User, organisation: Organisation
) -> None:
    page = login(officer).get(f"/organisations/{organisation.id}/activities").text

    assert "<html" in page
    assert re.search(r'href="/organisations/\d+/activities"[^>]*aria-current="page"', page)
    assert "Discussed the tutoring programme" in page


def test_an_unknown_organisation_is_not_found(login: Any, officer: User, reference: None) -> None:
    client = login(officer)

    assert client.get("/organisations/999999").status_code == 404
    assert client.get("/organisations/999999/contacts").status_code == 404
    assert client.hx_get("/organisations/999999/activities").status_code == 404


# Contacts and activities -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["liaison_officer", "admin"])
def test_staff_read_contacts_and_activities(
    login: Any, make_user: Any, organisation: Organisation, role: str
) -> None:
    client = login(make_user(role))

    contacts = client.get(f"/organisations/{organisation.id}/contacts")
    activities = client.get(f"/organisations/{organisation.id}/activities")

    assert contacts.status_code == 200
    assert "Awa Diop" in contacts.text
    assert "awa.diop@example.org" in contacts.text
    assert activities.status_code == 200
    assert "Discussed the tutoring programme" in activities.text
    assert "Omar Officer" in activities.text


def test_the_representative_reads_their_own_contacts_and_activities(
    login: Any, make_representative: Any, organisation: Organisation
) -> None:
    client = login(make_representative(organisation))

    assert "awa.diop@example.org" in client.get(f"/organisations/{organisation.id}/contacts").text
    assert (
        "Discussed the tutoring programme"
        in client.hx_get(f"/organisations/{organisation.id}/activities").text
    )


def test_the_representative_of_a_private_organisation_reads_its_page_and_contacts(
    login: Any, make_representative: Any, private_organisation: Organisation
) -> None:
    client = login(make_representative(private_organisation))

    assert client.get(f"/organisations/{private_organisation.id}").status_code == 200
    assert "moussa.ba@example.org" in client.get(f"/organisations/{private_organisation.id}/contacts").text


@pytest.mark.parametrize("tab", PRIVATE_TABS)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_another_organisations_representative_cannot_open_its_private_tabs(
    login: Any,
    make_organisation: Any,
    make_representative: Any,
    organisation: Organisation,
    tab: str,
    htmx: bool,
) -> None:
    client = login(make_representative(make_organisation("Other Diaspora Group")))
    url = f"/organisations/{organisation.id}/{tab}"

    response = client.hx_get(url) if htmx else client.get(url)

    assert response.status_code == 403
    assert "awa.diop@example.org" not in response.text
    assert "Discussed the tutoring programme" not in response.text


def test_another_organisations_representative_never_sees_contact_emails(
    login: Any, make_organisation: Any, make_representative: Any, organisation: Organisation
) -> None:
    client = login(make_representative(make_organisation("Other Diaspora Group")))

    pages = [
        client.get(f"/organisations/{organisation.id}"),
        client.hx_get(f"/organisations/{organisation.id}"),
        client.get("/organisations?q=lyon"),
        client.get("/organisations/export/csv"),
    ]

    for response in pages:
        assert response.status_code == 200
        assert "awa.diop@example.org" not in response.text
        assert "bureau@asl.example.org" not in response.text


@pytest.mark.parametrize("tab", PRIVATE_TABS)
def test_a_trainer_cannot_open_private_tabs(
    login: Any, trainer: User, organisation: Organisation, tab: str
) -> None:
    response = login(trainer).get(f"/organisations/{organisation.id}/{tab}")

    assert response.status_code == 403


# Organisations without consent --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "/contacts", "/activities", "/edit"])
def test_a_trainer_gets_not_found_for_an_organisation_without_consent(
    login: Any, trainer: User, private_organisation: Organisation, path: str
) -> None:
    client = login(trainer)

    assert client.get(f"/organisations/{private_organisation.id}{path}").status_code == 404
    assert client.hx_get(f"/organisations/{private_organisation.id}{path}").status_code == 404


@pytest.mark.parametrize("path", ["", "/contacts", "/activities"])
def test_another_representative_gets_not_found_for_an_organisation_without_consent(
    login: Any,
    make_organisation: Any,
    make_representative: Any,
    private_organisation: Organisation,
    path: str,
) -> None:
    client = login(make_representative(make_organisation("Other Diaspora Group")))

    response = client.get(f"/organisations/{private_organisation.id}{path}")

    assert response.status_code == 404
    assert "Quiet Senegalese Mutual" not in response.text


def test_an_officer_opens_an_organisation_without_consent(
    login: Any, officer: User, private_organisation: Organisation
) -> None:
    page = login(officer).get(f"/organisations/{private_organisation.id}").text

    assert "Quiet Senegalese Mutual" in page
    assert "Consent to share: no" in page


# Merged records ----------------------------------------------------------------------------------------


@pytest.fixture
def merged(db: Session, make_organisation: Any, organisation: Organisation) -> Organisation:
    duplicate = make_organisation("Assoc. des Sénégalais Lyon")
    survivor = service.get_organisation(db, organisation.id)
    assert survivor is not None
    service.merge_organisations(db, survivor, duplicate)
    db.commit()
    return duplicate


def test_an_officer_opening_a_merged_record_is_pointed_to_the_survivor(
    login: Any, officer: User, merged: Organisation, organisation: Organisation
) -> None:
    page = login(officer).get(f"/organisations/{merged.id}").text

    assert "This record was merged into" in page
    assert f'<a href="/organisations/{organisation.id}">Association des Sénégalais de Lyon</a>' in page
    assert "Edit profile" not in page


def test_a_merged_record_is_not_found_for_a_trainer(login: Any, trainer: User, merged: Organisation) -> None:
    assert login(trainer).get(f"/organisations/{merged.id}").status_code == 404


def test_activities_are_listed_newest_first(
    login: Any, officer: User, make_organisation: Any, make_activity: Any
) -> None:
    organisation = make_organisation("Chronological Club")
    make_activity(organisation, "First call", kind="call", occurred_on=date(2023, 1, 10))
    make_activity(organisation, "Latest meeting", occurred_on=date(2024, 9, 1))
    make_activity(organisation, "Middle email", kind="email", occurred_on=date(2024, 2, 3))

    page = login(officer).hx_get(f"/organisations/{organisation.id}/activities").text

    assert page.index("Latest meeting") < page.index("Middle email") < page.index("First call")
