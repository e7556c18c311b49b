"""Who may see an organisation is one rule (crm.organisations.permissions), and every place that shows
organisations agrees with it: the directory, its count, the map, both exports, the page and the API. Users are
built over every combination of roles, with and without a linked organisation; the expected answer is written
here in plain words, not computed by the rule under test."""

from __future__ import annotations

import csv
import io
import itertools
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete
from sqlalchemy.orm import Session

from crm.accounts.models import User, UserRole
from crm.organisations import service
from crm.organisations.models import Organisation

ROLES = ("admin", "liaison_officer", "org_representative", "trainer")
COMBINATIONS = [combo for size in range(len(ROLES) + 1) for combo in itertools.combinations(ROLES, size)]
ROW = re.compile(r'<a href="/organisations/(\d+)"><strong>')
MAP_ROW = re.compile(r'<tr><td><a href="[^"]+">[^<]+</a></td><td>(\d+)</td></tr>')
COUNT = re.compile(r'id="result-count"[^>]*>(\d+) organisation')


@pytest.fixture
def fixture_organisations(db: Session, make_organisation: Any) -> dict[str, Organisation]:
    """One organisation per case, each in its own country so the map's counts tell them apart."""
    public = make_organisation("Public Association", residence_country="FR", consent_to_share=True)
    linked = make_organisation("Linked Private Association", residence_country="DE", consent_to_share=False)
    other = make_organisation("Other Private Association", residence_country="BE", consent_to_share=False)
    duplicate = make_organisation(
        "Public Association Duplicate", residence_country="IT", consent_to_share=True
    )
    service.merge_organisations(db, public, duplicate)
    db.commit()
    return {"public": public, "linked": linked, "other": other, "merged": duplicate}


def expected_visible(roles: tuple[str, ...], linked: bool) -> set[str]:
    """In plain words: the government side sees every live organisation; a representative also sees its own
    private one (only while it holds the role); everyone sees those that consented to share."""
    if "admin" in roles or "liaison_officer" in roles:
        return {"public", "linked", "other"}
    if "org_representative" in roles and linked:
        return {"public", "linked"}
    return {"public"}


def make_persona(
    db: Session, make_user: Any, roles: tuple[str, ...], organisation: Organisation | None
) -> User:
    """An account with exactly these roles. Its link to an organisation may outlive the representative role
    (data from before the rule, or a role removed in the database): written directly, as such data would be."""
    if organisation is None:
        user = make_user(*(roles or ("trainer",)))
    else:
        user = make_user("org_representative", organisation_id=organisation.id)
    db.execute(delete(UserRole).where(UserRole.user_id == user.id))
    db.add_all(UserRole(user_id=user.id, role=role) for role in roles)
    db.commit()
    db.expire(user)
    return user


def listed_ids(html: str) -> set[int]:
    return {int(id_) for id_ in ROW.findall(html)}


@pytest.mark.parametrize("linked", [False, True], ids=["no organisation", "linked to a private one"])
@pytest.mark.parametrize("roles", COMBINATIONS, ids=lambda roles: "+".join(roles) or "no role")
def test_every_place_that_shows_organisations_agrees_on_who_sees_what(
    roles: tuple[str, ...],
    linked: bool,
    db: Session,
    make_user: Any,
    login: Any,
    api_client: Any,
    fixture_organisations: dict[str, Organisation],
) -> None:
    organisations = fixture_organisations
    user = make_persona(db, make_user, roles, organisations["linked"] if linked else None)
    browser, api = login(user), api_client(user)
    if not roles:
        # An account left with no role reads no organisation anywhere (permissions.reads_directory).
        for path in ("/organisations", "/map", "/organisations/export/csv", "/organisations/export/xlsx"):
            assert browser.get(path).status_code == 403, path
        assert api.get("/api/v1/organisations").status_code == 403
        for organisation in organisations.values():
            assert browser.get(f"/organisations/{organisation.id}").status_code == 403
            assert api.get(f"/api/v1/organisations/{organisation.id}").status_code == 403
        return
    expected = {organisations[key].id for key in expected_visible(roles, linked)}

    directory = browser.get("/organisations")
    assert directory.status_code == 200
    assert listed_ids(directory.text) == expected
    count = COUNT.search(directory.text)
    assert count is not None and int(count.group(1)) == len(expected)
    assert sum(int(n) for n in MAP_ROW.findall(browser.get("/map").text)) == len(expected)

    by_name = {organisation.name: organisation.id for organisation in organisations.values()}
    csv_rows = csv.DictReader(
        io.StringIO(browser.get("/organisations/export/csv").content.decode("utf-8-sig"))
    )
    assert {by_name[row["name"]] for row in csv_rows} == expected
    sheet = load_workbook(
        io.BytesIO(browser.get("/organisations/export/xlsx").content), read_only=True
    ).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert {by_name[row[header.index("name")]] for row in rows} == expected

    listed = api.get("/api/v1/organisations").json()
    assert {item["id"] for item in listed["items"]} == expected and listed["total"] == len(expected)
    for key in ("public", "linked", "other"):
        organisation = organisations[key]
        visible = organisation.id in expected
        assert browser.get(f"/organisations/{organisation.id}").status_code == (200 if visible else 404), key
        assert api.get(f"/api/v1/organisations/{organisation.id}").status_code == (200 if visible else 404), (
            key
        )
