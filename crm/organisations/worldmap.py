"""Server-side SVG world choropleth (organisations per country), offline, no inline styles or scripts."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from markupsafe import Markup, escape

BUCKETS = 5


@dataclass(frozen=True, slots=True)
class World:
    """Country outlines as SVG path data (ISO 3166-1 alpha-2 -> ``d``) on a fixed viewBox."""

    view_box: str
    countries: Mapping[str, str]


@cache
def load_world() -> World:
    """Load the bundled Natural Earth 110m outlines (built by ``geo/build_world.py``)."""
    text = resources.files("crm.organisations.geo").joinpath("world.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return World(view_box=data["viewBox"], countries=dict(data["countries"]))


def bucket(count: int, max_count: int, buckets: int = BUCKETS) -> int:
    """Colour class 0..buckets for ``count``: 0 means none, then a log scale up to ``max_count``."""
    if count <= 0:
        return 0
    if max_count <= 1 or count >= max_count:
        return buckets
    ratio = math.log1p(count) / math.log1p(max_count)
    return min(buckets, max(1, math.ceil(ratio * buckets)))


def choropleth_svg(
    counts: Mapping[str, int],
    href: Callable[[str], str],
    label: Callable[[str, int], str],
    title: str,
    *,
    svg_id: str = "worldmap",
) -> Markup:
    """Render an accessible SVG map; countries with a positive count link to ``href(code)``.

    A group, not an image: it holds links, which an image may not (axe: nested-interactive).

    All attribute values and text go through ``markupsafe.escape``. Unknown codes in ``counts``
    are ignored. ``svg_id`` must be unique within the page.
    """
    world = load_world()
    known = {code.upper(): n for code, n in counts.items() if code.upper() in world.countries}
    max_count = max(known.values(), default=0)
    title_id = f"{svg_id}-title"
    parts = [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" id="{}" class="worldmap" viewBox="{}" '
            'role="group" aria-labelledby="{}"><title id="{}">{}</title>'
        ).format(escape(svg_id), escape(world.view_box), escape(title_id), escape(title_id), escape(title))
    ]
    for code, d in world.countries.items():
        count = known.get(code, 0)
        path = Markup('<path d="{}" class="country b{}" data-country="{}"/>').format(
            escape(d), bucket(count, max_count), escape(code)
        )
        if count > 0:
            parts.append(
                Markup('<a href="{}" aria-label="{}"><title>{}</title>{}</a>').format(
                    escape(href(code)), escape(label(code, count)), escape(label(code, count)), path
                )
            )
        else:
            parts.append(path)
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
