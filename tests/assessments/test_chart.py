"""The results chart as SVG: well-formed, one row of bars per domain, the previous score marked, readable by a
screen reader, and every text escaped and spoken through the gettext it is given."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from crm.assessments.chart import (
    MARKER_HALF_WIDTH,
    PLOT_RIGHT,
    DomainBar,
    change_text,
    domain_chart_svg,
    score_text,
    x_of,
)
from crm.web.i18n import in_language

SVG = "{http://www.w3.org/2000/svg}"
BARS = [
    DomainBar("Governance", 3.0, 2.5, 2.0),
    DomainBar("Finance", 2.0, 1.0, None),
    DomainBar('Digital <& "quoted">', None, None, 3.5),
]


def parse(bars: list[DomainBar] = BARS, gettext=lambda text: text) -> ET.Element:  # type: ignore[no-untyped-def]
    return ET.fromstring(str(domain_chart_svg(bars, gettext)))


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def percent(value: str | None) -> float:
    """A horizontal position or width as the chart writes it: per cent of its width."""
    assert value is not None and value.endswith("%"), value
    return float(value[:-1])


def test_the_chart_is_well_formed_svg_with_a_title_and_a_description() -> None:
    svg = parse()

    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    # As wide as the page allows, its text at the page's size: widths in per cent, heights in pixels.
    assert svg.get("width") == "100%" and svg.get("viewBox") is None
    assert int(svg.get("height", "")) > 0
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "Governance: self-assessed 3.00, validated 2.50, previous assessment 2.00" in (desc.text or "")
    assert "Finance: self-assessed 2.00, validated 1.00;" in (desc.text or "")


def test_one_row_per_domain_with_its_self_and_validated_bars() -> None:
    svg = parse()

    rows = [g for g in svg.iter(f"{SVG}g") if "domain-row" in classes(g)]
    assert [row.find(f"{SVG}text").text for row in rows] == ["Governance", "Finance", 'Digital <& "quoted">']
    validated = [r for r in svg.iter(f"{SVG}rect") if {"bar", "validated"} <= classes(r)]
    self_bars = [r for r in svg.iter(f"{SVG}rect") if {"bar", "self"} <= classes(r)]
    assert len(validated) == 2 and len(self_bars) == 2  # the third domain has no score
    # A bar runs from level 1 to its score; the lowest score still shows a sliver.
    assert percent(validated[0].get("width")) == round(x_of(2.5) - x_of(1), 2)
    assert 0 < percent(validated[1].get("width")) < 1


def test_the_previous_score_is_marked_where_there_is_one() -> None:
    svg = parse()

    markers = [g for g in svg.iter(f"{SVG}g") if "previous" in classes(g)]
    assert len(markers) == 2
    line = markers[0].find(f"{SVG}line")
    assert percent(line.get("x1")) == x_of(2.0)
    assert markers[0].find(f"{SVG}title").text == "previous assessment 2.00"


def test_the_band_edges_are_drawn_at_their_scores() -> None:
    svg = parse()

    edges = [percent(line.get("x1")) for line in svg.iter(f"{SVG}line") if "band-edge" in classes(line)]
    assert edges == [x_of(1.75), x_of(2.5), x_of(3.25)]
    names = [t.text for t in svg.iter(f"{SVG}text") if "band-name" in classes(t)]
    assert names == ["Nascent", "Emerging", "Expanding", "Mature"]


@pytest.mark.parametrize("previous", [1.0, 2.2, 2.25, 2.3, 3.9, 4.0])
def test_no_marker_ever_covers_a_score(previous: float) -> None:
    """The scores are written in a column right of the plot, whatever the scores and the previous one: a
    marker just past a bar's end ("2.20" read "◆.20") cannot reach them, at any width of the page."""
    svg = parse([DomainBar("Finance", 2.2, 2.2, previous), DomainBar("Digital", 4.0, 4.0, previous)])

    markers = [g for g in svg.iter(f"{SVG}g") if "previous" in classes(g)]
    values = [t for t in svg.iter(f"{SVG}text") if "bar-value" in classes(t)]
    assert len(markers) == 2 and len(values) == 4
    for marker in markers:
        # The marker's box: a viewport placed at the score's point (per cent of the width), shifted left by a
        # few pixels; its right edge lies at most that point plus MARKER_HALF_WIDTH pixels.
        shift, diamond = marker.find(f"{SVG}g"), marker.find(f".//{SVG}svg")
        assert shift is not None and diamond is not None
        shifted = re.fullmatch(r"translate\((-?[\d.]+) 0\)", shift.get("transform", ""))
        assert shifted, shift.get("transform")
        right = float(shifted.group(1)) + float(diamond.get("width", ""))
        assert right <= MARKER_HALF_WIDTH
        point = percent(diamond.get("x"))
        assert point == percent(marker.find(f"{SVG}line").get("x1")) <= PLOT_RIGHT
        for value in values:
            # A score's box starts at PLOT_RIGHT per cent plus dx pixels: right of the marker's box at any
            # width, since neither part of its position is smaller.
            assert value.get("text-anchor", "start") == "start"
            assert percent(value.get("x")) >= point
            assert float(value.get("dx", "0")) > right


def test_texts_speak_the_language_they_are_given() -> None:
    svg = parse(
        gettext=lambda text: {"Mature": "Mature (fr)", "Capacity score per domain": "Capacité"}.get(
            text, text
        )
    )

    assert svg.find(f"{SVG}title").text == "Capacité"
    assert "Mature (fr)" in [t.text for t in svg.iter(f"{SVG}text")]


def test_an_empty_framework_still_draws_a_valid_chart() -> None:
    svg = parse([])

    assert [g for g in svg.iter(f"{SVG}g") if "domain-row" in classes(g)] == []


def test_scores_show_two_decimals_so_a_band_edge_reads_as_its_band() -> None:
    assert score_text(3.25) == "3.25" and score_text(3) == "3.00"
    assert change_text(0.25) == "+0.25" and change_text(-1) == "-1.00"
    assert change_text(0.001) == "±0.00" and change_text(-0.004) == "±0.00"


def test_scores_and_changes_are_written_as_the_current_language_writes_numbers() -> None:
    with in_language("fr"):
        assert score_text(2.57) == "2,57" and score_text(3) == "3,00"
        assert change_text(0.25) == "+0,25" and change_text(-1) == "-1,00"
        assert change_text(0.001) == "±0,00" and change_text(-0.004) == "±0,00"
        svg = parse([DomainBar("Finance", 2.57, 1.75, 3.25)])
    values = [t.text for t in svg.iter(f"{SVG}text") if "bar-value" in classes(t)]
    assert values == ["2,57", "1,75"]
    description = svg.find(f"{SVG}desc")
    assert description is not None and "3,25" in (description.text or "")
    # Back in English once the block is over.
    assert score_text(2.57) == "2.57" and change_text(0) == "±0.00"
