"""Importing organisation lists into the database: all-or-nothing, idempotent, duplicates reported."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from crm import seeding
from crm.db.audit import AuditLog
from crm.organisations import dedupe, directory, service, vocabularies
from crm.organisations.imports.reader import ImportFileError
from crm.organisations.imports.writer import (
    MAX_STORED_PROBLEMS,
    ImportReport,
    import_key,
    import_organisations,
)
from crm.organisations.models import Organisation
from crm.organisations.schemas import OrganisationIn

FILES = Path(__file__).parent / "files"
HEADER = "Name,Country of residence,Country of origin,City,Sectors\n"


@pytest.fixture(autouse=True)
def reference(db: Session) -> None:
    seeding.load_reference(db)
    db.commit()


def run_import(
    db: Session,
    content: bytes,
    filename: str = "organisations.csv",
    *,
    dry_run: bool = False,
    valid_only: bool = False,
    source: str | None = None,
) -> ImportReport:
    report = import_organisations(
        db, io.BytesIO(content), filename, dry_run=dry_run, valid_only=valid_only, source=source
    )
    db.commit()
    return report


def file_bytes(name: str) -> bytes:
    return (FILES / name).read_bytes()


def xlsx_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def organisation_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Organisation)) or 0


def organisation_named(db: Session, name: str) -> Organisation:
    organisation_id = db.scalar(select(Organisation.id).where(Organisation.name == name))
    organisation = service.get_organisation(db, organisation_id, full=True)
    assert organisation is not None
    return organisation


def existing_organisation(db: Session, name: str, country: str = "FR", **fields: Any) -> Organisation:
    data = OrganisationIn(name=name, residence_country=country, origin_country="SN", **fields)
    organisation = service.create_organisation(db, data)
    db.commit()
    return organisation


def test_valid_csv_creates_every_organisation_with_its_vocabularies(db: Session) -> None:
    report = run_import(db, file_bytes("import_three_organisations.csv"))

    assert (report.rows_read, report.created, report.rejected, report.already_imported) == (3, 3, 0, 0)
    assert report.written
    assert organisation_count(db) == 3
    lyon = organisation_named(db, "Association des Sénégalais de Lyon")
    assert (lyon.acronym, lyon.residence_country, lyon.origin_country, lyon.residence_city) == (
        "ASL",
        "FR",
        "SN",
        "Lyon",
    )
    assert sorted(lyon.sectors) == ["education", "health"]
    assert lyon.capital_kinds == ["social"]
    assert lyon.audiences == ["youth"]
    assert (lyon.languages, lyon.members_count, lyon.founded_year) == (["fr", "wo"], 120, 1998)
    assert (lyon.website, lyon.consent_to_share) == ("https://asl.example.org", True)
    assert sorted(organisation_named(db, "Malian Doctors Network").audiences) == ["women", "youth"]


def test_imported_organisation_has_the_derived_values_an_edit_would_store(db: Session) -> None:
    run_import(db, file_bytes("import_three_organisations.csv"))

    for name in ("Association des Sénégalais de Lyon", "Haitian Teachers of Montreal"):
        organisation = organisation_named(db, name)
        imported = (organisation.search_text, organisation.completeness, organisation.serves_vulnerable)
        service.refresh_derived(organisation, 0, vocabularies.vocabularies(db).vulnerable_audiences)
        assert imported == (
            organisation.search_text,
            organisation.completeness,
            organisation.serves_vulnerable,
        )
        assert organisation.completeness > 0
        assert (organisation.version, organisation.merged_into_id) == (1, None)
        db.rollback()


def test_imported_organisation_serving_a_vulnerable_audience_is_marked_so(db: Session) -> None:
    content = (
        "Name,Country of residence,Country of origin,Audiences\n"
        "Refuge,France,Mali,Refugees and displaced persons; Youth\n"
        "Youth Club,France,Mali,Youth\n"
    )

    run_import(db, content.encode())

    assert organisation_named(db, "Refuge").serves_vulnerable
    assert not organisation_named(db, "Youth Club").serves_vulnerable


def test_imported_values_are_stored_in_the_form_an_edit_stores_them(db: Session) -> None:
    existing_organisation(db, "Entered by hand", languages=["fr"], consent_to_share=True)
    run_import(
        db, b"Name,Country of residence,Country of origin,Languages,Consent\nImported,France,Mali,fr,yes\n"
    )

    columns = (
        "created_at",
        "updated_at",
        "languages",
        "skills_offered",
        "contribution_modes",
        "consent_to_share",
    )
    query = select(*(cast(Organisation.__table__.c[column], String) for column in columns))
    entered, imported = (
        db.execute(query.where(Organisation.name == name)).one() for name in ("Entered by hand", "Imported")
    )
    # The same text once the digits of the timestamps are set aside.
    assert [re.sub(r"\d+", "0", value) for value in imported] == [
        re.sub(r"\d+", "0", value) for value in entered
    ]


def test_imported_organisations_are_marked_as_coming_from_the_named_source(db: Session) -> None:
    run_import(db, file_bytes("import_three_organisations.csv"), source="Embassy list 2026")

    organisation = organisation_named(db, "Malian Doctors Network")
    assert (organisation.provenance, organisation.provenance_detail) == (
        "partner_import",
        "Embassy list 2026",
    )
    assert organisation.created_at is not None and organisation.import_key


def test_source_defaults_to_the_file_name(db: Session) -> None:
    run_import(db, file_bytes("import_three_organisations.csv"), "embassy.csv")

    assert organisation_named(db, "Malian Doctors Network").provenance_detail == "embassy.csv"


def test_imported_organisations_are_found_by_the_directory_search(db: Session, admin: Any) -> None:
    run_import(db, file_bytes("import_three_organisations.csv"))

    page = directory.search_directory(db, admin, directory.DirectoryFilters(q="senegalais lyon"), 1, 20)
    assert [organisation.name for organisation in page.items] == ["Association des Sénégalais de Lyon"]


def test_one_rejected_row_means_nothing_is_written(db: Session) -> None:
    existing_organisation(db, "Already here")

    report = run_import(db, file_bytes("import_one_bad_row.csv"))

    assert organisation_count(db) == 1
    assert not report.written and report.refused
    assert (report.rows_read, report.rejected, report.created) == (3, 1, 2)
    (problem,) = report.problems
    assert (problem.row, problem.column, problem.reason) == (
        3,
        "Country of residence",
        "unknown country 'Atlantis'",
    )


def test_valid_only_imports_the_valid_rows_and_reports_the_rejected_one(db: Session) -> None:
    report = run_import(db, file_bytes("import_one_bad_row.csv"), valid_only=True)

    assert report.written and not report.refused
    assert (report.created, report.rejected) == (2, 1)
    assert [problem.row for problem in report.problems] == [3]
    names = set(db.scalars(select(Organisation.name)))
    assert names == {"Association des Sénégalais de Lyon", "Malian Doctors Network"}


def test_dry_run_writes_nothing_but_counts_what_would_be_created(db: Session) -> None:
    report = run_import(db, file_bytes("import_three_organisations.csv"), dry_run=True)

    assert (report.created, report.written) == (3, False)
    assert organisation_count(db) == 0
    assert db.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "import")) == 0


def test_reimporting_the_same_file_creates_nothing_new(db: Session) -> None:
    run_import(db, file_bytes("import_three_organisations.csv"))

    again = run_import(
        db, file_bytes("import_three_organisations.csv"), "renamed.csv", source="Another source"
    )

    assert (again.created, again.already_imported, again.possible_duplicates) == (0, 3, 0)
    assert organisation_count(db) == 3


def test_an_added_empty_column_does_not_make_rows_new(db: Session) -> None:
    run_import(db, b"Name,Country of residence,Country of origin\nAmicale,France,Mali\n")

    again = run_import(db, b"Name,Country of residence,Country of origin,Website\nAmicale,France,Mali,\n")

    assert (again.created, again.already_imported) == (0, 1)


def test_a_row_repeated_in_one_file_is_imported_once(db: Session) -> None:
    content = HEADER + "Amicale des Maliens,France,Mali,Paris,Education\n" * 3

    report = run_import(db, content.encode())

    assert (report.created, report.already_imported) == (1, 2)
    assert organisation_count(db) == 1


def test_a_row_repeated_in_a_later_batch_is_imported_once(db: Session) -> None:
    rows = [f"Organisation number {index},France,Mali,Paris,\n" for index in range(1, 1101)]
    content = HEADER + "".join(rows) + rows[0]

    report = run_import(db, content.encode())

    assert (report.created, report.already_imported) == (1100, 1)


def test_import_key_ignores_empty_values_and_order() -> None:
    assert import_key({"name": "A", "website": None, "sectors": []}) == import_key({"name": "A"})
    assert import_key({"name": "A", "members_count": 0}) != import_key({"name": "A"})


def test_row_like_an_existing_organisation_is_imported_and_reported_with_its_id(db: Session) -> None:
    existing = existing_organisation(db, "Association des Sénégalais de Lyon", acronym="ASL")

    report = run_import(db, file_bytes("import_three_organisations.csv"))

    assert report.created == 3 and report.possible_duplicates == 1
    (duplicate,) = report.duplicates
    assert (duplicate.row, duplicate.name) == (2, "Association des Sénégalais de Lyon")
    assert (duplicate.organisation_id, duplicate.match_name, duplicate.file_row) == (
        existing.id,
        existing.name,
        None,
    )
    assert duplicate.score == 100
    assert duplicate.reasons == ("same normalised name", "same acronym")
    assert organisation_count(db) == 4


def test_organisation_in_another_country_is_not_a_duplicate(db: Session) -> None:
    existing_organisation(db, "Malian Doctors Network", country="FR")

    report = run_import(db, file_bytes("import_three_organisations.csv"))

    assert report.possible_duplicates == 0


def test_merged_organisations_are_not_offered_as_duplicates(db: Session) -> None:
    survivor = existing_organisation(db, "Sénégalais de Lyon")
    merged = existing_organisation(db, "Association des Sénégalais de Lyon")
    service.merge_organisations(db, survivor, merged)
    db.commit()

    report = run_import(db, file_bytes("import_three_organisations.csv"))

    assert [duplicate.organisation_id for duplicate in report.duplicates] == [survivor.id]


def test_row_like_an_earlier_row_of_the_file_is_reported_with_that_row(db: Session) -> None:
    content = (
        HEADER + "Amicale des Maliens de Paris,France,Mali,Paris,\nAmicale des Maliens Paris,France,Mali,,\n"
    )

    report = run_import(db, content.encode())

    assert report.created == 2
    (duplicate,) = report.duplicates
    assert (duplicate.row, duplicate.file_row, duplicate.organisation_id) == (3, 2, None)
    assert duplicate.match_name == "Amicale des Maliens de Paris"


def test_french_semicolon_csv_with_byte_order_mark_is_imported(db: Session) -> None:
    report = run_import(db, file_bytes("import_fr_semicolon_bom.csv"), "liste.csv")

    assert (report.created, report.rejected, report.warnings) == (2, 0, [])
    marseille = organisation_named(db, "Amicale des Sénégalais de Marseille")
    assert (marseille.residence_country, marseille.origin_country, marseille.sectors) == (
        "FR",
        "SN",
        ["education"],
    )
    assert sorted(organisation_named(db, "Collectif des Ivoiriens d'Anvers").sectors) == [
        "education",
        "health",
    ]


def test_xlsx_workbook_is_imported(db: Session) -> None:
    content = xlsx_bytes(
        [
            ("Name", "Country of residence", "Country of origin", "Founded", "Members"),
            ("Ghana Union Hamburg", "Germany", "Ghana", 1995, 300),
            ("Togolese Students of Lille", "France", "Togo", None, None),
        ]
    )

    report = run_import(db, content, "list.xlsx")

    assert (report.created, report.rejected) == (2, 0)
    hamburg = organisation_named(db, "Ghana Union Hamburg")
    assert (hamburg.residence_country, hamburg.founded_year, hamburg.members_count) == ("DE", 1995, 300)


def test_unknown_columns_are_reported_as_warnings(db: Session) -> None:
    report = run_import(
        db, b"Name,Country of residence,Country of origin,Favourite colour\nAmicale,France,Mali,Blue\n"
    )

    assert report.created == 1
    assert report.warnings == ["These columns were not recognised and will be ignored: Favourite colour."]


def test_value_longer_than_its_column_is_rejected(db: Session) -> None:
    phone = "+33 1 " + "23 " * 13
    content = f"Name,Country of residence,Country of origin,Phone\nAmicale,France,Mali,{phone}\n"

    report = run_import(db, content.encode())

    (problem,) = report.problems
    assert (problem.column, problem.reason) == ("Phone", "This value is too long.")
    assert organisation_count(db) == 0


def test_stored_problems_are_capped_but_all_counted(db: Session) -> None:
    content = HEADER + "Amicale,Atlantis,Mali,,\n" * (MAX_STORED_PROBLEMS + 100)

    report = run_import(db, content.encode())

    assert report.rejected == report.problem_count == MAX_STORED_PROBLEMS + 100
    assert len(report.problems) == MAX_STORED_PROBLEMS
    assert report.more_problems == 100


def test_file_without_required_columns_changes_nothing(db: Session) -> None:
    with pytest.raises(ImportFileError, match="Required columns are missing: Country of origin"):
        run_import(db, b"Name,Country of residence\nAmicale,France\n")

    assert organisation_count(db) == 0


def test_file_damaged_after_the_first_batches_changes_nothing(db: Session) -> None:
    rows = "".join(f"Organisation number {index},France,Mali,Paris,\n" for index in range(1, 2501))
    content = (HEADER + rows).encode() + b"Caf\xe9 des Maliens,France,Mali,,\n"

    with pytest.raises(ImportFileError, match="not UTF-8"):
        run_import(db, content)

    assert organisation_count(db) == 0


def test_import_writes_one_audit_event_with_the_counts(db: Session) -> None:
    run_import(db, file_bytes("import_one_bad_row.csv"), "embassy.csv", valid_only=True, source="Embassy")

    (event,) = db.scalars(select(AuditLog).where(AuditLog.entity == "organisations"))
    assert (event.action, event.entity_id) == ("import", "embassy.csv")
    assert event.changes["created"] == 2 and event.changes["rejected"] == 1
    assert event.changes["source"] == "Embassy"


def test_a_large_import_checks_duplicates_in_a_second_process_with_the_same_report(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing_organisation(db, "Association des Sénégalais de Lyon", acronym="ASL")
    content = (
        HEADER
        + "Amicale des Maliens de Paris,France,Mali,Paris,\n"
        + "Amicale des Maliens Paris,France,Mali,,\n"
        + "Sénégalais de Lyon,France,Sénégal,Lyon,\n"
        + "Kenya Investors Circle,France,Kenya,Paris,\n"
        + "Kenya Investor Circle,France,Kenya,,\n"
    ).encode()
    in_process = run_import(db, content, dry_run=True)

    monkeypatch.setattr(dedupe, "PARALLEL_AFTER", 2)
    in_parallel = run_import(db, content, dry_run=True)

    assert in_process.possible_duplicates == 3
    assert in_parallel.possible_duplicates == in_process.possible_duplicates
    assert in_parallel.duplicates == in_process.duplicates
