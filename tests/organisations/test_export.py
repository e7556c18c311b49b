"""Exporting the directory as CSV or XLSX: the filtered rows, only the columns the user may see, no formulas."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations import service
from crm.organisations.export import PUBLIC_COLUMNS, STAFF_COLUMNS
from crm.organisations.models import Organisation
from crm.organisations.schemas import OrganisationIn

PERSONAL = ("email", "phone", "contacts")


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def csv_header(response: Any) -> list[str]:
    return next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def read_xlsx(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["Organisations"]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def xlsx_records(response: Any) -> list[dict[str, Any]]:
    header, *rows = read_xlsx(response)
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def organisations(make_organisation: Any, make_contact: Any) -> dict[str, Organisation]:
    lyon = make_organisation(
        "Association des Sénégalais de Lyon",
        residence_city="Lyon",
        sectors=["education"],
        email="bureau@asl.example.org",
        phone="+33 4 72 00 00 00",
        languages=["fr", "wo"],
    )
    make_contact(lyon, "Awa Diop", email="awa.diop@example.org", role_title="President", consent="given")
    berlin = make_organisation(
        "Mali Health Diaspora",
        origin_country="ML",
        residence_country="DE",
        sectors=["health"],
        audiences=["refugees_displaced"],
    )
    private = make_organisation(
        "Quiet Senegalese Mutual",
        residence_city="Marseille",
        sectors=["education"],
        email="secret@quiet.example.org",
        consent_to_share=False,
    )
    make_contact(private, "Moussa Ba", email="moussa.ba@example.org")
    return {"lyon": lyon, "berlin": berlin, "private": private}


# CSV ---------------------------------------------------------------------------------------------------


def test_an_officer_downloads_the_directory_as_csv_for_a_spreadsheet(
    login: Any, officer: User, organisations: dict[str, Organisation]
) -> None:
    response = login(officer).get("/organisations/export/csv")

    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="organisations-{date.today().isoformat()}.csv"'
    )
    assert csv_header(response) == [*PUBLIC_COLUMNS, *STAFF_COLUMNS]
    records = read_csv(response)
    assert [r["name"] for r in records] == [
        "Association des Sénégalais de Lyon",
        "Mali Health Diaspora",
        "Quiet Senegalese Mutual",
    ]
    lyon = records[0]
    assert lyon["residence_country"] == "FR France"
    assert lyon["origin_country"] == "SN Senegal"
    assert lyon["languages"] == "fr; wo"
    assert lyon["sectors"] == "education"
    assert lyon["email"] == "bureau@asl.example.org"
    assert lyon["contacts"] == "Awa Diop / President / awa.diop@example.org [given]"


def test_the_csv_header_is_the_first_line_after_the_byte_order_mark(
    login: Any, officer: User, organisations: dict[str, Organisation]
) -> None:
    body = login(officer).get("/organisations/export/csv").content.decode("utf-8")

    assert body.startswith("\ufeffid,name,acronym,")
    assert body.splitlines()[0] == "\ufeff" + ",".join((*PUBLIC_COLUMNS, *STAFF_COLUMNS))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("residence=FR", ["Association des Sénégalais de Lyon", "Quiet Senegalese Mutual"]),
        ("origin=ML", ["Mali Health Diaspora"]),
        ("sector=education&consent=1", ["Association des Sénégalais de Lyon"]),
        ("vulnerable=1", ["Mali Health Diaspora"]),
        ("q=senegal", ["Association des Sénégalais de Lyon", "Quiet Senegalese Mutual"]),
        ("q=nothing-matches-this", []),
        ("residence=ZZZZ&sort=bogus&vulnerable=maybe", None),
    ],
)
def test_the_csv_export_honours_the_directory_filters(
    login: Any, officer: User, organisations: dict[str, Organisation], query: str, expected: list[str] | None
) -> None:
    records = read_csv(login(officer).get(f"/organisations/export/csv?{query}"))

    everyone = ["Association des Sénégalais de Lyon", "Mali Health Diaspora", "Quiet Senegalese Mutual"]
    assert [r["name"] for r in records] == (everyone if expected is None else expected)


def test_a_representative_exports_no_personal_data_and_no_private_organisation(
    login: Any, make_representative: Any, organisations: dict[str, Organisation]
) -> None:
    response = login(make_representative(organisations["berlin"])).get("/organisations/export/csv")

    header = csv_header(response)
    records = read_csv(response)
    assert [r["name"] for r in records] == ["Association des Sénégalais de Lyon", "Mali Health Diaspora"]
    assert not set(header) & {*PERSONAL, "provenance", "consent_to_share"}
    body = response.content.decode("utf-8-sig")
    for secret in ("bureau@asl.example.org", "awa.diop@example.org", "+33 4 72", "Quiet Senegalese"):
        assert secret not in body


def test_a_trainer_exports_no_personal_data_and_no_private_organisation(
    login: Any, trainer: User, organisations: dict[str, Organisation]
) -> None:
    response = login(trainer).get("/organisations/export/csv?residence=FR")

    assert [r["name"] for r in read_csv(response)] == ["Association des Sénégalais de Lyon"]
    assert not set(csv_header(response)) & set(PERSONAL)
    assert "awa.diop@example.org" not in response.content.decode("utf-8-sig")


def test_a_representative_export_includes_their_own_private_organisation(
    login: Any, make_representative: Any, organisations: dict[str, Organisation]
) -> None:
    response = login(make_representative(organisations["private"])).get("/organisations/export/csv")

    records = read_csv(response)
    assert "Quiet Senegalese Mutual" in [r["name"] for r in records]
    assert not set(csv_header(response)) & set(PERSONAL)
    assert "moussa.ba@example.org" not in response.content.decode("utf-8-sig")


def test_merged_organisations_are_not_exported(
    login: Any, officer: User, db: Session, organisations: dict[str, Organisation], make_organisation: Any
) -> None:
    duplicate = make_organisation("ASL Lyon (duplicate)")
    service.merge_organisations(db, organisations["lyon"], duplicate)
    db.commit()

    names = [r["name"] for r in read_csv(login(officer).get("/organisations/export/csv"))]

    assert "ASL Lyon (duplicate)" not in names
    assert len(names) == 3


@pytest.mark.parametrize(
    "formula",
    ['=HYPERLINK("http://evil.example","click")', "+SUM(1,2)", "-2+3", "@SUM(A1)"],
)
def test_a_cell_that_would_run_as_a_formula_is_neutralised_in_csv(
    login: Any, officer: User, make_organisation: Any, make_contact: Any, formula: str
) -> None:
    organisation = make_organisation(formula, residence_city=formula)
    make_contact(organisation, formula)

    (record,) = read_csv(login(officer).get("/organisations/export/csv"))

    assert record["name"] == "'" + formula
    assert record["residence_city"] == "'" + formula
    assert record["contacts"].startswith("'" + formula)


def test_a_large_export_lists_every_organisation_once(
    login: Any, officer: User, db: Session, reference: None
) -> None:
    for number in range(1, 1103):
        service.create_organisation(
            db,
            OrganisationIn(
                name=f"Organisation {number:04d}",
                origin_country="SN",
                residence_country="FR",
                consent_to_share=True,
                sectors=["culture"],
            ),
        )
    db.commit()

    records = read_csv(login(officer).get("/organisations/export/csv?sector=culture"))

    assert len(records) == 1102
    assert len({r["id"] for r in records}) == 1102
    assert all(r["sectors"] == "culture" for r in records)


def test_an_unknown_export_format_is_not_found(login: Any, officer: User, reference: None) -> None:
    assert login(officer).get("/organisations/export/pdf").status_code == 404


def test_anonymous_visitors_cannot_export(client: Any, organisations: dict[str, Organisation]) -> None:
    response = client.get("/organisations/export/csv", follow_redirects=False)

    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")


def test_a_csv_export_gives_its_database_connection_back(
    login: Any, officer: User, engine: Engine, organisations: dict[str, Organisation]
) -> None:
    client = login(officer)
    client.get("/organisations")
    checked_out_before = engine.pool.checkedout()  # type: ignore[attr-defined]

    assert client.get("/organisations/export/csv").status_code == 200

    assert engine.pool.checkedout() == checked_out_before  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            idle = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
                )
            )
        assert idle == 0


# XLSX --------------------------------------------------------------------------------------------------


def test_an_officer_downloads_the_directory_as_an_excel_workbook(
    login: Any, officer: User, organisations: dict[str, Organisation]
) -> None:
    response = login(officer).get("/organisations/export/xlsx")

    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["content-disposition"].endswith('.xlsx"')
    header = read_xlsx(response)[0]
    assert header == [*PUBLIC_COLUMNS, *STAFF_COLUMNS]
    records = xlsx_records(response)
    assert [r["name"] for r in records] == [
        "Association des Sénégalais de Lyon",
        "Mali Health Diaspora",
        "Quiet Senegalese Mutual",
    ]
    assert records[0]["email"] == "bureau@asl.example.org"
    assert "awa.diop@example.org" in records[0]["contacts"]
    assert records[0]["completeness"] == organisations["lyon"].completeness


def test_the_excel_export_honours_the_directory_filters(
    login: Any, officer: User, organisations: dict[str, Organisation]
) -> None:
    response = login(officer).get("/organisations/export/xlsx?residence=FR&consent=1")

    assert [r["name"] for r in xlsx_records(response)] == ["Association des Sénégalais de Lyon"]


@pytest.mark.parametrize("persona", ["trainer", "representative"])
def test_an_excel_export_for_non_staff_has_no_personal_data_and_no_private_organisation(
    login: Any,
    trainer: User,
    make_representative: Any,
    organisations: dict[str, Organisation],
    persona: str,
) -> None:
    user = trainer if persona == "trainer" else make_representative(organisations["berlin"])

    rows = read_xlsx(login(user).get("/organisations/export/xlsx"))

    assert not set(rows[0]) & {*PERSONAL, "provenance", "consent_to_share"}
    assert [row[1] for row in rows[1:]] == ["Association des Sénégalais de Lyon", "Mali Health Diaspora"]
    cells = {str(cell) for row in rows for cell in row}
    assert not any("@" in cell for cell in cells)


def test_a_cell_that_would_run_as_a_formula_is_neutralised_in_excel(
    login: Any, officer: User, make_organisation: Any, make_contact: Any
) -> None:
    organisation = make_organisation("=1+1", residence_city="@SUM(A1)")
    make_contact(organisation, "=cmd|' /C calc'!A0")

    response = login(officer).get("/organisations/export/xlsx")
    sheet = load_workbook(io.BytesIO(response.content))["Organisations"]
    header = [cell.value for cell in sheet[1]]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}

    # Stored typed as text: never a formula, and the value unchanged (no apostrophe in the data).
    assert row["name"].value == "=1+1"
    assert row["name"].data_type == "s"
    assert row["residence_city"].value == "@SUM(A1)"
    assert row["contacts"].value.startswith("=cmd")
    assert all(cell.data_type != "f" for cell in sheet[2])


def test_phone_numbers_are_exported_as_they_are(login: Any, officer: User, make_organisation: Any) -> None:
    make_organisation("Phone Association", phone="+33 1 42 05 66 31")
    csv_record = read_csv(login(officer).get("/organisations/export/csv"))[0]
    assert csv_record["phone"] == "+33 1 42 05 66 31"
    (xlsx_record,) = xlsx_records(login(officer).get("/organisations/export/xlsx"))
    assert xlsx_record["phone"] == "+33 1 42 05 66 31"
