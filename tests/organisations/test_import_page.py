"""The import page: officers upload a list, check it, import it and read the report; nobody else may."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import seeding
from crm.organisations import dedupe, service
from crm.organisations.models import Organisation
from crm.organisations.schemas import OrganisationIn

FILES = Path(__file__).parent / "files"
URL = "/import/organisations"


@pytest.fixture(autouse=True)
def reference(db: Session) -> None:
    seeding.load_reference(db)
    db.commit()


@pytest.fixture
def browser(officer: Any, login: Any) -> Any:
    return login(officer)


def upload(
    client: Any,
    content: bytes | None,
    filename: str = "orgs.csv",
    *,
    action: str = "import",
    htmx: bool = False,
    **fields: str,
) -> Any:
    files = {"file": (filename, content, "text/csv")} if content is not None else None
    headers = {"HX-Request": "true"} if htmx else {}
    data = {"action": action, "_csrf_token": client.csrf_token(), **fields}
    return client.post(URL, files=files, data=data, headers=headers)


def file_bytes(name: str) -> bytes:
    return (FILES / name).read_bytes()


def organisation_count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Organisation)) or 0


def text_of(page: str) -> str:
    """The page's words without tags, so assertions read like what the user sees."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_officer_sees_the_upload_form(browser: Any) -> None:
    page = browser.get(URL)

    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'hx-post="/import/organisations"' in page.text and 'hx-encoding="multipart/form-data"' in page.text
    assert 'accept=".csv,.xlsx"' in page.text
    assert 'name="_csrf_token"' in page.text
    assert 'name="action" value="check"' in page.text and 'name="action" value="import"' in page.text
    assert "Import the valid rows even if some rows are rejected" in page.text
    assert "large files take a few seconds" in page.text


def test_admin_may_open_the_page_too(admin: Any, login: Any) -> None:
    assert login(admin).get(URL).status_code == 200


def test_officer_imports_a_csv_and_reads_how_many_were_imported(browser: Any, db: Session) -> None:
    response = upload(browser, file_bytes("import_three_organisations.csv"), source="Embassy list 2026")

    assert response.status_code == 200
    assert "3 organisations imported." in text_of(response.text)
    assert organisation_count(db) == 3
    detail = db.scalar(select(Organisation.provenance_detail).limit(1))
    assert detail == "Embassy list 2026"


def test_htmx_upload_answers_with_the_report_alone(browser: Any, db: Session) -> None:
    response = upload(browser, file_bytes("import_three_organisations.csv"), htmx=True)

    assert response.status_code == 200
    assert "<html" not in response.text and 'id="import-form"' not in response.text
    assert "3 organisations imported." in text_of(response.text)
    # Out-of-band swaps clear the field errors of an earlier attempt.
    assert 'id="import-file-error" hx-swap-oob="true"' in response.text


def test_checking_a_file_writes_nothing(browser: Any, db: Session) -> None:
    response = upload(browser, file_bytes("import_three_organisations.csv"), action="check")

    assert "The file is ready: 3 organisations will be imported." in text_of(response.text)
    assert organisation_count(db) == 0


def test_file_with_a_rejected_row_imports_nothing_and_lists_the_problem(browser: Any, db: Session) -> None:
    response = upload(browser, file_bytes("import_one_bad_row.csv"))

    page = text_of(response.text)
    assert "Nothing was imported because 1 row was rejected." in page
    assert "3 Country of residence unknown country 'Atlantis'" in page
    assert organisation_count(db) == 0


def test_a_french_officer_reads_the_problems_and_duplicate_reasons_in_french(
    make_user: Any, login: Any, db: Session
) -> None:
    service.create_organisation(
        db,
        OrganisationIn(
            name="Association des Sénégalais de Lyon", origin_country="SN", residence_country="FR"
        ),
    )
    db.commit()
    browser = login(make_user("liaison_officer", language="fr"))
    rejected = text_of(upload(browser, file_bytes("import_one_bad_row.csv")).text)
    assert "pays inconnu « Atlantis »" in rejected
    duplicate = b"Name,Country of residence,Country of origin\nAssociation des Senegalais de Lyon,FR,SN\n"
    checked = text_of(upload(browser, duplicate, action="check").text)
    assert "même nom normalisé" in checked


def test_ticking_import_the_valid_rows_imports_the_others(browser: Any, db: Session) -> None:
    response = upload(browser, file_bytes("import_one_bad_row.csv"), valid_only="true")

    page = text_of(response.text)
    assert "2 organisations imported. 1 rejected row was left out." in page
    assert organisation_count(db) == 2


def test_french_semicolon_csv_with_byte_order_mark_is_imported(browser: Any, db: Session) -> None:
    response = upload(browser, file_bytes("import_fr_semicolon_bom.csv"), "liste.csv")

    assert "2 organisations imported." in text_of(response.text)
    db.expire_all()
    row = db.execute(
        select(Organisation.residence_country, Organisation.origin_country).where(
            Organisation.name == "Amicale des Sénégalais de Marseille"
        )
    ).one()
    assert tuple(row) == ("FR", "SN")


def test_xlsx_workbook_is_imported(browser: Any, db: Session) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Nom", "Pays de résidence", "Pays d'origine", "Secteurs"])
    workbook.active.append(["Union des Ghanéens de Hambourg", "Allemagne", "Ghana", "Santé"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = upload(browser, buffer.getvalue(), "liste.xlsx")

    assert "1 organisation imported." in text_of(response.text)
    assert organisation_count(db) == 1


def test_importing_the_same_file_twice_creates_nothing_new(browser: Any, db: Session) -> None:
    upload(browser, file_bytes("import_three_organisations.csv"))

    response = upload(browser, file_bytes("import_three_organisations.csv"))

    page = text_of(response.text)
    assert "0 organisations imported." in page
    assert "Skipped as already imported 3" in page
    assert organisation_count(db) == 3


def test_duplicate_of_an_existing_organisation_is_imported_and_linked_for_review(
    browser: Any, db: Session
) -> None:
    data = OrganisationIn(
        name="Association des Sénégalais de Lyon", residence_country="FR", origin_country="SN"
    )
    existing = service.create_organisation(db, data)
    db.commit()

    response = upload(browser, file_bytes("import_three_organisations.csv"))

    assert "3 organisations imported." in text_of(response.text)
    assert f'<a href="/organisations/{existing.id}">Association des Sénégalais de Lyon</a>' in response.text
    assert f'href="/organisations/{existing.id}/merge"' in response.text
    assert organisation_count(db) == 4


def test_duplicate_within_the_file_is_reported_with_the_earlier_row(browser: Any, db: Session) -> None:
    content = b"Name,Country of residence,Country of origin\nAmicale des Maliens de Paris,France,Mali\n"
    content += b"Amicale des Maliens Paris,France,Mali\n"

    response = upload(browser, content)

    page = text_of(response.text)
    assert "Possible duplicates 1" in page
    assert "Amicale des Maliens de Paris (row 2 of this file)" in page
    assert organisation_count(db) == 2


def test_missing_file_shows_an_error_next_to_the_file_field(browser: Any, db: Session) -> None:
    response = upload(browser, None, source="Embassy list 2026")

    assert response.status_code == 200
    assert 'id="file-error">Choose a .csv or .xlsx file to import.' in response.text
    assert 'value="Embassy list 2026"' in response.text


def test_missing_file_in_htmx_puts_the_error_next_to_the_field(browser: Any) -> None:
    response = upload(browser, None, htmx=True)

    assert re.search(
        r'id="import-file-error" hx-swap-oob="true">\s*<small[^>]*>Choose a \.csv', response.text
    )


def test_file_that_cannot_be_read_is_reported_and_changes_nothing(browser: Any, db: Session) -> None:
    response = upload(browser, b"%PDF-1.4", "list.pdf")

    page = text_of(response.text)
    assert "“list.pdf” could not be read, so nothing was imported." in page
    assert "'list.pdf' cannot be imported: upload a .csv or .xlsx file." in page
    assert organisation_count(db) == 0


def test_representative_is_refused_the_page_and_the_upload(make_user: Any, login: Any, db: Session) -> None:
    client = login(make_user("org_representative"))
    files = {"file": ("orgs.csv", file_bytes("import_three_organisations.csv"), "text/csv")}
    # The token goes in the header, as htmx sends it: Litestar leaves the files of a body parsed for a token
    # in the form unclosed when a guard refuses the request (a ResourceWarning, an error under pytest).
    headers = {"x-csrftoken": client.csrf_token(), "HX-Request": "true"}

    assert client.get(URL).status_code == 403
    response = client.post(URL, files=files, data={"action": "import"}, headers=headers)
    assert response.status_code == 403
    assert organisation_count(db) == 0


def test_trainer_is_refused_the_page(trainer: Any, login: Any) -> None:
    assert login(trainer).get(URL).status_code == 403


def test_anonymous_visitor_is_sent_to_login(client: Any) -> None:
    response = client.get(URL, follow_redirects=False)

    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=/import/organisations"


def test_upload_with_a_forged_csrf_token_is_refused(browser: Any, db: Session) -> None:
    files = {"file": ("orgs.csv", file_bytes("import_three_organisations.csv"), "text/csv")}
    headers = {"x-csrftoken": "f" * len(browser.csrf_token()), "HX-Request": "true"}

    response = browser.post(URL, files=files, data={"action": "import"}, headers=headers)

    assert response.status_code == 403
    assert organisation_count(db) == 0


def test_a_large_upload_checks_duplicates_in_a_second_process(
    browser: Any, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past dedupe.PARALLEL_AFTER rows the duplicate check leaves the web worker for a process of its own."""
    monkeypatch.setattr(dedupe, "PARALLEL_AFTER", 3)
    rows = "".join(f"Amicale des Maliens de Paris {number},France,Mali,Paris\n" for number in range(1, 9))
    content = ("Name,Country of residence,Country of origin,City\n" + rows).encode()

    response = upload(browser, content)

    assert response.status_code == 200
    page = text_of(response.text)
    assert "8 organisations imported." in page
    assert organisation_count(db) == 8
    # Each row after the first is a near-duplicate of an earlier one: 7, all found, rows 3 to 9 beyond the
    # parallel threshold included.
    assert "Possible duplicates 7" in page
