"""Control characters (invisible, and impossible in a spreadsheet) are refused by the form and the import, and
the Excel export survives those already stored."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations.models import Organisation
from tests.organisations.test_organisation_edit import edit_form, reloaded

CONTROL_MESSAGE = "Remove the invisible control characters from this text (they often come with pasted text)."
IMPORT_MESSAGE = "contains invisible control characters: remove them"


@pytest.fixture
def organisation(make_organisation: Any) -> Organisation:
    return make_organisation("Rassemblement des Hommes de Mopti", acronym="RHM", residence_city="Lyon")


def xlsx_rows(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["Organisations"]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_control_character_in_acronym_does_not_break_excel_export(
    login: Any, officer: User, trainer: User, db: Session, organisation: Organisation
) -> None:
    # Saved before the forms refused it, or written by other means.
    db.execute(update(Organisation).where(Organisation.id == organisation.id).values(acronym="R\x01HM"))
    db.commit()

    for user in (officer, trainer):
        header, row = xlsx_rows(login(user).get("/organisations/export/xlsx"))
        assert row[header.index("acronym")] == "RHM"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("acronym", "R\x01HM"),
        ("name", "Rassemblement\x00 des Hommes"),
        ("residence_city", "Ly\x1bon"),
        ("description", "Tutoring\x0c for pupils."),
        ("skills_offered", "tutoring, account\x07ing"),
    ],
)
def test_representative_cannot_save_control_characters_through_the_form(
    login: Any,
    make_representative: Any,
    db: Session,
    organisation: Organisation,
    field: str,
    value: str,
) -> None:
    client = login(make_representative(organisation))

    response = client.submit(
        f"/organisations/{organisation.id}/edit", edit_form(organisation, **{field: value})
    )

    assert response.status_code == 200
    assert f'<small class="field-error" id="{field}-error">{CONTROL_MESSAGE}</small>' in response.text
    saved = reloaded(db, organisation)
    assert saved.version == 1
    assert saved.acronym == "RHM"


def test_line_breaks_and_tabs_in_a_description_are_kept(
    login: Any, officer: User, db: Session, organisation: Organisation
) -> None:
    description = "Tutoring for pupils.\r\n\tHomework club on Saturdays."
    form = edit_form(organisation, description=description)

    response = login(officer).submit(f"/organisations/{organisation.id}/edit", form, follow_redirects=False)

    assert response.status_code in (302, 303)
    assert reloaded(db, organisation).description == description


@pytest.fixture
def importer(officer: User, login: Any, reference: None) -> Any:
    client = login(officer)

    def upload(content: str) -> Any:
        files = {"file": ("orgs.csv", content.encode(), "text/csv")}
        return client.post(
            "/import/organisations",
            files=files,
            data={"action": "import", "_csrf_token": client.csrf_token()},
        )

    return upload


def test_import_refuses_a_row_with_a_control_character_and_imports_nothing(
    importer: Any, db: Session
) -> None:
    response = importer(
        "Name,Acronym,Country of residence,Country of origin\n"
        "Amicale des Maliens,AM,France,Mali\n"
        "Rassemblement des Hommes de Mopti,R\x01HM,France,Mali\n"
    )

    assert response.status_code == 200
    assert IMPORT_MESSAGE in response.text
    assert db.scalar(select(func.count()).select_from(Organisation)) == 0
