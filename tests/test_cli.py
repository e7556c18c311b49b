"""The `crm` command as operators run it: real subprocesses, one readable line per mistake, no traceback."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from crm.accounts import service
from crm.accounts.models import UserSession
from crm.accounts.roles import Role
from crm.db import migrate
from crm.db.engine import make_engine, make_sessionmaker
from crm.settings import PROJECT_ROOT
from tests.assessments.conftest import framework_document
from tests.conftest import SECRET

PASSWORD = "a long enough password"
Run = Callable[..., subprocess.CompletedProcess[str]]


def crm_executable() -> str:
    # The script next to this interpreter belongs to the code under test; one found on PATH may not.
    beside = Path(sys.executable).parent / "crm"
    found = str(beside) if beside.exists() else shutil.which("crm")
    assert found, "the `crm` console script is installed (pip install -e .)"
    return found


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'x.db'}"


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without any CRM_* setting, so only what a test sets counts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    return env


@pytest.fixture
def crm(tmp_path: Path, database_url: str, base_env: dict[str, str]) -> Run:
    def run(
        *args: str, stdin: str = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**base_env, "CRM_DATABASE_URL": database_url, "CRM_SECRET_KEY": SECRET}
        if env is not None:
            full_env = {**base_env, **env}
        return subprocess.run(
            [crm_executable(), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=full_env,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )

    return run


@pytest.fixture
def migrated(crm: Run) -> Run:
    result = crm("db", "upgrade")
    assert result.returncode == 0, result.stderr
    return crm


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def user_roles(database_url: str, email: str) -> set[Role] | None:
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            user = service.get_user_by_email(session, email)
            return None if user is None else set(user.roles)
    finally:
        engine.dispose()


def test_db_upgrade_creates_the_schema(crm: Run, database_url: str) -> None:
    result = crm("db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "database upgraded to head" in result.stdout
    engine = make_engine(database_url)
    try:
        assert {"users", "audit_log", "alembic_version"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_db_current_prints_the_head_revision(migrated: Run, database_url: str) -> None:
    head = ScriptDirectory.from_config(migrate.alembic_config(database_url)).get_current_head()
    result = migrated("db", "current")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{head} (head)"


def test_db_current_of_an_empty_database_says_so(crm: Run) -> None:
    result = crm("db", "current")
    assert result.returncode == 0, result.stderr
    assert "no revision" in result.stdout


def test_db_downgrade_base_removes_everything(migrated: Run, database_url: str) -> None:
    result = migrated("db", "downgrade", "base")
    assert result.returncode == 0, result.stderr
    assert "database downgraded to base" in result.stdout
    engine = make_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()
    assert "no revision" in migrated("db", "current").stdout


def test_user_create_reads_the_password_from_stdin(migrated: Run, database_url: str) -> None:
    result = migrated(
        "user", "create", "a@example.org", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert "a@example.org" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
    assert user_roles(database_url, "a@example.org") == {Role.ADMIN}
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            assert service.check_credentials(session, "a@example.org", PASSWORD) is not None
    finally:
        engine.dispose()


def test_user_create_accepts_several_roles_and_a_name(migrated: Run, database_url: str) -> None:
    result = migrated(
        "user", "create", "t@example.org", "--role", "trainer", "--role", "org_representative",
        "--name", "Tina Trainer", "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert user_roles(database_url, "t@example.org") == {Role.TRAINER, Role.ORG_REPRESENTATIVE}


def add_user(database_url: str, email: str) -> None:
    """Arrange an existing account in-process, so each CLI test exercises one command."""
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            user = service.create_user(session, email, PASSWORD, ["admin"])
            service.start_session(session, user, "127.0.0.1", days=1)
            session.commit()
    finally:
        engine.dispose()


def test_creating_an_existing_user_again_fails_with_one_line(migrated: Run, database_url: str) -> None:
    add_user(database_url, "a@example.org")
    again = migrated("user", "create", "A@example.org", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    assert_one_line_error(again, "already exists")
    assert "email" in again.stderr


def test_user_create_with_an_unknown_role_fails(migrated: Run, database_url: str) -> None:
    result = migrated(
        "user", "create", "a@example.org", "--role", "nonsense", "--password-stdin", stdin=PASSWORD
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "nonsense" in result.stderr
    assert user_roles(database_url, "a@example.org") is None


def test_user_create_with_empty_stdin_fails_with_one_line(migrated: Run, database_url: str) -> None:
    result = migrated("user", "create", "a@example.org", "--role", "admin", "--password-stdin", stdin="")
    assert_one_line_error(result, "password")
    assert user_roles(database_url, "a@example.org") is None


def test_user_create_with_a_short_password_fails_with_one_line(migrated: Run, database_url: str) -> None:
    result = migrated(
        "user", "create", "a@example.org", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert_one_line_error(result, "at least 10 characters")
    assert user_roles(database_url, "a@example.org") is None


def test_user_create_before_db_upgrade_fails_with_one_line(crm: Run) -> None:
    result = crm("user", "create", "a@example.org", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    assert_one_line_error(result, "database error")


def test_set_password_for_an_unknown_email_fails_with_one_line(migrated: Run) -> None:
    result = migrated("user", "set-password", "nobody@example.org", "--password-stdin", stdin=PASSWORD)
    assert_one_line_error(result, "nobody@example.org")


def test_set_password_changes_the_password_and_ends_sessions(migrated: Run, database_url: str) -> None:
    add_user(database_url, "a@example.org")
    engine = make_engine(database_url)
    try:
        result = migrated(
            "user", "set-password", "A@Example.org", "--password-stdin", stdin="another long password\n"
        )
        assert result.returncode == 0, result.stderr
        with make_sessionmaker(engine)() as session:
            assert session.scalars(select(UserSession)).all() == []
            assert service.check_credentials(session, "a@example.org", "another long password") is not None
            assert service.check_credentials(session, "a@example.org", PASSWORD) is None
    finally:
        engine.dispose()


def test_seed_demo_on_an_empty_database_prints_the_demo_logins(migrated: Run, database_url: str) -> None:
    result = migrated("seed", "demo")
    assert result.returncode == 0, result.stderr
    assert "admin@demo.example.org" in result.stdout
    assert "demo-password" in result.stdout
    assert user_roles(database_url, "admin@demo.example.org") == {Role.ADMIN}


def test_seed_demo_twice_does_not_load_the_data_again(migrated: Run) -> None:
    assert migrated("seed", "demo").returncode == 0
    again = migrated("seed", "demo")
    assert again.returncode == 0, again.stderr
    assert "not loaded again" in again.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_without_a_secret_key_outside_demo_mode_refuses_to_start(
    crm: Run, database_url: str, base_env: dict[str, str]
) -> None:
    result = crm("serve", "--port", str(free_port()), env={**base_env, "CRM_DATABASE_URL": database_url})
    assert_one_line_error(result, "CRM_SECRET_KEY")


def test_serve_with_a_short_secret_key_refuses_to_start(
    crm: Run, database_url: str, base_env: dict[str, str]
) -> None:
    env = {**base_env, "CRM_DATABASE_URL": database_url, "CRM_SECRET_KEY": "too-short"}
    result = crm("serve", "--port", str(free_port()), env=env)
    assert_one_line_error(result, "CRM_SECRET_KEY", "32")


def test_demo_mode_needs_no_secret_key(crm: Run, database_url: str, base_env: dict[str, str]) -> None:
    result = crm("db", "upgrade", env={**base_env, "CRM_DATABASE_URL": database_url, "CRM_DEMO": "1"})
    assert result.returncode == 0, result.stderr


# crm framework load -----------------------------------------------------------------------------

SHIPPED = sorted((PROJECT_ROOT / "seeds" / "frameworks").glob("*.json"))


def test_the_shipped_frameworks_load_in_version_order_and_again_unchanged(migrated: Run) -> None:
    assert SHIPPED, "seeds/frameworks holds the framework files"
    for path in SHIPPED:
        result = migrated("framework", "load", str(path))
        assert result.returncode == 0, result.stderr
        assert "loaded" in result.stdout
    again = migrated("framework", "load", str(SHIPPED[0]))
    assert again.returncode == 0 and "already loaded, unchanged" in again.stdout


def test_a_bad_file_is_one_line_naming_the_element(migrated: Run, tmp_path: Path) -> None:
    document = framework_document()
    document["domains"][2]["indicators"][1]["levels"].pop()
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = migrated("framework", "load", str(path))
    assert_one_line_error(result, "domains[2].indicators[1].levels: 3 levels, 4 expected")


def test_a_missing_file_is_one_line(migrated: Run, tmp_path: Path) -> None:
    result = migrated("framework", "load", str(tmp_path / "nowhere.json"))
    assert_one_line_error(result, "nowhere.json")
