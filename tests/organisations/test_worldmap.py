"""Tests for the offline SVG world choropleth."""

import re
import xml.etree.ElementTree as ET

from crm.organisations.worldmap import bucket, choropleth_svg, load_world
from crm.settings import PROJECT_ROOT

APP_CSS = (PROJECT_ROOT / "crm" / "web" / "static" / "app.css").read_text()

SVG = "{http://www.w3.org/2000/svg}"


def _href(code: str) -> str:
    return f"/organisations?country={code}&view=list"


def _label(code: str, count: int) -> str:
    return f"{code}: {count} organisations"


def _render(counts: dict[str, int], label=_label) -> str:
    return str(choropleth_svg(counts, href=_href, label=label, title="Organisations by country"))


def _links(svg: str) -> dict[str, str]:
    root = ET.fromstring(svg)
    return {a.find(f"{SVG}path").get("data-country"): a.get("href") for a in root.iter(f"{SVG}a")}


def test_world_geometry_covers_the_countries_we_work_with() -> None:
    world = load_world()
    assert world.view_box == "0 0 1000 500"
    assert len(world.countries) >= 170
    for code in ("FR", "SN", "NG", "CA", "US", "GB", "MA", "IN", "PH"):
        assert code in world.countries
    assert "AQ" not in world.countries


def test_every_country_path_starts_with_a_moveto() -> None:
    for code, d in load_world().countries.items():
        assert d.startswith("M"), code
        assert d.endswith("Z"), code


def test_country_paths_stay_inside_the_viewbox() -> None:
    # guards against antimeridian-crossing rings (Russia, Fiji) smearing across the map
    for code, d in load_world().countries.items():
        for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d):
            assert 0 <= float(x) <= 1000 and 0 <= float(y) <= 500, code


def test_bucket_is_zero_for_no_organisations() -> None:
    assert bucket(0, 0) == 0
    assert bucket(0, 5000) == 0


def test_bucket_is_monotonic_and_tops_out_at_max() -> None:
    values = [bucket(n, 5000) for n in range(0, 5001)]
    assert values == sorted(values)
    assert values[1] == 1
    assert values[-1] == 5
    assert set(values) == {0, 1, 2, 3, 4, 5}
    assert bucket(7, 7) == 5
    assert bucket(1, 1) == 5


def test_bucket_log_scale_keeps_small_countries_visible() -> None:
    # one country with 5000 must not push a country with 50 into the lowest class
    assert bucket(50, 5000) >= 3


def test_svg_is_well_formed_and_accessible() -> None:
    svg = _render({"FR": 3})
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "group"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Organisations by country"
    assert root.get("aria-labelledby") == title.get("id")
    assert len(list(root.iter(f"{SVG}path"))) == len(load_world().countries)


def test_country_with_organisations_links_to_filtered_directory() -> None:
    links = _links(_render({"FR": 3, "SN": 12}))
    assert links == {"FR": "/organisations?country=FR&view=list", "SN": "/organisations?country=SN&view=list"}


def test_linked_country_has_tooltip_and_bucket_class() -> None:
    root = ET.fromstring(_render({"FR": 3, "SN": 300}))
    by_code = {a.find(f"{SVG}path").get("data-country"): a for a in root.iter(f"{SVG}a")}
    assert by_code["FR"].find(f"{SVG}title").text == "FR: 3 organisations"
    assert by_code["SN"].find(f"{SVG}path").get("class") == "country b5"
    assert by_code["FR"].find(f"{SVG}path").get("class").startswith("country b")


def test_country_without_organisations_is_not_linked() -> None:
    svg = _render({"FR": 3, "NG": 0})
    links = _links(svg)
    assert "NG" not in links
    root = ET.fromstring(svg)
    ng = next(p for p in root.iter(f"{SVG}path") if p.get("data-country") == "NG")
    assert ng.get("class") == "country b0"


def test_unknown_country_codes_are_ignored() -> None:
    links = _links(_render({"ZZ": 4, "XX": 1, "GB": 2}))
    assert links == {"GB": "/organisations?country=GB&view=list"}


def test_empty_counts_render_a_plain_map() -> None:
    svg = _render({})
    assert "<a " not in svg
    ET.fromstring(svg)


def test_label_and_title_are_escaped() -> None:
    svg = str(
        choropleth_svg(
            {"MA": 1},
            href=lambda code: f'/x?c={code}&q="><script>',
            label=lambda code, count: f"<b>Tom & Jerry</b> {code}",
            title="Map <&>",
        )
    )
    assert "<b>" not in svg and "<script>" not in svg
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; MA" in svg
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "Map <&>"
    a = next(root.iter(f"{SVG}a"))
    assert a.get("href") == '/x?c=MA&q="><script>'
    assert a.find(f"{SVG}title").text == "<b>Tom & Jerry</b> MA"


def test_no_inline_styles_or_scripts() -> None:
    svg = _render({"FR": 3, "IN": 40, "PH": 5000})
    assert "style=" not in svg
    assert "<script" not in svg


def test_css_defines_every_bucket_class() -> None:
    for n in range(6):
        assert f".worldmap .b{n} " in APP_CSS
