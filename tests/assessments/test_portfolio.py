"""The officers' capacity portfolio: organisations per capacity band in each domain and overall, over each live
organisation's latest validated assessment; filters; the organisations behind every figure; gains and declines.
Through real HTTP, as an officer reads it."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments.models import Framework
from crm.organisations import service as organisations

FIGURE = re.compile(r'<a href="(/assessments/portfolio/organisations\?[^"]*)">(\d+)</a>')
LISTED = re.compile(r'<a href="/organisations/(\d+)"><strong>(.*?)</strong></a>')


def figures(page: Any) -> dict[tuple[str, str | None], int]:
    """(domain, band) → the number shown, for every figure the page links; band None for a row's total."""
    assert page.status_code == 200, page.text
    found = {}
    for url, number in FIGURE.findall(page.text):
        query = dict(parse_qsl(urlsplit(html.unescape(url)).query))
        found[query["domain"], query.get("band")] = int(number)
    return found


def links(page: Any) -> dict[tuple[str, str | None], str]:
    found = {}
    for url, _number in FIGURE.findall(page.text):
        url = html.unescape(url)
        query = dict(parse_qsl(urlsplit(url).query))
        found[query["domain"], query.get("band")] = url
    return found


def listed(page: Any) -> list[str]:
    assert page.status_code == 200, page.text
    return [html.unescape(name) for _id, name in LISTED.findall(page.text)]


def result_count(page: Any) -> int:
    found = re.search(r'<p id="result-count">\s*(\d+)', page.text)
    assert found, page.text
    return int(found.group(1))


@pytest.fixture
def as_officer(login: Any, officer: User) -> Any:
    return login(officer)


@pytest.fixture
def portfolio(make_organisation: Any, validated_round: Any, framework: Framework) -> dict[str, Any]:
    """Three assessed organisations and one that never was.

    Lyon (FR, from SN, education): 3 everywhere → expanding in every domain and overall.
    Berlin (DE, from ML, health): governance 1, finance 4, digital 2 → nascent, mature, emerging; overall 2.33
    emerging. Paris (FR, from ML, health): 4 everywhere → mature.
    """
    lyon = make_organisation(
        "Lyon Tutors", residence_country="FR", origin_country="SN", sectors=["education"]
    )
    berlin = make_organisation(
        "Berlin Clinics", residence_country="DE", origin_country="ML", sectors=["health"]
    )
    paris = make_organisation(
        "Paris Doctors", residence_country="FR", origin_country="ML", sectors=["health"]
    )
    make_organisation("Never Assessed", residence_country="FR")
    validated_round(lyon, framework, "3")
    validated_round(
        berlin,
        framework,
        {
            "governance.first": "1",
            "governance.second": "1",
            "finance.first": "4",
            "finance.second": "4",
            "digital.first": "2",
            "digital.second": "2",
        },
    )
    validated_round(paris, framework, "4")
    return {"lyon": lyon, "berlin": berlin, "paris": paris}


def test_officer_sees_how_many_organisations_stand_in_each_band_per_domain_and_overall(
    as_officer: Any, portfolio: dict[str, Any]
) -> None:
    shown = figures(as_officer.get("/assessments/portfolio"))

    assert shown == {
        ("overall", None): 3,
        ("overall", "emerging"): 1,
        ("overall", "expanding"): 1,
        ("overall", "mature"): 1,
        ("governance", "nascent"): 1,
        ("governance", "expanding"): 1,
        ("governance", "mature"): 1,
        ("governance", None): 3,
        ("finance", "expanding"): 1,
        ("finance", "mature"): 2,
        ("finance", None): 3,
        ("digital", "emerging"): 1,
        ("digital", "expanding"): 1,
        ("digital", "mature"): 1,
        ("digital", None): 3,
    }


def test_domains_are_named_and_ordered_as_in_the_framework(
    as_officer: Any, portfolio: dict[str, Any]
) -> None:
    page = as_officer.get("/assessments/portfolio").text
    rows = re.findall(r'<th scope="row">([^<]+)</th>', page)

    assert rows == ["Overall", "Governance", "Finance", "Digital"]


def test_the_chart_is_an_image_with_a_title_and_the_figures_in_words(
    as_officer: Any, portfolio: dict[str, Any]
) -> None:
    page = as_officer.get("/assessments/portfolio").text
    svg = re.search(r"<svg[^>]*>(.*?)</svg>", page, re.S)

    assert svg and 'role="img"' in svg.group(0)
    assert "<title" in svg.group(1)
    assert "Finance: Expanding 1, Mature 2." in svg.group(1)


def test_only_the_latest_validated_assessment_of_an_organisation_counts(
    as_officer: Any,
    db: Session,
    make_organisation: Any,
    make_representative: Any,
    validated_round: Any,
    open_round: Any,
    answer: Any,
    framework: Framework,
) -> None:
    organisation = make_organisation("Progressing Network")
    validated_round(organisation, framework, "1", on=date(2024, 3, 1))
    validated_round(organisation, framework, "4", on=date(2025, 3, 1))
    chair = make_representative(organisation)
    answering = open_round(organisation, chair, framework, date(2026, 3, 1))
    answer(answering, chair, "2")

    shown = figures(as_officer.get("/assessments/portfolio"))

    assert shown[("overall", None)] == 1
    assert shown[("overall", "mature")] == 1
    assert ("overall", "nascent") not in shown and ("overall", "emerging") not in shown


def test_a_merged_organisation_is_no_longer_counted(
    as_officer: Any, db: Session, portfolio: dict[str, Any]
) -> None:
    organisations.merge_organisations(db, portfolio["paris"], portfolio["berlin"])
    db.commit()

    shown = figures(as_officer.get("/assessments/portfolio"))

    assert shown[("overall", None)] == 2
    assert ("overall", "emerging") not in shown and ("governance", "nascent") not in shown
    drill = as_officer.get("/assessments/portfolio/organisations?domain=overall")
    assert sorted(listed(drill)) == ["Lyon Tutors", "Paris Doctors"]


@pytest.mark.parametrize(
    ("query", "overall"),
    [
        ("residence=FR", {None: 2, "expanding": 1, "mature": 1}),
        ("origin=ML", {None: 2, "emerging": 1, "mature": 1}),
        ("sector=health", {None: 2, "emerging": 1, "mature": 1}),
        ("residence=FR&origin=ML&sector=health", {None: 1, "mature": 1}),
        ("residence=fr", {None: 2, "expanding": 1, "mature": 1}),
    ],
    ids=["residence", "origin", "sector", "all three", "lower-case country"],
)
def test_filters_narrow_every_figure(
    as_officer: Any, portfolio: dict[str, Any], query: str, overall: dict[str | None, int]
) -> None:
    shown = figures(as_officer.get(f"/assessments/portfolio?{query}"))

    assert {band: n for (domain, band), n in shown.items() if domain == "overall"} == overall
    assert all(n <= overall[None] for n in shown.values())


def test_the_filters_stay_chosen_and_can_be_cleared(as_officer: Any, portfolio: dict[str, Any]) -> None:
    page = as_officer.get("/assessments/portfolio?residence=FR&sector=health").text

    assert '<option value="FR" selected>' in page
    assert '<option value="health" selected>' in page
    assert 'href="/assessments/portfolio" class="secondary"' in page


@pytest.mark.parametrize("query", ["", "residence=FR", "origin=ML&sector=health"])
def test_each_figure_opens_as_many_organisations_as_it_counts(
    as_officer: Any, portfolio: dict[str, Any], query: str
) -> None:
    page = as_officer.get(f"/assessments/portfolio?{query}")
    shown = figures(page)
    assert shown

    for key, url in links(page).items():
        drill = as_officer.get(url)
        assert result_count(drill) == shown[key], url
        assert len(listed(drill)) == shown[key], url
        # The drill-down keeps the portfolio's filters.
        assert dict(parse_qsl(query)).items() <= dict(parse_qsl(urlsplit(url).query)).items()


def test_the_organisations_behind_a_figure_are_the_ones_in_that_band(
    as_officer: Any, portfolio: dict[str, Any]
) -> None:
    mature_finance = as_officer.get("/assessments/portfolio/organisations?domain=finance&band=mature")
    nascent_governance = as_officer.get("/assessments/portfolio/organisations?domain=governance&band=nascent")

    assert listed(mature_finance) == ["Berlin Clinics", "Paris Doctors"]
    assert listed(nascent_governance) == ["Berlin Clinics"]
    assert re.search(r'href="/assessments/\d+/results"', nascent_governance.text)


def test_a_figure_of_many_organisations_is_listed_page_by_page(
    as_officer: Any, make_organisation: Any, validated_round: Any, framework: Framework
) -> None:
    for number in range(27):
        validated_round(make_organisation(f"Digital Group {number:02d}"), framework, "2")

    shown = figures(as_officer.get("/assessments/portfolio"))
    first = as_officer.get("/assessments/portfolio/organisations?domain=digital&band=emerging")
    second = as_officer.get("/assessments/portfolio/organisations?domain=digital&band=emerging&page=2")

    assert shown[("digital", "emerging")] == 27
    assert result_count(first) == result_count(second) == 27
    assert len(listed(first)) == 25 and len(listed(second)) == 2
    assert set(listed(first)).isdisjoint(listed(second))
    following = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert following
    next_query = dict(parse_qsl(urlsplit(html.unescape(following.group(1))).query))
    assert next_query == {"domain": "digital", "band": "emerging", "page": "2"}


def test_the_largest_gains_and_declines_come_first_with_links_to_their_results(
    as_officer: Any, make_organisation: Any, validated_round: Any, framework: Framework
) -> None:
    rounds = {}
    for name, before, after in [
        ("Small Gain", "2", "3"),
        ("Big Gain", "1", "4"),
        ("Small Decline", "3", "2"),
        ("Big Decline", "4", "1"),
        ("Steady", "3", "3"),
    ]:
        organisation = make_organisation(name)
        validated_round(organisation, framework, before, on=date(2025, 3, 1))
        rounds[name] = (organisation, validated_round(organisation, framework, after, on=date(2026, 3, 1)))

    page = as_officer.get("/assessments/portfolio").text
    gains, declines = (
        re.findall(r'<a href="/organisations/\d+"><strong>(.*?)</strong></a>', section)
        for section in page.split('id="movers-')[1:3]
    )

    assert gains == ["Big Gain", "Small Gain"]
    assert declines == ["Big Decline", "Small Decline"]
    assert "+3.00" in page and "-3.00" in page
    organisation, latest = rounds["Big Gain"]
    assert f'href="/assessments/{latest.id}/results"' in page
    assert f'href="/organisations/{organisation.id}"' in page


def test_the_portfolio_says_so_when_no_assessment_is_validated_yet(
    as_officer: Any, make_organisation: Any, framework: Framework
) -> None:
    make_organisation()

    page = as_officer.get("/assessments/portfolio")

    assert page.status_code == 200
    assert "No organisation has a validated assessment yet" in page.text
    assert "<svg" not in page.text


def test_filters_that_match_no_assessed_organisation_say_so(
    as_officer: Any, portfolio: dict[str, Any]
) -> None:
    page = as_officer.get("/assessments/portfolio?residence=JP")

    assert "No organisation matching these filters has a validated assessment yet." in page.text


@pytest.mark.parametrize("query", ["domain=astrology", "domain=finance&band=legendary", "band=" + "x" * 300])
def test_a_figure_that_does_not_exist_is_not_found(
    as_officer: Any, portfolio: dict[str, Any], query: str
) -> None:
    assert as_officer.get(f"/assessments/portfolio/organisations?{query}").status_code == 404


def test_the_drill_down_without_a_figure_lists_every_assessed_organisation(
    as_officer: Any, portfolio: dict[str, Any]
) -> None:
    page = as_officer.get("/assessments/portfolio/organisations")

    assert listed(page) == ["Berlin Clinics", "Lyon Tutors", "Paris Doctors"]


@pytest.mark.parametrize("role", ["org_representative", "trainer"])
def test_the_portfolio_is_refused_to_anyone_but_the_government_side(
    login: Any, make_user: Any, portfolio: dict[str, Any], role: str
) -> None:
    client = login(make_user(role))

    assert client.get("/assessments/portfolio").status_code == 403
    assert client.get("/assessments/portfolio/organisations?domain=finance&band=mature").status_code == 403


def test_a_representative_is_refused_the_portfolio_even_for_its_own_organisation(
    login: Any, make_representative: Any, portfolio: dict[str, Any]
) -> None:
    client = login(make_representative(portfolio["lyon"]))

    assert client.get("/assessments/portfolio").status_code == 403


def test_the_directory_band_filter_lists_the_organisations_of_the_overall_figure(
    as_officer: Any, portfolio: dict[str, Any]
) -> None:
    for band in ("emerging", "expanding", "mature"):
        drill = as_officer.get(f"/assessments/portfolio/organisations?domain=overall&band={band}")
        directory = as_officer.get(f"/organisations?capacity_band={band}")
        assert listed(drill) == listed(directory)
