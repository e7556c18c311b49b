"""The `crm` command speaks the default language, CRM_DEFAULT_LANGUAGE: with `fr`, its errors and its import
report are in French. Real subprocesses, as operators run it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from crm import seeding
from crm.db import migrate
from crm.db.engine import make_engine, make_sessionmaker
from tests.conftest import SECRET
from tests.organisations.test_import_cli import FILES
from tests.test_cli import PASSWORD, Run, assert_one_line_error, crm_executable


@pytest.fixture
def crm_in_french(tmp_path: Path) -> Run:
    """`crm` against a migrated database holding the reference data, with CRM_DEFAULT_LANGUAGE=fr."""
    database_url = f"sqlite:///{tmp_path / 'x.db'}"
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            seeding.load_reference(session)
            session.commit()
    finally:
        engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env |= {"CRM_DATABASE_URL": database_url, "CRM_SECRET_KEY": SECRET, "CRM_DEFAULT_LANGUAGE": "fr"}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [crm_executable(), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )

    return run


def test_an_error_of_the_command_is_in_french(crm_in_french: Run) -> None:
    result = crm_in_french("user", "set-password", "nobody@example.org", "--password-stdin", stdin=PASSWORD)

    assert_one_line_error(result, "aucun compte n'a le courriel nobody@example.org")


def test_the_import_report_is_in_french(crm_in_french: Run) -> None:
    result = crm_in_french("import", "organisations", str(FILES / "import_one_bad_row.csv"))

    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "import_one_bad_row.csv — lignes lues : 3 ; à créer : 2 ; ignorées car déjà importées : 0 ; "
        "rejetées : 1 ; doublons possibles : 0"
    )
    assert "lignes rejetées :" in lines
    assert "  ligne 3, Country of residence : pays inconnu « Atlantis »" in lines
    assert lines[-1] == (
        "Rien n'a été importé, car 1 ligne a été rejetée. Corrigez-la ou utilisez --valid-only."
    )
