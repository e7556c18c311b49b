"""`crm import organisations FILE`: the same import from a terminal, with a summary and exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from crm import seeding
from crm.cli import main
from crm.db import migrate
from crm.db.engine import make_engine, make_sessionmaker
from crm.organisations.imports.command import SHOWN_PROBLEMS, import_group
from crm.organisations.models import Organisation
from tests.conftest import SECRET

FILES = Path(__file__).parent / "files"


@pytest.fixture
def reference(db: Session) -> None:
    seeding.load_reference(db)
    db.commit()


@pytest.fixture
def run(engine: Engine, reference: None) -> Any:
    env = {"CRM_DATABASE_URL": engine.url.render_as_string(hide_password=False), "CRM_SECRET_KEY": SECRET}

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(import_group, ["organisations", *args], env=env)

    return invoke


def organisation_count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Organisation)) or 0


def test_valid_file_is_imported_with_a_summary(run: Any, db: Session) -> None:
    result = run(str(FILES / "import_three_organisations.csv"), "--source", "Embassy list 2026")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "import_three_organisations.csv: 3 rows read, 3 created, 0 skipped as already imported, "
        "0 rejected, 0 possible duplicates"
    )
    assert organisation_count(db) == 3
    assert db.scalar(select(Organisation.provenance_detail).limit(1)) == "Embassy list 2026"


def test_rejected_row_imports_nothing_lists_the_row_and_exits_with_1(run: Any, db: Session) -> None:
    result = run(str(FILES / "import_one_bad_row.csv"))

    assert result.exit_code == 1
    assert "  row 3, Country of residence: unknown country 'Atlantis'" in result.output.splitlines()
    assert "Nothing was imported because 1 row was rejected." in result.output
    assert organisation_count(db) == 0


def test_valid_only_imports_the_valid_rows(run: Any, db: Session) -> None:
    result = run(str(FILES / "import_one_bad_row.csv"), "--valid-only")

    assert result.exit_code == 0, result.output
    assert "2 created" in result.output and "1 rejected" in result.output
    assert organisation_count(db) == 2


def test_dry_run_writes_nothing(run: Any, db: Session) -> None:
    result = run(str(FILES / "import_three_organisations.csv"), "--dry-run")

    assert result.exit_code == 0, result.output
    assert "3 to create" in result.output and "Dry run: nothing was written." in result.output
    assert organisation_count(db) == 0


def test_dry_run_of_a_file_with_rejected_rows_exits_with_1(run: Any, db: Session) -> None:
    result = run(str(FILES / "import_one_bad_row.csv"), "--dry-run")

    assert result.exit_code == 1
    assert "This file cannot be imported as it is: 1 row was rejected." in result.output


def test_second_import_of_the_same_file_skips_every_row(run: Any, db: Session) -> None:
    run(str(FILES / "import_three_organisations.csv"))

    result = run(str(FILES / "import_three_organisations.csv"))

    assert result.exit_code == 0
    assert "0 created, 3 skipped as already imported" in result.output
    assert organisation_count(db) == 3


def test_possible_duplicates_are_listed(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text(
        "Name,Country of residence,Country of origin\nAmicale des Maliens de Paris,France,Mali\n"
        "Amicale des Maliens Paris,France,Mali\n",
        encoding="utf-8",
    )

    result = run(str(path))

    assert result.exit_code == 0
    assert (
        "  row 3, 'Amicale des Maliens Paris' looks like row 2 of this file 'Amicale des Maliens de Paris': "
        "same normalised name" in result.output.splitlines()
    )


def test_at_most_fifty_rejected_rows_are_printed(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text(
        "Name,Country of residence,Country of origin\n" + "Amicale,Atlantis,Mali\n" * 80, encoding="utf-8"
    )

    result = run(str(path))

    assert result.exit_code == 1
    assert sum(line.startswith("  row ") for line in result.output.splitlines()) == SHOWN_PROBLEMS
    assert "  ... and 30 more problems" in result.output


def test_missing_file_is_one_clear_line_and_exit_1(run: Any, tmp_path: Path) -> None:
    result = run(str(tmp_path / "nowhere.csv"))

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {tmp_path / 'nowhere.csv'}: cannot be read (No such file or directory)"
    ]


def test_file_of_another_type_is_one_clear_line_and_exit_1(run: Any, tmp_path: Path, db: Session) -> None:
    path = tmp_path / "orgs.pdf"
    path.write_bytes(b"%PDF-1.4")

    result = run(str(path))

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {path}: 'orgs.pdf' cannot be imported: upload a .csv or .xlsx file."
    ]
    assert "Traceback" not in result.output
    assert organisation_count(db) == 0


def test_missing_secret_key_is_one_clear_line(engine: Engine) -> None:
    env = {
        "CRM_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CRM_SECRET_KEY": None,
        "CRM_DEMO": None,
    }

    result = CliRunner().invoke(
        import_group, ["organisations", str(FILES / "import_three_organisations.csv")], env=env
    )

    assert result.exit_code == 1
    assert result.output.startswith("Error: configuration: CRM_SECRET_KEY is not set.")


@pytest.mark.skipif("import" not in main.commands, reason="the import group is not registered in crm.cli yet")
def test_crm_command_imports_a_file_into_a_migrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        seeding.load_reference(session)
        session.commit()
    crm = shutil.which("crm") or str(Path(sys.executable).parent / "crm")
    env = {**os.environ, "CRM_DATABASE_URL": url, "CRM_SECRET_KEY": SECRET}

    result = subprocess.run(
        [crm, "import", "organisations", str(FILES / "import_three_organisations.csv")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "3 created" in result.stdout
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Organisation)) == 3
    engine.dispose()
