"""The `crm` command: database migrations, demo data, users and the web server."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import wraps
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import crm.models  # noqa: F401  (every table, e.g. users.organisation_id refers to organisations)
from crm.accounts import service as accounts
from crm.accounts.roles import Role
from crm.db.engine import session_scope
from crm.organisations.imports.command import import_group
from crm.settings import Settings, SettingsError, default_language, load_settings
from crm.web import i18n
from crm.web.i18n import gettext as _


class UserMistake(click.ClickException):
    """Printed as one line, exit code 1, no traceback."""


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command in the default language (CRM_DEFAULT_LANGUAGE), its mistakes as one translated line."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with i18n.in_language(default_language()):
            try:
                return func(*args, **kwargs)
            except SettingsError as exc:
                raise UserMistake(_("configuration: %(problems)s") % {"problems": exc.text(_)}) from None
            except accounts.AccountError as exc:
                raise UserMistake(f"{exc.field}: {exc.text(_)}") from None
            except OperationalError as exc:
                raise UserMistake(_("database error: %(error)s") % {"error": exc.orig}) from None

    return wrapper


def settings_for_cli() -> Settings:
    return load_settings()


def db_session(settings: Settings) -> AbstractContextManager[Session]:
    return session_scope(settings.database_url)


def read_password_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UserMistake(_("password: nothing was read from standard input"))
    return password


@click.group()
def main() -> None:
    """Diaspora partnership CRM."""


main.add_command(import_group)


@main.group()
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
@friendly
def db_upgrade(revision: str) -> None:
    """Upgrade the database to REVISION (default: head)."""
    from crm.db import migrate

    migrate.upgrade(settings_for_cli().database_url, revision)
    click.echo(_("database upgraded to %(revision)s") % {"revision": revision})


@db.command("downgrade")
@click.argument("revision")
@friendly
def db_downgrade(revision: str) -> None:
    """Downgrade the database to REVISION ('base' removes everything)."""
    from crm.db import migrate

    migrate.downgrade(settings_for_cli().database_url, revision)
    click.echo(_("database downgraded to %(revision)s") % {"revision": revision})


@db.command("current")
@friendly
def db_current() -> None:
    """Show the database's current revision."""
    from crm.db import migrate

    click.echo(migrate.current(settings_for_cli().database_url) or _("no revision (empty database)"))


@main.group()
def seed() -> None:
    """Load data from seeds/."""


@seed.command("reference")
@friendly
def seed_reference() -> None:
    """Load or update the reference vocabularies (sectors, capital kinds, audiences) and the shipped capacity
    frameworks."""
    from crm import seeding

    with db_session(settings_for_cli()) as session:
        seeding.load_reference(session)
        seeding.load_frameworks(session)
    click.echo(_("reference data loaded"))


@seed.command("demo")
@friendly
def seed_demo() -> None:
    """Load the demo data if the database is empty, and print the demo logins."""
    from crm import seeding

    settings = settings_for_cli()
    with db_session(settings) as session:
        if seeding.database_is_empty(session):
            seeding.load_demo(session)
            click.echo(_("demo data loaded"))
        else:
            click.echo(_("database already has data; demo data not loaded again"))
    click.echo(_("demo logins:"))
    for login in seeding.demo_logins():
        line = _("%(email)-28s password: %(password)-16s roles: %(roles)s")
        click.echo("  " + line % {**login, "roles": ", ".join(login["roles"])})


@main.group()
def framework() -> None:
    """Capacity assessment frameworks (versioned files under seeds/frameworks/)."""


@framework.command("load")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@friendly
def framework_load(path: Path) -> None:
    """Check a framework file and store it as a new version (a version in use never changes)."""
    from crm.assessments import service as assessments
    from crm.assessments.framework import FrameworkError, parse_framework

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserMistake(f"{path}: {exc.strerror}") from None
    try:
        spec = parse_framework(raw)
        with db_session(settings_for_cli()) as session:
            stored, created = assessments.load_framework(session, spec)
            counts = {
                "key": stored.key,
                "version": stored.version,
                "domains": len(spec.domains),
                "indicators": len(spec.indicator_codes()),
            }
    except FrameworkError as exc:
        raise UserMistake(f"{path}: {exc}") from None
    if created:
        click.echo(
            _("framework %(key)s version %(version)s loaded: %(domains)s domains, %(indicators)s indicators")
            % counts
        )
    else:
        click.echo(_("framework %(key)s version %(version)s is already loaded, unchanged") % counts)


@main.group()
def user() -> None:
    """Manage user accounts."""


@user.command("create")
@click.argument("email")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", "full_name", default="", help="Full name.")
@click.option(
    "--organisation",
    "organisation_id",
    type=click.IntRange(1, 2**31 - 1),
    help="Number (ID) of the organisation the user represents (needs --role org_representative).",
)
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
@friendly
def user_create(
    email: str, roles: tuple[str, ...], full_name: str, organisation_id: int | None, password_stdin: bool
) -> None:
    """Create a user with one or more roles."""
    password = read_password_stdin()
    with db_session(settings_for_cli()) as session:
        created = accounts.create_user(
            session, email, password, roles, full_name=full_name, organisation_id=organisation_id
        )
        represented = accounts.represented_organisation(session, created)
        done: dict[str, object] = {"email": created.email, "roles": ", ".join(sorted(roles))}
        if represented:
            message = _("user %(email)s created with roles %(roles)s, representing %(organisation)s (%(id)d)")
            done |= {"organisation": represented.name, "id": represented.id}
        else:
            message = _("user %(email)s created with roles %(roles)s")
        click.echo(message % done)


@user.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
@friendly
def user_set_password(email: str, password_stdin: bool) -> None:
    """Set a user's password (ends the user's open sessions)."""
    password = read_password_stdin()
    with db_session(settings_for_cli()) as session:
        found = accounts.get_user_by_email(session, email)
        if found is None:
            raise UserMistake(_("no user with email %(email)s") % {"email": email})
        accounts.set_password(session, found, password)
    click.echo(_("password of %(email)s changed") % {"email": email})


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@friendly
def serve(host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the web app."""
    import uvicorn

    settings_for_cli()  # fail here, with one clear line, rather than in every worker
    uvicorn.run(
        "crm.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
        access_log=False,
        # Longer than a proxy's (or a client pool's) idle keep-alive, so the server never closes a connection
        # just as the other side sends on it ("server disconnected without a response").
        timeout_keep_alive=75,
    )
