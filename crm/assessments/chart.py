"""The results chart, drawn on the server as SVG: one row per domain with its self-assessed bar, its validated bar
and the previous comparable assessment's validated score as a marker, on the 1-4 scale with the capacity bands'
edges. Pure: it is given labels, scores and the gettext to speak in; it escapes everything it writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from crm.assessments.scoring import BAND_FLOORS, BAND_LABELS, LEVELS, Band

# Drawn on a narrow canvas scaled to the page's width (viewBox, width 100%): text stays readable on a phone
# (390 px wide shows it at about 0.8 of its size) and the stylesheet caps its width on a desktop.
WIDTH = 440
LEFT, RIGHT = 8, 40  # room on the right for the score written after a full bar
TOP = 30  # band names
ROW = 56
AXIS = 30  # level numbers under the plot
LABEL_CHARS = 58
LOWEST, HIGHEST = LEVELS[0], LEVELS[-1]


@dataclass(frozen=True)
class DomainBar:
    label: str
    self_score: float | None
    validated_score: float | None = None
    previous_score: float | None = None


def score_text(value: float) -> str:
    """A score as the chart and the tables beside it show it: two decimals, as stored, so that a score on a
    band's edge (1.75, 3.25) never reads as the band below or above."""
    return f"{value:.2f}"


def change_text(value: float) -> str:
    """A change of score: signed, and ±0.00 when it does not show at two decimals."""
    shown = f"{value:+.2f}"
    return "±0.00" if shown in ("+0.00", "-0.00") else shown


def x_of(score: float) -> float:
    """Where a score sits on the plot, 1 at the left edge, 4 at the right."""
    span = WIDTH - LEFT - RIGHT
    clamped = min(max(score, LOWEST), HIGHEST)
    return round(LEFT + (clamped - LOWEST) / (HIGHEST - LOWEST) * span, 1)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _description(
    bars: Sequence[DomainBar], gettext: Callable[[str], str], number: Callable[[float], str]
) -> str:
    none = gettext("no score")
    lines = []
    for bar in bars:
        line = gettext("%(domain)s: self-assessed %(self)s, validated %(validated)s") % {
            "domain": bar.label,
            "self": none if bar.self_score is None else number(bar.self_score),
            "validated": none if bar.validated_score is None else number(bar.validated_score),
        }
        if bar.previous_score is not None:
            line += ", " + gettext("previous assessment %(score)s") % {"score": number(bar.previous_score)}
        lines.append(line)
    return "; ".join(lines) + "."


def domain_chart_svg(
    bars: Sequence[DomainBar],
    gettext: Callable[[str], str],
    *,
    number: Callable[[float], str] = score_text,
    svg_id: str = "domain-chart",
) -> Markup:
    """The chart as one <svg role="img">: its <title> names it, its <desc> reads every figure out, so a screen
    reader gets what the bars show. `svg_id` must be unique in the page."""
    height = TOP + ROW * len(bars) + AXIS
    plot_bottom = TOP + ROW * len(bars)
    title_id, desc_id = f"{svg_id}-title", f"{svg_id}-desc"
    parts = [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" id="{}" class="domain-chart" viewBox="0 0 {} {}" '
            'width="100%" role="img" aria-labelledby="{} {}"><title id="{}">{}</title><desc id="{}">{}</desc>'
        ).format(
            svg_id,
            WIDTH,
            height,
            title_id,
            desc_id,
            title_id,
            gettext("Capacity score per domain"),
            desc_id,
            _description(bars, gettext, number),
        )
    ]
    # The four bands as shaded columns, named at the top; their edges dashed down the plot.
    edges = [float(LOWEST), *sorted(floor for floor, _ in BAND_FLOORS), float(HIGHEST)]
    bands = [Band.NASCENT, Band.EMERGING, Band.EXPANDING, Band.MATURE]
    for n, band in enumerate(bands):
        left, right = x_of(edges[n]), x_of(edges[n + 1])
        parts.append(
            Markup('<rect class="zone zone-{}" x="{}" y="{}" width="{}" height="{}"/>').format(
                band.value, left, TOP - 6, round(right - left, 1), plot_bottom - TOP + 6
            )
        )
        parts.append(
            Markup('<text class="band-name" x="{}" y="{}" text-anchor="middle">{}</text>').format(
                round((left + right) / 2, 1), TOP - 12, gettext(BAND_LABELS[band])
            )
        )
    for edge in edges[1:-1]:
        parts.append(
            Markup('<line class="band-edge" x1="{}" y1="{}" x2="{}" y2="{}"/>').format(
                x_of(edge), TOP - 6, x_of(edge), plot_bottom
            )
        )
    for level in LEVELS:
        anchor = "start" if level == LOWEST else "end" if level == HIGHEST else "middle"
        parts.append(
            Markup('<text class="axis-level" x="{}" y="{}" text-anchor="{}">{}</text>').format(
                x_of(level), plot_bottom + 18, anchor, level
            )
        )
    for n, bar in enumerate(bars):
        parts.append(_row(bar, TOP + ROW * n, gettext, number))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _row(bar: DomainBar, top: int, gettext: Callable[[str], str], number: Callable[[float], str]) -> Markup:
    origin = x_of(LOWEST)
    parts = [
        Markup('<g class="domain-row"><text class="domain-label" x="{}" y="{}">{}</text>').format(
            LEFT, top + 15, _short(bar.label)
        )
    ]
    for kind, score, y, height in (
        ("self", bar.self_score, top + 21, 10),
        ("validated", bar.validated_score, top + 33, 14),
    ):
        if score is None:
            continue
        # A score of 1 still shows a sliver, so "lowest" never reads as "missing".
        width = max(x_of(score) - origin, 2)
        parts.append(
            Markup('<rect class="bar {}" x="{}" y="{}" width="{}" height="{}"/>').format(
                kind, origin, y, round(width, 1), height
            )
        )
        parts.append(
            Markup('<text class="bar-value {}" x="{}" y="{}">{}</text>').format(
                kind, round(origin + width + 4, 1), y + height - 2, number(score)
            )
        )
    if bar.previous_score is not None:
        x = x_of(bar.previous_score)
        label = gettext("previous assessment %(score)s") % {"score": number(bar.previous_score)}
        parts.append(
            Markup(
                '<g class="previous"><title>{}</title><line x1="{}" y1="{}" x2="{}" y2="{}"/>'
                '<path d="M{} {} l6 7 l-6 7 l-6 -7 z"/></g>'
            ).format(label, x, top + 18, x, top + 50, x, top + 33)
        )
    parts.append(Markup("</g>"))
    return Markup("").join(parts)
