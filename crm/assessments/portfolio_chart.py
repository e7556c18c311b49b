"""The portfolio's stacked bar chart as server-side SVG: one bar per row (overall, then each domain), split into
the organisations of each capacity band. Pure: it is given translated words and counts, and returns markup.

The bars are drawn in percentages of the chart's width and the words in pixels, with no viewBox: the chart
takes the width of the page at any size without shrinking its text (a scaled viewBox made the labels
unreadable on a phone). Colours come from app.css classes (`band-<key>`): the page's CSP allows no inline
style, and dark mode changes them in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

ROW_HEIGHT = 50
LABEL_BASELINE = 16
BAR_TOP = 22
BAR_HEIGHT = 20
# A count is written inside its segment only when the segment is wide enough for three digits on a phone.
COUNT_INSIDE_FROM = 10.0
LABEL_LIMIT = 48
# Bands drawn dark enough that their count is written in white.
DARK_KEYS = frozenset({"expanding", "mature"})


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class BarRow:
    label: str
    segments: Sequence[Segment]

    @property
    def total(self) -> int:
        return sum(segment.count for segment in self.segments)


def percent(count: int, total: int) -> float:
    return 100.0 * count / total if total else 0.0


def _short(label: str) -> str:
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1].rstrip() + "…"


def _number(value: float) -> str:
    """SVG lengths with at most three decimals, never in exponent notation."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def stacked_bars_svg(
    rows: Sequence[BarRow],
    title: str,
    description: str,
    segment_title: str,
    empty_label: str,
    *,
    svg_id: str = "band-chart",
) -> Markup:
    """`segment_title` is a %-format with `row`, `band`, `count` and `percent`, translated by the caller
    (each segment's tooltip); `empty_label` is written in a row with no organisation."""
    height = ROW_HEIGHT * len(rows)
    parts = [
        f'<svg class="band-chart" id="{escape(svg_id)}" role="img" width="100%" height="{height}" '
        f'aria-labelledby="{escape(svg_id)}-title {escape(svg_id)}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(svg_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(svg_id)}-desc">{escape(description)}</desc>',
    ]
    for index, row in enumerate(rows):
        top = index * ROW_HEIGHT
        total = row.total
        parts.append(
            f'<text class="band-chart-label" x="0" y="{top + LABEL_BASELINE}">{escape(_short(row.label))} '
            f'<tspan class="band-chart-total">({total})</tspan></text>'
        )
        bar_y = top + BAR_TOP
        if not total:
            parts.append(
                f'<rect class="band-chart-empty" x="0" y="{bar_y}" width="100%" height="{BAR_HEIGHT}"/>'
                f'<text class="band-chart-count" x="50%" y="{bar_y + 14}" text-anchor="middle">'
                f"{escape(empty_label)}</text>"
            )
            continue
        left = 0.0
        for segment in row.segments:
            if not segment.count:
                continue
            width = percent(segment.count, total)
            tooltip = segment_title % {
                "row": row.label,
                "band": segment.label,
                "count": segment.count,
                "percent": round(width),
            }
            parts.append(
                f'<rect class="band band-{escape(segment.key)}" x="{_number(left)}%" y="{bar_y}" '
                f'width="{_number(width)}%" height="{BAR_HEIGHT}"><title>{escape(tooltip)}</title></rect>'
            )
            if width >= COUNT_INSIDE_FROM:
                tone = " on-dark" if segment.key in DARK_KEYS else ""
                parts.append(
                    f'<text class="band-chart-count{tone}" x="{_number(left + width / 2)}%" y="{bar_y + 14}" '
                    f'text-anchor="middle" aria-hidden="true">{segment.count}</text>'
                )
            left += width
    parts.append("</svg>")
    return Markup("".join(parts))
