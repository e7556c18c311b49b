"""The directory: live search, filters, sorting, pages, HTMX fragments, and who sees which organisation."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations import directory as directory_module
from crm.organisations import service, vocabularies
from crm.organisations.schemas import OrganisationIn

ROW = re.compile(r'<a href="/organisations/(\d+)"><strong>(.*?)</strong></a>')


def names(response: Any) -> list[str]:
    """The organisations listed in a directory response, in display order."""
    assert response.status_code == 200, response.text
    return [html.unescape(name) for _, name in ROW.findall(response.text)]


@pytest.fixture
def directory(make_organisation: Any) -> dict[str, Any]:
    """A small directory with one organisation per distinguishing trait."""
    return {
        "lyon": make_organisation(
            "Association des Sénégalais de Lyon",
            acronym="ASL",
            residence_city="Lyon",
            description="Tutoring for pupils and their parents.",
            sectors=["education"],
            capital_kinds=["social"],
            audiences=["youth", "students"],
        ),
        "berlin": make_organisation(
            "Mali Health Diaspora",
            acronym="MHD",
            origin_country="ML",
            residence_country="DE",
            residence_city="Berlin",
            description="Mobile clinics in Kayes, staffed by volunteer doctors.",
            sectors=["health"],
            capital_kinds=["economic"],
            audiences=["refugees_displaced"],
        ),
        "london": make_organisation(
            "Kenya Investors Circle",
            acronym="KIC",
            origin_country="KE",
            residence_country="GB",
            residence_city="London",
            description="Angel investment in Nairobi start-ups.",
            sectors=["investment_entrepreneurship", "technology"],
            capital_kinds=["economic", "human"],
            audiences=["entrepreneurs"],
        ),
        "private": make_organisation(
            "Quiet Senegalese Mutual",
            origin_country="SN",
            residence_country="FR",
            residence_city="Marseille",
            sectors=["education"],
            audiences=["elderly"],
            consent_to_share=False,
        ),
    }


@pytest.fixture
def as_officer(login: Any, officer: User) -> Any:
    return login(officer)


# Text search -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Mali Health", ["Mali Health Diaspora"]),
        ("KIC", ["Kenya Investors Circle"]),
        ("berlin", ["Mali Health Diaspora"]),
        ("clinics", ["Mali Health Diaspora"]),
        ("tutoring", ["Association des Sénégalais de Lyon"]),
        ("senegalais", ["Association des Sénégalais de Lyon"]),
        ("SÉNÉGALAIS", ["Association des Sénégalais de Lyon"]),
        ("sene", ["Association des Sénégalais de Lyon", "Quiet Senegalese Mutual"]),
        ("lyon sene", ["Association des Sénégalais de Lyon"]),
        ("nairob", ["Kenya Investors Circle"]),
    ],
    ids=[
        "name",
        "acronym",
        "city",
        "description",
        "description word",
        "accent-insensitive",
        "capitals and accents",
        "prefix",
        "every word must match",
        "prefix in description",
    ],
)
def test_officer_finds_organisations_by_typing_part_of_what_they_know(
    as_officer: Any, directory: dict[str, Any], query: str, expected: list[str]
) -> None:
    assert names(as_officer.get("/organisations", params={"q": query})) == expected


def test_search_finds_a_name_written_in_arabic_script(as_officer: Any, make_organisation: Any) -> None:
    make_organisation("جمعية الجالية المغربية", origin_country="MA", residence_country="BE")
    make_organisation("Moroccan Students Brussels", origin_country="MA", residence_country="BE")

    assert names(as_officer.get("/organisations", params={"q": "جمعية"})) == ["جمعية الجالية المغربية"]


def test_search_sees_a_renamed_organisation_under_its_new_name(
    as_officer: Any, db: Session, directory: dict[str, Any]
) -> None:
    organisation = service.get_organisation(db, directory["london"].id)
    assert organisation is not None
    data = OrganisationIn.model_validate(
        {"name": "Nairobi Angels Network", "origin_country": "KE", "residence_country": "GB"}
    )
    service.update_organisation(db, organisation, data, organisation.version)
    db.commit()

    assert names(as_officer.get("/organisations", params={"q": "angels"})) == ["Nairobi Angels Network"]
    assert names(as_officer.get("/organisations", params={"q": "investors"})) == []


# Filters -----------------------------------------------------------------------------------------------

EVERYONE = [
    "Association des Sénégalais de Lyon",
    "Kenya Investors Circle",
    "Mali Health Diaspora",
    "Quiet Senegalese Mutual",
]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"residence": "FR"}, ["Association des Sénégalais de Lyon", "Quiet Senegalese Mutual"]),
        ({"residence": "fr"}, ["Association des Sénégalais de Lyon", "Quiet Senegalese Mutual"]),
        ({"residence": ["DE", "GB"]}, ["Kenya Investors Circle", "Mali Health Diaspora"]),
        ({"origin": "ML"}, ["Mali Health Diaspora"]),
        ({"origin": ["KE", "ML"]}, ["Kenya Investors Circle", "Mali Health Diaspora"]),
        ({"sector": "education"}, ["Association des Sénégalais de Lyon", "Quiet Senegalese Mutual"]),
        ({"sector": ["health", "technology"]}, ["Kenya Investors Circle", "Mali Health Diaspora"]),
        ({"capital": "economic"}, ["Kenya Investors Circle", "Mali Health Diaspora"]),
        ({"capital": "human"}, ["Kenya Investors Circle"]),
        ({"audience": "students"}, ["Association des Sénégalais de Lyon"]),
        ({"vulnerable": "1"}, ["Mali Health Diaspora", "Quiet Senegalese Mutual"]),
        ({"vulnerable": "on"}, ["Mali Health Diaspora", "Quiet Senegalese Mutual"]),
        (
            {"consent": "1"},
            ["Association des Sénégalais de Lyon", "Kenya Investors Circle", "Mali Health Diaspora"],
        ),
    ],
    ids=[
        "residence",
        "residence in lower case",
        "either of two residences",
        "origin",
        "either of two origins",
        "sector",
        "either of two sectors",
        "capital",
        "another capital",
        "audience",
        "serving vulnerable groups",
        "vulnerable as a checked box",
        "consent given",
    ],
)
def test_each_filter_narrows_the_directory(
    as_officer: Any, directory: dict[str, Any], params: dict[str, Any], expected: list[str]
) -> None:
    assert names(as_officer.get("/organisations", params=params)) == expected


def test_an_organisation_serving_refugees_counts_as_serving_vulnerable_groups(
    as_officer: Any, make_organisation: Any
) -> None:
    make_organisation("Refugee Welcome Diaspora", audiences=["refugees_displaced"])
    make_organisation("Youth Football Club", audiences=["youth", "general_public"])

    assert names(as_officer.get("/organisations?vulnerable=1")) == ["Refugee Welcome Diaspora"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"residence": "FR", "sector": "education", "consent": "1"}, ["Association des Sénégalais de Lyon"]),
        ({"q": "sene", "residence": "FR", "vulnerable": "1"}, ["Quiet Senegalese Mutual"]),
        ({"capital": "economic", "vulnerable": "1"}, ["Mali Health Diaspora"]),
        ({"origin": "SN", "sector": "health"}, []),
        (
            {"q": "diaspora", "residence": ["DE", "GB"], "sector": "health", "capital": "economic"},
            ["Mali Health Diaspora"],
        ),
    ],
    ids=[
        "residence+sector+consent",
        "text+residence+vulnerable",
        "capital+vulnerable",
        "nothing",
        "four at once",
    ],
)
def test_filters_combine_so_every_condition_must_hold(
    as_officer: Any, directory: dict[str, Any], params: dict[str, Any], expected: list[str]
) -> None:
    assert names(as_officer.get("/organisations", params=params)) == expected


def test_without_filters_everything_is_listed_by_name(as_officer: Any, directory: dict[str, Any]) -> None:
    assert names(as_officer.get("/organisations")) == EVERYONE


# Sorting -----------------------------------------------------------------------------------------------


@pytest.fixture
def sortable(make_organisation: Any) -> None:
    make_organisation("Beta Collective", residence_country="DE", description="Some words")
    make_organisation(
        "Alpha Union",
        residence_country="GB",
        description="A full profile",
        residence_city="London",
        sectors=["health"],
        capital_kinds=["social"],
        audiences=["youth"],
        email="alpha@example.org",
    )
    make_organisation("Gamma Network", residence_country="BE")


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Alpha Union", "Beta Collective", "Gamma Network"]),
        ("-name", ["Gamma Network", "Beta Collective", "Alpha Union"]),
        ("-created", ["Gamma Network", "Alpha Union", "Beta Collective"]),
        ("created", ["Beta Collective", "Alpha Union", "Gamma Network"]),
        ("-completeness", ["Alpha Union", "Beta Collective", "Gamma Network"]),
        ("completeness", ["Gamma Network", "Beta Collective", "Alpha Union"]),
        ("country", ["Gamma Network", "Beta Collective", "Alpha Union"]),
    ],
)
def test_officer_sorts_the_directory(as_officer: Any, sortable: None, sort: str, expected: list[str]) -> None:
    assert names(as_officer.get("/organisations", params={"sort": sort})) == expected


def test_the_sort_choice_is_kept_with_a_filter(
    as_officer: Any, sortable: None, make_organisation: Any
) -> None:
    make_organisation("Delta Health", residence_country="GB", sectors=["health"])

    response = as_officer.get("/organisations", params={"sort": "-name", "residence": "GB"})

    assert names(response) == ["Delta Health", "Alpha Union"]


def test_sorting_by_name_ignores_accents_and_case(as_officer: Any, make_organisation: Any) -> None:
    for name in ("Sénégalais de Lyon", "Étudiants Maliens", "amicale des Comores", "Zèbre Collectif"):
        make_organisation(name)
    expected = ["amicale des Comores", "Étudiants Maliens", "Sénégalais de Lyon", "Zèbre Collectif"]

    assert names(as_officer.get("/organisations", params={"sort": "name"})) == expected
    assert names(as_officer.get("/organisations", params={"sort": "-name"})) == expected[::-1]


# Pages -------------------------------------------------------------------------------------------------


@pytest.fixture
def thirty(make_organisation: Any) -> list[str]:
    created = [f"Organisation {number:02d}" for number in range(1, 31)]
    for name in created:
        make_organisation(name, sectors=["culture"])
    return created


def test_thirty_organisations_make_two_pages_of_twenty_five(as_officer: Any, thirty: list[str]) -> None:
    first = as_officer.get("/organisations")
    second = as_officer.get("/organisations?page=2")

    assert names(first) == thirty[:25]
    assert names(second) == thirty[25:]
    assert "Showing 1–25 of 30" in first.text
    assert "Showing 26–30 of 30" in second.text
    assert 'rel="next"' in first.text
    assert 'rel="next"' not in second.text
    assert 'rel="prev"' in second.text


def test_page_links_keep_the_filters(as_officer: Any, thirty: list[str]) -> None:
    response = as_officer.get("/organisations?sector=culture&sort=-name")

    link = re.search(r'<a href="([^"]*)" rel="next">', response.text)
    assert link is not None
    target = urlsplit(html.unescape(link.group(1)))
    assert target.path == "/organisations"
    assert parse_qs(target.query) == {"sector": ["culture"], "sort": ["-name"], "page": ["2"]}
    assert names(as_officer.get(f"/organisations?{target.query}")) == thirty[:5][::-1]


@pytest.mark.parametrize("page", ["3", "99", "99999999999999999999999"])
def test_a_page_beyond_the_last_shows_the_last_page(as_officer: Any, thirty: list[str], page: str) -> None:
    response = as_officer.get(f"/organisations?page={page}")

    assert names(response) == thirty[25:]
    assert "Showing 26–30 of 30" in response.text


@pytest.mark.parametrize("page", ["abc", "", "0", "-4", "1.5", "%00"])
def test_a_page_number_that_is_not_one_shows_the_first_page(
    as_officer: Any, thirty: list[str], page: str
) -> None:
    response = as_officer.get(f"/organisations?page={page}")

    assert names(response) == thirty[:25]


# What the page says ------------------------------------------------------------------------------------


def test_the_result_count_says_how_many_organisations_match(
    as_officer: Any, directory: dict[str, Any]
) -> None:
    assert "4 organisations" in as_officer.get("/organisations").text
    assert "2 organisations" in as_officer.get("/organisations?residence=FR").text
    one = as_officer.get("/organisations?origin=ML").text
    assert re.search(r'id="result-count"[^>]*>1 organisation<', one)


def test_an_empty_result_says_so_and_offers_to_clear_the_filters(
    as_officer: Any, directory: dict[str, Any]
) -> None:
    response = as_officer.hx_get("/organisations?q=zzzz&residence=FR")

    assert response.status_code == 200
    assert "0 organisations" in response.text
    assert "No organisation matches these filters." in response.text
    assert re.search(r'<a href="/organisations"[^>]*>Clear filters</a>', response.text)
    assert names(response) == []


def test_an_empty_directory_without_filters_does_not_offer_to_clear_them(
    as_officer: Any, reference: None
) -> None:
    response = as_officer.hx_get("/organisations")

    assert "No organisation matches these filters." in response.text
    assert "Clear filters" not in response.text


def test_an_htmx_search_returns_only_the_results(as_officer: Any, directory: dict[str, Any]) -> None:
    response = as_officer.hx_get("/organisations?q=berlin")

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="filters"' not in response.text
    assert 'id="result-count"' in response.text
    assert names(response) == ["Mali Health Diaspora"]


def test_a_boosted_navigation_gets_the_whole_page(as_officer: Any, directory: dict[str, Any]) -> None:
    response = as_officer.hx_get("/organisations?q=berlin", headers={"HX-Boosted": "true"})

    assert "<html" in response.text
    assert names(response) == ["Mali Health Diaspora"]


def test_a_shared_directory_address_opens_with_its_filters_filled_in(
    as_officer: Any, directory: dict[str, Any]
) -> None:
    response = as_officer.get(
        "/organisations?q=sene&residence=FR&origin=SN&sector=education&capital=social"
        "&audience=students&vulnerable=1&consent=1&sort=-created"
    )
    page = response.text

    assert "<html" in page
    assert 'name="q" value="sene"' in page
    assert re.search(r'id="f-residence".*?<option value="FR" selected>', page, re.S)
    assert re.search(r'id="f-origin".*?<option value="SN" selected>', page, re.S)
    assert '<input type="checkbox" name="sector" value="education" checked>' in page
    assert '<input type="checkbox" name="capital" value="social" checked>' in page
    assert '<input type="checkbox" name="audience" value="students" checked>' in page
    assert '<input type="checkbox" name="vulnerable" value="1" checked>' in page
    assert '<input type="checkbox" name="consent" value="1" checked>' in page
    assert '<option value="-created" selected>' in page
    assert '<input type="checkbox" name="sector" value="health" checked>' not in page


def test_the_export_and_map_links_carry_the_current_filters(
    as_officer: Any, directory: dict[str, Any]
) -> None:
    page = as_officer.get("/organisations?residence=FR&sector=education").text

    assert 'href="/organisations/export/csv?residence=FR&amp;sector=education"' in page
    assert 'href="/organisations/export/xlsx?residence=FR&amp;sector=education"' in page
    assert 'href="/map?residence=FR&amp;sector=education"' in page


# Garbage never breaks the page -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "residence=ZZZZ",
        "residence=ZZ",
        "residence=",
        "origin=%C3%A9%C3%A9",
        "sort=bogus",
        "sort=",
        "sort=name;DROP TABLE organisations",
        "vulnerable=maybe",
        "consent=yesplease",
        "sector=nonsense&capital=&audience=%27",
        "q=" + "a" * 500,
        "q=" + "sene " * 100,
        'q="',
        'q="sene',
        "q=*",
        "q=sene*",
        "q=AND",
        "q=sene AND lyon",
        "q=NOT",
        "q=OR",
        "q=(",
        "q=)",
        "q=-",
        "q=-sene",
        "q=sene:*",
        "q=%26 | !",
        "q=NEAR(a b)",
        "q=^",
        "q=%00",
        "q=جمعية",
        "q=東京",
        "q=😀",
        "q=" + "%25" * 40,
    ],
)
def test_garbage_in_the_address_never_breaks_the_directory(
    as_officer: Any, directory: dict[str, Any], query: str
) -> None:
    full = as_officer.get(f"/organisations?{query}")
    fragment = as_officer.hx_get(f"/organisations?{query}")

    assert full.status_code == 200, full.text
    assert fragment.status_code == 200, fragment.text
    assert 'id="result-count"' in fragment.text


def test_an_unknown_residence_code_is_ignored_rather_than_an_error(
    as_officer: Any, directory: dict[str, Any]
) -> None:
    assert names(as_officer.get("/organisations?residence=ZZZZ")) == EVERYONE
    assert names(as_officer.get("/organisations?sort=bogus")) == EVERYONE
    assert names(as_officer.get("/organisations?vulnerable=maybe")) == EVERYONE


def test_search_operators_are_read_as_plain_words(as_officer: Any, directory: dict[str, Any]) -> None:
    assert names(as_officer.get('/organisations?q="sénégalais"')) == ["Association des Sénégalais de Lyon"]
    assert names(as_officer.get("/organisations?q=(lyon)")) == ["Association des Sénégalais de Lyon"]
    assert names(as_officer.get("/organisations?q=-berlin")) == ["Mali Health Diaspora"]
    assert names(as_officer.get("/organisations?q=berlin OR lyon")) == []


def test_anonymous_visitors_are_sent_to_sign_in(client: Any, directory: dict[str, Any]) -> None:
    response = client.get("/organisations?q=sene", follow_redirects=False)

    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login?next=")


# Who sees which organisation ---------------------------------------------------------------------------


def test_a_trainer_does_not_see_organisations_without_consent(
    login: Any, trainer: User, directory: dict[str, Any]
) -> None:
    client = login(trainer)

    assert names(client.get("/organisations")) == EVERYONE[:3]
    assert names(client.get("/organisations?q=quiet")) == []
    assert names(client.get("/organisations?residence=FR")) == ["Association des Sénégalais de Lyon"]
    assert "3 organisations" in client.get("/organisations").text


def test_a_representative_sees_their_own_organisation_even_without_consent(
    login: Any, directory: dict[str, Any], make_representative: Any
) -> None:
    client = login(make_representative(directory["private"]))

    assert names(client.get("/organisations")) == EVERYONE
    assert names(client.get("/organisations?q=quiet")) == ["Quiet Senegalese Mutual"]


def test_a_representative_does_not_see_another_organisation_without_consent(
    login: Any, directory: dict[str, Any], make_representative: Any
) -> None:
    client = login(make_representative(directory["lyon"]))

    assert names(client.get("/organisations")) == EVERYONE[:3]
    assert names(client.get("/organisations?q=quiet")) == []


@pytest.mark.parametrize("role", ["admin", "liaison_officer"])
def test_staff_see_every_organisation_and_which_ones_are_private(
    login: Any, make_user: Any, directory: dict[str, Any], role: str
) -> None:
    response = login(make_user(role)).get("/organisations")

    assert names(response) == EVERYONE
    assert response.text.count(">private</span>") == 1


def test_merged_organisations_are_hidden_from_the_directory(
    as_officer: Any, db: Session, directory: dict[str, Any], make_organisation: Any
) -> None:
    duplicate = make_organisation("Assoc. Sénégalais Lyon", residence_city="Lyon")
    survivor = service.get_organisation(db, directory["lyon"].id)
    assert survivor is not None
    service.merge_organisations(db, survivor, duplicate)
    db.commit()

    assert names(as_officer.get("/organisations?q=lyon")) == ["Association des Sénégalais de Lyon"]
    assert "4 organisations" in as_officer.get("/organisations").text


# Counting stops at a cap -------------------------------------------------------------------------------


@pytest.fixture
def cap_of_three(monkeypatch: pytest.MonkeyPatch) -> Any:
    """COUNT_CAP lowered to 3; the cached statements are built again with it, and forgotten afterwards."""

    def forget() -> None:
        for built in (
            directory_module._count_statement,
            directory_module._page_statement,
            directory_module._directory_select,
        ):
            built.cache_clear()

    forget()
    monkeypatch.setattr(directory_module, "COUNT_CAP", 3)
    yield
    monkeypatch.undo()
    forget()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/organisations", "More than 3 organisations"),
        ("/organisations?residence=FR", "3 organisations"),
        ("/organisations?consent=1", "More than 3 organisations"),
        ("/organisations?sector=education", "2 organisations"),
    ],
    ids=["unfiltered", "filtered, exactly the cap", "filtered over the cap", "linked filter"],
)
def test_counts_past_the_cap_say_more_than(
    as_officer: Any,
    directory: dict[str, Any],
    make_organisation: Any,
    cap_of_three: None,
    url: str,
    expected: str,
) -> None:
    make_organisation("Another Association")  # five organisations in all, over the cap of three
    assert expected in as_officer.get(url).text


@pytest.mark.parametrize(("extra", "expected"), [(0, "3 organisations"), (1, "More than 3 organisations")])
def test_the_cap_is_exact_for_people_who_see_only_consenting_organisations(
    login: Any,
    directory: dict[str, Any],
    make_organisation: Any,
    make_representative: Any,
    cap_of_three: None,
    extra: int,
    expected: str,
) -> None:
    for number in range(extra):
        make_organisation(f"Consenting {number}")
    outsider = login(make_representative(directory["lyon"]))
    member = login(make_representative(directory["private"]))

    assert expected in outsider.get("/organisations").text
    # The private organisation's own representative also counts it: one more than everyone else.
    assert "More than 3 organisations" in member.get("/organisations").text


def test_the_api_says_when_its_total_stopped_at_the_cap(
    login: Any, admin: User, directory: dict[str, Any], cap_of_three: None, db: Session
) -> None:
    from crm.accounts import service as accounts

    token = accounts.create_api_token(db, admin, "cap").secret
    db.commit()
    client = login(admin)
    body = client.get("/api/v1/organisations", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["total_is_lower_bound"] is True
    assert len(body["items"]) == 4


# "Serves vulnerable groups" is stored on the organisation and kept up to date ---------------------------


def test_editing_audiences_updates_serves_vulnerable(
    as_officer: Any, db: Session, make_organisation: Any
) -> None:
    organisation = make_organisation("Changing Audiences Club", audiences=["youth"])
    assert names(as_officer.get("/organisations?vulnerable=1")) == []

    service.update_organisation(
        db,
        organisation,
        OrganisationIn(
            name="Changing Audiences Club",
            origin_country="SN",
            residence_country="FR",
            consent_to_share=True,
            audiences=["youth", "elderly"],
        ),
        organisation.version,
    )
    db.commit()
    assert names(as_officer.get("/organisations?vulnerable=1")) == ["Changing Audiences Club"]


def test_a_reference_update_that_flags_an_audience_reclassifies_organisations(
    as_officer: Any, db: Session, make_organisation: Any
) -> None:
    from crm.seeding import read_seed

    make_organisation("Student Mentors", audiences=["students"])
    assert names(as_officer.get("/organisations?vulnerable=1")) == []

    audiences = read_seed("reference/audiences.json")
    for entry in audiences:
        if entry["code"] == "students":
            entry["vulnerable"] = True
    vocabularies.load_reference(
        db, read_seed("reference/sectors.json"), read_seed("reference/capital_kinds.json"), audiences
    )
    db.commit()
    assert names(as_officer.get("/organisations?vulnerable=1")) == ["Student Mentors"]


def test_a_merge_brings_the_duplicates_vulnerable_audience(
    as_officer: Any, db: Session, make_organisation: Any
) -> None:
    survivor = make_organisation("Merged Survivor", audiences=["youth"])
    duplicate = make_organisation("Merged Survivor (copy)", audiences=["refugees_displaced"])
    service.merge_organisations(db, survivor, duplicate)
    db.commit()
    assert names(as_officer.get("/organisations?vulnerable=1")) == ["Merged Survivor"]
