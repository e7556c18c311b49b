"""The directory's capacity band filter (the band of each organisation's latest validated assessment, or "not
assessed"): one definition, so the page, its htmx partial, the exports and the API list the same organisations.
A band is an assessment's result, private to the organisation and the government side: only staff filter by it.
"""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any, get_args

import pytest
from sqlalchemy.orm import Session

from crm.accounts import service as accounts
from crm.accounts.models import User
from crm.organisations import directory
from crm.organisations.models import Organisation
from crm.organisations.schemas import CapacityBandKey
from tests.api.conftest import ApiClient

ROW = re.compile(r'<a href="/organisations/(\d+)"><strong>(.*?)</strong></a>')


def page_names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [html.unescape(name) for _id, name in ROW.findall(response.text)]


def csv_names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(row["name"] for row in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def api_names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


@pytest.fixture
def banded(db: Session, make_organisation: Any) -> dict[str, Organisation]:
    """Organisations with the band their latest validated assessment gave them (stored on validation, as
    crm.assessments.service does; tests/assessments check that it is), one never assessed, one private."""
    organisations = {
        "mature": make_organisation("Mature Mutual"),
        "emerging": make_organisation("Emerging Union"),
        "emerging private": make_organisation("Emerging Quiet Circle", consent_to_share=False),
        "unassessed": make_organisation("Unassessed Club"),
        "nascent": make_organisation("Nascent Network"),
    }
    for key, organisation in organisations.items():
        organisation.capacity_band = None if key == "unassessed" else key.split()[0]
    db.commit()
    return organisations


@pytest.fixture
def as_officer(login: Any, officer: User) -> Any:
    return login(officer)


@pytest.fixture
def officer_api(db: Session, client: Any, officer: User) -> ApiClient:
    secret = accounts.create_api_token(db, officer, "bands").secret
    db.commit()
    return ApiClient(client, secret)


CASES = [
    ({"capacity_band": "mature"}, ["Mature Mutual"]),
    ({"capacity_band": "emerging"}, ["Emerging Quiet Circle", "Emerging Union"]),
    ({"capacity_band": ["nascent", "mature"]}, ["Mature Mutual", "Nascent Network"]),
    ({"capacity_band": "not_assessed"}, ["Unassessed Club"]),
    ({"capacity_band": ["not_assessed", "nascent"]}, ["Nascent Network", "Unassessed Club"]),
    ({"capacity_band": "expanding"}, []),
    ({"capacity_band": "emerging", "consent": "1"}, ["Emerging Union"]),
]
IDS = [
    "one band",
    "a band with a private organisation",
    "either of two",
    "not assessed",
    "not assessed or a band",
]
IDS += ["a band nobody is in", "with another filter"]


@pytest.mark.parametrize(("params", "expected"), CASES, ids=IDS)
def test_officer_filters_the_directory_by_capacity_band(
    as_officer: Any, banded: dict[str, Organisation], params: dict[str, Any], expected: list[str]
) -> None:
    assert page_names(as_officer.get("/organisations", params=params)) == expected


@pytest.mark.parametrize(("params", "expected"), CASES, ids=IDS)
def test_the_page_its_partial_the_exports_and_the_api_list_the_same_organisations(
    as_officer: Any,
    officer_api: ApiClient,
    banded: dict[str, Organisation],
    params: dict[str, Any],
    expected: list[str],
) -> None:
    api_params = {key: value for key, value in params.items() if key != "consent"}
    if "consent" in params:
        api_params["consent"] = "true"

    assert page_names(as_officer.hx_get("/organisations", params=params)) == expected
    assert csv_names(as_officer.get("/organisations/export/csv", params=params)) == sorted(expected)
    assert api_names(officer_api.get("/api/v1/organisations", params=api_params)) == expected


def test_the_export_shows_staff_each_organisations_band(
    as_officer: Any, banded: dict[str, Organisation]
) -> None:
    response = as_officer.get(
        "/organisations/export/csv", params={"capacity_band": ["mature", "not_assessed"]}
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))

    assert {row["name"]: row["capacity_band"] for row in rows} == {
        "Mature Mutual": "mature",
        "Unassessed Club": "",
    }


def test_the_chosen_bands_stay_checked_and_travel_with_the_export_links(
    as_officer: Any, banded: dict[str, Organisation]
) -> None:
    page = as_officer.get("/organisations?capacity_band=mature&capacity_band=not_assessed").text

    assert '<input type="checkbox" name="capacity_band" value="mature" checked>' in page
    assert '<input type="checkbox" name="capacity_band" value="not_assessed" checked>' in page
    assert '<input type="checkbox" name="capacity_band" value="nascent" >' in page
    assert 'href="/organisations/export/csv?capacity_band=mature&amp;capacity_band=not_assessed"' in page


def test_staff_see_each_organisations_band_in_the_list(
    as_officer: Any, banded: dict[str, Organisation]
) -> None:
    page = as_officer.get("/organisations?capacity_band=mature").text

    assert re.search(r'<span class="badge band-badge band-mature" title="[^"]+">Mature</span>', page)


@pytest.mark.parametrize("value", ["legendary", "", "MATURE", "not assessed", "x" * 200])
def test_an_unknown_band_in_the_address_is_ignored(
    as_officer: Any, banded: dict[str, Organisation], value: str
) -> None:
    assert len(page_names(as_officer.get("/organisations", params={"capacity_band": value}))) == 5


@pytest.mark.parametrize("persona", ["trainer", "representative"])
def test_no_one_but_staff_is_offered_or_given_the_filter(
    login: Any,
    trainer: User,
    make_representative: Any,
    banded: dict[str, Organisation],
    persona: str,
) -> None:
    user = trainer if persona == "trainer" else make_representative(banded["nascent"])
    client = login(user)

    page = client.get("/organisations?capacity_band=mature")
    export = client.get("/organisations/export/csv?capacity_band=mature")

    assert 'name="capacity_band"' not in page.text
    assert "band-badge" not in page.text
    # Filtering would tell which organisations are in the band: the filter is left out, not applied.
    assert page_names(page) == ["Emerging Union", "Mature Mutual", "Nascent Network", "Unassessed Club"]
    assert len(csv_names(export)) == 4
    assert "capacity_band" not in export.content.decode("utf-8-sig").splitlines()[0]


@pytest.mark.parametrize("persona", ["trainer", "representative"])
def test_the_api_refuses_the_filter_to_anyone_but_staff(
    db: Session,
    client: Any,
    trainer: User,
    make_representative: Any,
    banded: dict[str, Organisation],
    persona: str,
) -> None:
    user = trainer if persona == "trainer" else make_representative(banded["nascent"])
    api = ApiClient(client, accounts.create_api_token(db, user, "t").secret)
    db.commit()

    refused = api.get("/api/v1/organisations", params={"capacity_band": "mature"})
    listed = api.get("/api/v1/organisations")

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/json")
    assert listed.status_code == 200
    bands = {item["name"]: item["capacity_band"] for item in listed.json()["items"]}
    own = "Nascent Network" if persona == "representative" else None
    assert {name: band for name, band in bands.items() if band is not None} == (
        {own: "nascent"} if own else {}
    )


def test_a_representative_reads_its_own_band_in_the_api(
    db: Session, client: Any, make_representative: Any, banded: dict[str, Organisation]
) -> None:
    own = banded["nascent"]
    api = ApiClient(client, accounts.create_api_token(db, make_representative(own), "t").secret)
    db.commit()

    assert api.get(f"/api/v1/organisations/{own.id}").json()["capacity_band"] == "nascent"
    assert api.get(f"/api/v1/organisations/{banded['mature'].id}").json()["capacity_band"] is None


@pytest.mark.parametrize("value", ["legendary", "MATURE", ""])
def test_the_api_answers_400_for_an_unknown_band(
    officer_api: ApiClient, banded: dict[str, Organisation], value: str
) -> None:
    response = officer_api.get("/api/v1/organisations", params={"capacity_band": value})

    assert response.status_code == 400
    assert "capacity_band" in response.text


def test_the_api_band_choices_are_the_directorys() -> None:
    assert get_args(CapacityBandKey) == directory.CAPACITY_BANDS
