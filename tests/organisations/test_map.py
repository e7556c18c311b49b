"""The map: where organisations are and where they come from, each country linking to the filtered directory."""

from __future__ import annotations

import html
import itertools
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations import service
from crm.organisations.controllers import legend_bands
from crm.organisations.models import Organisation
from crm.organisations.worldmap import bucket


@pytest.fixture
def organisations(make_organisation: Any) -> dict[str, Organisation]:
    return {
        "lyon": make_organisation("Association des Sénégalais de Lyon", sectors=["education"]),
        "paris": make_organisation("Maliens de Paris", origin_country="ML", sectors=["health"]),
        "berlin": make_organisation(
            "Mali Health Diaspora", origin_country="ML", residence_country="DE", sectors=["health"]
        ),
        "private": make_organisation(
            "Quiet Senegalese Mutual", residence_country="BE", consent_to_share=False
        ),
    }


def country_links(page: str) -> dict[str, dict[str, list[str]]]:
    """The SVG's country links: data-country code -> query of the directory address it opens."""
    svg = re.search(r"<svg .*?</svg>", page, re.S)
    assert svg is not None
    links = {}
    for href, code in re.findall(
        r'<a href="([^"]+)" aria-label="[^"]*"><title>[^<]*</title><path [^>]*data-country="(\w+)"',
        svg.group(0),
    ):
        target = urlsplit(html.unescape(href))
        assert target.path == "/organisations"
        links[code] = parse_qs(target.query)
    return links


def table(page: str) -> dict[str, int]:
    """The accessible table under the map: country name -> count."""
    rows = re.findall(r'<tr><td><a href="[^"]+">([^<]+)</a></td><td>(\d+)</td></tr>', page)
    return {html.unescape(name): int(count) for name, count in rows}


def test_the_map_shows_where_organisations_are_and_links_each_country_to_the_directory(
    login: Any, officer: User, organisations: dict[str, Organisation]
) -> None:
    response = login(officer).get("/map")

    assert response.status_code == 200
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="worldmap"' in response.text
    assert "Organisations by country of residence" in response.text
    assert country_links(response.text) == {
        "FR": {"residence": ["FR"]},
        "DE": {"residence": ["DE"]},
        "BE": {"residence": ["BE"]},
    }
    assert table(response.text) == {"France": 2, "Germany": 1, "Belgium": 1}
    assert "4 organisations" in response.text


def test_the_map_by_origin_links_to_the_directory_filtered_by_origin(
    login: Any, officer: User, organisations: dict[str, Organisation]
) -> None:
    page = login(officer).get("/map?by=origin").text

    assert "Organisations by country of origin" in page
    assert country_links(page) == {"SN": {"origin": ["SN"]}, "ML": {"origin": ["ML"]}}
    assert table(page) == {"Mali": 2, "Senegal": 2}
    assert '<a href="/map?by=origin" aria-current="page">' in page


def test_a_country_link_opens_the_directory_with_that_countrys_organisations(
    login: Any, officer: User, organisations: dict[str, Organisation]
) -> None:
    client = login(officer)
    query = country_links(client.get("/map?by=origin").text)["ML"]

    directory = client.get("/organisations", params=query).text

    assert "Maliens de Paris" in directory
    assert "Mali Health Diaspora" in directory
    assert "Association des Sénégalais de Lyon" not in directory


def test_a_country_without_organisations_is_drawn_but_not_linked(
    login: Any, officer: User, organisations: dict[str, Organisation]
) -> None:
    page = login(officer).get("/map").text

    assert '<path d="' in page
    assert 'data-country="BR"' in page
    assert "BR" not in country_links(page)


@pytest.mark.parametrize(
    ("query", "links", "counts"),
    [
        ("sector=health", {"FR": ["FR"], "DE": ["DE"]}, {"France": 1, "Germany": 1}),
        ("q=mali", {"FR": ["FR"], "DE": ["DE"]}, {"France": 1, "Germany": 1}),
        ("origin=SN&consent=1", {"FR": ["FR"]}, {"France": 1}),
    ],
)
def test_the_directory_filters_apply_to_the_map_and_its_links(
    login: Any,
    officer: User,
    organisations: dict[str, Organisation],
    query: str,
    links: dict[str, list[str]],
    counts: dict[str, int],
) -> None:
    page = login(officer).get(f"/map?{query}").text
    found = country_links(page)

    assert {code: q["residence"] for code, q in found.items()} == links
    for code_query in found.values():
        for key, values in parse_qs(query).items():
            assert code_query[key] == values
    assert table(page) == counts
    assert "Filtered as in the directory." in page


def test_the_directory_links_to_the_map_with_the_same_filters(
    login: Any, officer: User, organisations: dict[str, Organisation]
) -> None:
    client = login(officer)
    link = re.search(
        r'<a href="(/map\?[^"]*)">Show on the map</a>', client.get("/organisations?sector=health").text
    )
    assert link is not None

    page = client.get(html.unescape(link.group(1))).text

    assert table(page) == {"France": 1, "Germany": 1}


def test_a_trainer_does_not_count_organisations_without_consent(
    login: Any, trainer: User, organisations: dict[str, Organisation]
) -> None:
    page = login(trainer).get("/map").text

    assert "BE" not in country_links(page)
    assert table(page) == {"France": 2, "Germany": 1}
    assert "3 organisations" in page


def test_a_representative_counts_their_own_private_organisation(
    login: Any, make_representative: Any, organisations: dict[str, Organisation]
) -> None:
    page = login(make_representative(organisations["private"])).get("/map").text

    assert table(page) == {"France": 2, "Germany": 1, "Belgium": 1}


def test_merged_organisations_are_not_counted(
    login: Any, officer: User, db: Session, organisations: dict[str, Organisation], make_organisation: Any
) -> None:
    duplicate = make_organisation("Maliens à Paris", origin_country="ML")
    service.merge_organisations(db, organisations["paris"], duplicate)
    db.commit()

    assert table(login(officer).get("/map").text)["France"] == 2


def test_an_empty_map_says_there_is_nothing_to_show(login: Any, officer: User, reference: None) -> None:
    page = login(officer).get("/map").text

    assert "<svg" in page
    assert country_links(page) == {}
    assert "No organisation to show." in page


@pytest.mark.parametrize(
    "query", ["by=nonsense", "by=", "by=origin&origin=ZZZZ", "q=%22(", "sector=x&by=residence"]
)
def test_garbage_in_the_map_address_never_breaks_it(
    login: Any, officer: User, organisations: dict[str, Organisation], query: str
) -> None:
    response = login(officer).get(f"/map?{query}")

    assert response.status_code == 200
    assert "<svg" in response.text


def test_anonymous_visitors_are_sent_to_sign_in(client: Any, reference: None) -> None:
    response = client.get("/map", follow_redirects=False)

    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")


def test_the_legend_gives_the_number_of_organisations_each_colour_stands_for(
    login: Any, officer: User, organisations: dict[str, Organisation]
) -> None:
    page = login(officer).get("/map").text

    legend = re.search(r'<div class="map-legend">.*?</div>', page, re.S)
    assert legend is not None
    assert "Organisations per country" in legend.group(0)
    entries = re.findall(
        r'<span class="swatch (b\d)" aria-hidden="true"></span>([^<]+)</li>', legend.group(0)
    )
    assert entries == [("b0", "0"), ("b4", "1"), ("b5", "2")]


@pytest.mark.parametrize("most", [1, 2, 7, 47, 1000, 123_457])
def test_the_legend_bands_cover_every_count_once_in_the_maps_colours(most: int) -> None:
    bands = legend_bands(most)

    assert bands[0][1] == 1
    assert bands[-1][2] == most
    for (_band, _fewest, last), (_next_band, first, _most) in itertools.pairwise(bands):
        assert first == last + 1
    for band, fewest, last in bands:
        assert bucket(fewest, most) == band == bucket(last, most)
