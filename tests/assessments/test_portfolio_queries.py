"""The portfolio's cost and its pure parts: the SQL statements of the portfolio and its drill-down do not grow
with the number of assessments; the stacked bars and the drill-down addresses, without a database.

Issue acceptance: "SQL statements per page constant in the number of assessments (test)"."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import Engine, event

from crm.accounts.models import User
from crm.assessments import portfolio
from crm.assessments.models import Framework
from crm.assessments.portfolio_chart import BarRow, Segment, stacked_bars_svg

# Statements per request as measured: BEGIN (SQLite), the signed-in user with their roles, BEGIN again; then
# the portfolio's domain names, bands per domain, bands overall, gains and declines (the sector vocabulary
# comes from the per-process cache). The drill-down: domain names (to name a domain's figure), its count, its
# page.
BOUNDS = {"portfolio": 8, "portfolio, filtered": 8, "drill-down": 6, "drill-down, filtered": 6}
PAGES = {
    "portfolio": "/assessments/portfolio",
    "portfolio, filtered": "/assessments/portfolio?residence=FR&origin=SN&sector=education",
    "drill-down": "/assessments/portfolio/organisations?domain=finance&band=expanding",
    "drill-down, filtered": "/assessments/portfolio/organisations?domain=overall&band=mature&residence=FR",
}


def statements_per_page(client: Any, engine: Engine) -> dict[str, int]:
    counts = {}
    for name, url in PAGES.items():
        assert client.get(url).status_code == 200  # opens connections and fills the caches first
        seen: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any, seen: list[str] = seen) -> None:
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", record)
        counts[name] = len(seen)
    return counts


def assess(
    make_organisation: Any, validated_round: Any, framework: Framework, start: int, count: int
) -> None:
    """Organisations in France from Senegal, each with two validated rounds (so changes too)."""
    for number in range(start, start + count):
        organisation = make_organisation(f"Assessed {number:03d}", sectors=["education"])
        validated_round(organisation, framework, "2", on=date(2025, 3, 1))
        validated_round(organisation, framework, "3" if number % 2 else "1", on=date(2026, 3, 1))


def test_the_portfolio_runs_as_many_statements_whatever_the_number_of_assessments(
    login: Any,
    officer: User,
    engine: Engine,
    make_organisation: Any,
    validated_round: Any,
    framework: Framework,
) -> None:
    assess(make_organisation, validated_round, framework, 1, 2)
    client = login(officer)
    few = statements_per_page(client, engine)

    assess(make_organisation, validated_round, framework, 100, 12)
    many = statements_per_page(client, engine)

    assert many == few
    over = {name: (count, BOUNDS[name]) for name, count in many.items() if count > BOUNDS[name]}
    assert not over, f"more statements than allowed (count, bound): {over}"


# Pure parts ---------------------------------------------------------------------------------------------


def rows() -> list[BarRow]:
    return [
        BarRow("Overall", [Segment("nascent", "Nascent", 1), Segment("mature", "Mature", 3)]),
        BarRow("Finance & <money>", [Segment("emerging", "Emerging", 2), Segment("none", "No score", 0)]),
        BarRow("Digital", [Segment("nascent", "Nascent", 0)]),
    ]


def test_the_chart_is_an_image_named_by_its_title_and_description() -> None:
    svg = str(
        stacked_bars_svg(rows(), "Bands", "Overall: Nascent 1, Mature 3.", "%(row)s: %(count)d", "None")
    )

    assert svg.startswith('<svg class="band-chart" id="band-chart" role="img"')
    assert 'aria-labelledby="band-chart-title band-chart-desc"' in svg
    assert '<title id="band-chart-title">Bands</title>' in svg
    assert '<desc id="band-chart-desc">Overall: Nascent 1, Mature 3.</desc>' in svg


def test_each_bar_is_split_in_proportion_to_its_bands() -> None:
    svg = str(stacked_bars_svg(rows(), "Bands", "", "%(row)s, %(band)s: %(count)d (%(percent)d%%)", "None"))
    bars = re.findall(r'<rect class="band band-(\w+)" x="([\d.]+)%" y="(\d+)" width="([\d.]+)%"', svg)

    assert bars == [
        ("nascent", "0", "22", "25"),
        ("mature", "25", "22", "75"),
        ("emerging", "0", "72", "100"),
    ]
    assert "<title>Overall, Mature: 3 (75%)</title>" in svg


def test_a_bar_without_organisations_says_so_and_labels_are_escaped() -> None:
    svg = str(stacked_bars_svg(rows(), "Bands", "", "%(row)s", "No organisation"))

    assert "Finance &amp; &lt;money&gt;" in svg and "<money>" not in svg
    assert 'class="band-chart-empty"' in svg and ">No organisation</text>" in svg


def test_a_long_domain_name_is_shortened_on_the_chart_but_whole_in_its_tooltip() -> None:
    name = "Monitoring, evaluation, learning and the management of data about programmes"
    svg = str(stacked_bars_svg([BarRow(name, [Segment("mature", "Mature", 1)])], "t", "", "%(row)s", "-"))

    assert f"<title>{name}</title>" in svg
    assert re.search(r'class="band-chart-label" x="0" y="16">[^<]{40,48}… <tspan', svg)


@pytest.mark.parametrize(
    ("filters", "domain", "band", "expected"),
    [
        (portfolio.PortfolioFilters(), "overall", None, {"domain": ["overall"]}),
        (
            portfolio.PortfolioFilters(residence=("FR", "BE"), sector=("health",)),
            "finance",
            "mature",
            {"domain": ["finance"], "band": ["mature"], "residence": ["FR", "BE"], "sector": ["health"]},
        ),
    ],
)
def test_a_figure_links_to_its_organisations_with_the_same_filters(
    filters: portfolio.PortfolioFilters, domain: str, band: str | None, expected: dict[str, list[str]]
) -> None:
    url = portfolio.drill_down_url(filters, domain, band)
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(urlsplit(url).query):
        query.setdefault(key, []).append(value)

    assert urlsplit(url).path == "/assessments/portfolio/organisations"
    assert query == expected


def test_every_band_and_no_score_are_figures() -> None:
    assert portfolio.BAND_KEYS == ("nascent", "emerging", "expanding", "mature", "none")
    assert set(portfolio.KEY_LABELS) == set(portfolio.BAND_KEYS)
