"""The results chart, drawn on the server as SVG: one row per domain with its self-assessed bar, its validated bar
and the previous comparable assessment's validated score as a marker, on the 1-4 scale with the capacity bands'
edges. Pure: it is given labels, scores and the gettext to speak in; it escapes everything it writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_decimal
from markupsafe import Markup

from crm.assessments.scoring import BAND_FLOORS, BAND_LABELS, LEVELS, Band
from crm.web.i18n import current_language

# Horizontal positions are percentages of the chart's width, vertical ones pixels: the chart spans whatever
# width the page gives it while its text keeps the page's size (a viewBox would scale the text with the
# drawing, too small on a phone or too large on a desktop). The plot takes the left part; the scores are
# written in a column of their own to the right of it, where no bar or marker reaches.
PLOT_LEFT, PLOT_RIGHT = 0.0, 85.0  # per cent of the width
VALUE_GAP = 12  # pixels between the plot's right edge and the scores' column
MARKER_HALF_WIDTH = 7  # pixels either side of the previous score: the diamond's half-width and its outline
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
    band's edge (1.75, 3.25) never reads as the band below or above; written as the current language writes
    numbers (2.57 in English, 2,57 in French)."""
    # Rounded as Python rounds the float, then only written out by babel, so the digits never depend on the
    # language.
    return format_decimal(Decimal(f"{value:.2f}"), format="0.00", locale=current_language.get())


def change_text(value: float) -> str:
    """A change of score: signed, and ±0.00 when it does not show at two decimals (±0,00 in French)."""
    shown = f"{value:+.2f}"
    if shown in ("+0.00", "-0.00"):
        return "±" + format_decimal(Decimal(0), format="0.00", locale=current_language.get())
    return format_decimal(Decimal(shown), format="+0.00;-0.00", locale=current_language.get())


def x_of(score: float) -> float:
    """Where a score sits on the plot, in per cent of the chart's width: 1 at the plot's left edge, 4 at its
    right edge."""
    clamped = min(max(score, LOWEST), HIGHEST)
    return round(PLOT_LEFT + (clamped - LOWEST) / (HIGHEST - LOWEST) * (PLOT_RIGHT - PLOT_LEFT), 2)


def _pc(value: float) -> str:
    return f"{value:g}%"


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
            '<svg xmlns="http://www.w3.org/2000/svg" id="{}" class="domain-chart" width="100%" height="{}" '
            'role="img" aria-labelledby="{} {}"><title id="{}">{}</title><desc id="{}">{}</desc>'
        ).format(
            svg_id,
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
                band.value, _pc(left), TOP - 6, _pc(round(right - left, 2)), plot_bottom - TOP + 6
            )
        )
        parts.append(
            Markup('<text class="band-name" x="{}" y="{}" text-anchor="middle">{}</text>').format(
                _pc(round((left + right) / 2, 2)), TOP - 12, gettext(BAND_LABELS[band])
            )
        )
    for edge in edges[1:-1]:
        parts.append(
            Markup('<line class="band-edge" x1="{}" y1="{}" x2="{}" y2="{}"/>').format(
                _pc(x_of(edge)), TOP - 6, _pc(x_of(edge)), plot_bottom
            )
        )
    for level in LEVELS:
        anchor = "start" if level == LOWEST else "middle"
        parts.append(
            Markup('<text class="axis-level" x="{}" y="{}" text-anchor="{}">{}</text>').format(
                _pc(x_of(level)), plot_bottom + 18, anchor, level
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
            _pc(origin), top + 15, _short(bar.label)
        ),
        # A faint rule under the row, across the scores' column too, leads the eye from a bar to its scores.
        Markup('<line class="row-rule" x1="0" y1="{}" x2="100%" y2="{}"/>').format(
            top + ROW - 2, top + ROW - 2
        ),
    ]
    for kind, score, y, height in (
        ("self", bar.self_score, top + 21, 10),
        ("validated", bar.validated_score, top + 33, 14),
    ):
        if score is None:
            continue
        # A score of 1 still shows a sliver, so "lowest" never reads as "missing".
        width = max(x_of(score) - origin, 0.4)
        parts.append(
            Markup('<rect class="bar {}" x="{}" y="{}" width="{}" height="{}"/>').format(
                kind, _pc(origin), y, _pc(round(width, 2)), height
            )
        )
        # In the scores' column, level with its bar: past the plot's right edge, so past every marker.
        parts.append(
            Markup('<text class="bar-value {}" x="{}" dx="{}" y="{}">{}</text>').format(
                kind, _pc(PLOT_RIGHT), VALUE_GAP, y + height - 2, number(score)
            )
        )
    if bar.previous_score is not None:
        x = _pc(x_of(bar.previous_score))
        label = gettext("previous assessment %(score)s") % {"score": number(bar.previous_score)}
        # The diamond is drawn in pixels (a path cannot be placed in per cent): a small viewport at the score's
        # point, moved back by half its width so that the diamond is centred on the line.
        parts.append(
            Markup(
                '<g class="previous"><title>{}</title><line x1="{}" y1="{}" x2="{}" y2="{}"/>'
                '<g transform="translate(-{} 0)"><svg x="{}" y="{}" width="{}" height="{}">'
                '<path d="M{} 1 l6 6 l-6 6 l-6 -6 z"/></svg></g></g>'
            ).format(
                label,
                x,
                top + 18,
                x,
                top + 50,
                MARKER_HALF_WIDTH,
                x,
                top + 33,
                2 * MARKER_HALF_WIDTH,
                2 * MARKER_HALF_WIDTH,
                MARKER_HALF_WIDTH,
            )
        )
    parts.append(Markup("</g>"))
    return Markup("").join(parts)
