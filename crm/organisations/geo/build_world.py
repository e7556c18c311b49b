"""Build world.json (SVG country paths keyed by ISO alpha-2) from world-atlas TopoJSON.

Source: npm package ``world-atlas@2`` (Natural Earth 110m, ``countries-110m.json``,
feature ids are ISO 3166-1 numeric). Generated with::

    cd /tmp && npm pack world-atlas@2 && mkdir -p world-atlas && tar xzf world-atlas-2.0.2.tgz -C world-atlas
    python crm/organisations/geo/build_world.py /tmp/world-atlas/package/countries-110m.json

Projection: equirectangular onto a 1000x500 viewBox (lon -180..180 -> x 0..1000,
lat 90..-90 -> y 0..500), coordinates rounded to 1 decimal, no other simplification.
Rings crossing the antimeridian (Russia, Fiji) are split there.
Antarctica (numeric 010 / AQ) is dropped. Stdlib + pycountry only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pycountry

WIDTH = 1000
HEIGHT = 500
OUT = Path(__file__).with_name("world.json")
# Features without a numeric id in world-atlas, mapped by name (others are skipped).
BY_NAME = {"Kosovo": "XK"}
SKIP = {"AQ"}

Point = tuple[float, float]


def decode_arcs(topo: dict) -> list[list[Point]]:
    """Decode quantized, delta-encoded arcs into absolute lon/lat positions."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy, *_ in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs: list[list[Point]]) -> list[Point]:
    """Stitch arcs into one ring; a negative index ~i means arc i reversed."""
    points: list[Point] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        # consecutive arcs share their junction point: skip the duplicate
        points.extend(arc[1:] if points else arc)
    return points


def unwrap(points: list[Point]) -> list[Point]:
    """Make longitudes continuous across the antimeridian (e.g. 179 -> -179 becomes 179 -> 181)."""
    out: list[Point] = []
    for lon, lat in points:
        if out:
            previous = out[-1][0]
            lon += 360 * round((previous - lon) / 360)
        out.append((lon, lat))
    return out


def clip(points: list[Point], edge: float, keep_below: bool) -> list[Point]:
    """Sutherland-Hodgman clip of a ring against the meridian ``lon == edge``."""

    def inside(p: Point) -> bool:
        return p[0] <= edge if keep_below else p[0] >= edge

    out: list[Point] = []
    for i, current in enumerate(points):
        previous = points[i - 1]
        if inside(current) != inside(previous):
            t = (edge - previous[0]) / (current[0] - previous[0])
            out.append((edge, previous[1] + t * (current[1] - previous[1])))
        if inside(current):
            out.append(current)
    return out


def split_antimeridian(points: list[Point]) -> list[list[Point]]:
    """Rings crossing +-180 are unwrapped, then cut into an east and a west piece."""
    points = unwrap(points)
    lons = [lon for lon, _ in points]
    if min(lons) >= -180 and max(lons) <= 180:
        return [points]
    shift = 360 if min(lons) < -180 else -360
    inner = clip(clip(points, 180, True), -180, False)
    outer = [(lon + shift, lat) for lon, lat in points]
    outer = clip(clip(outer, 180, True), -180, False)
    return [ring for ring in (inner, outer) if ring]


def project(lon: float, lat: float) -> tuple[float, float]:
    return round((lon + 180) / 360 * WIDTH, 1), round((90 - lat) / 180 * HEIGHT, 1)


def fmt(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def ring_path(points: list[Point]) -> str:
    parts: list[str] = []
    previous = None
    for lon, lat in points:
        xy = project(lon, lat)
        if xy == previous:
            continue
        parts.append(f"{fmt(xy[0])},{fmt(xy[1])}")
        previous = xy
    if len(parts) > 1 and parts[0] == parts[-1]:
        parts.pop()
    if len(parts) < 3:
        return ""
    return "M" + "L".join(parts) + "Z"


def geometry_path(geometry: dict, arcs: list[list[Point]]) -> str:
    if geometry["type"] == "Polygon":
        polygons = [geometry["arcs"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["arcs"]
    else:
        return ""
    return "".join(
        ring_path(piece)
        for polygon in polygons
        for r in polygon
        for piece in split_antimeridian(ring(r, arcs))
    )


def alpha2(geometry: dict) -> str | None:
    numeric = geometry.get("id")
    if numeric:
        country = pycountry.countries.get(numeric=str(numeric).zfill(3))
        if country is not None:
            return country.alpha_2
    return BY_NAME.get(geometry.get("properties", {}).get("name", ""))


def build(topo: dict) -> dict:
    arcs = decode_arcs(topo)
    countries: dict[str, str] = {}
    for geometry in topo["objects"]["countries"]["geometries"]:
        code = alpha2(geometry)
        if code is None or code in SKIP:
            print(f"skipped: {geometry.get('id')} {geometry.get('properties')}", file=sys.stderr)
            continue
        path = geometry_path(geometry, arcs)
        if path:
            countries[code] = countries.get(code, "") + path
    return {"viewBox": f"0 0 {WIDTH} {HEIGHT}", "countries": dict(sorted(countries.items()))}


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} path/to/countries-110m.json")
    world = build(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
    OUT.write_text(json.dumps(world, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(world['countries'])} countries)")


if __name__ == "__main__":
    main(sys.argv)
