"""The `crm import` commands: import an organisation list from the command line, with the web page's rules."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from crm.db.engine import session_scope
from crm.organisations import importer
from crm.organisations.importing import ImportFileError
from crm.settings import SettingsError, load_settings

SHOWN_PROBLEMS = 50
SHOWN_DUPLICATES = 50

import_group = click.Group("import", help="Import data from files.")


@import_group.command("organisations")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report, without writing anything.")
@click.option("--valid-only", is_flag=True, help="Import the valid rows even if some rows are rejected.")
@click.option("--source", default=None, help="Where the list comes from (default: the file name).")
def import_organisations(file: Path, dry_run: bool, valid_only: bool, source: str | None) -> None:
    """Import organisations from a .csv or .xlsx FILE.

    Without --valid-only, one rejected row means nothing is imported. Rows imported before are skipped;
    possible duplicates are imported and listed for review. Exits with 1 if rows were rejected and so
    nothing was (or, with --dry-run, would be) imported.
    """
    try:
        settings = load_settings()
    except SettingsError as error:
        raise click.ClickException(f"configuration: {error}") from None
    try:
        with file.open("rb") as handle, session_scope(settings.database_url) as session:
            report = importer.import_organisations(
                session, handle, file.name, dry_run=dry_run, valid_only=valid_only, source=source
            )
    except OSError as error:
        raise click.ClickException(f"{file}: cannot be read ({error.strerror or error})") from None
    except ImportFileError as error:
        raise click.ClickException(f"{file}: {error}") from None
    except (OperationalError, ProgrammingError) as error:
        raise click.ClickException(f"database error: {error.orig}") from None
    _print_report(report)
    if report.refused:
        raise click.exceptions.Exit(1)


def _print_report(report: importer.ImportReport) -> None:
    created = "to create" if report.dry_run or report.refused else "created"
    click.echo(
        f"{report.filename}: {report.rows_read} rows read, {report.created} {created}, "
        f"{report.already_imported} skipped as already imported, {report.rejected} rejected, "
        f"{report.possible_duplicates} possible duplicates"
    )
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    if report.problems:
        click.echo("rejected rows:")
        for problem in report.problems[:SHOWN_PROBLEMS]:
            click.echo(f"  row {problem.row}, {problem.column}: {problem.reason}")
        if report.problem_count > SHOWN_PROBLEMS:
            click.echo(f"  ... and {report.problem_count - SHOWN_PROBLEMS} more problems")
    if report.duplicates:
        click.echo("possible duplicates (imported; review and merge in the web app):")
        for duplicate in report.duplicates[:SHOWN_DUPLICATES]:
            match = (
                f"organisation {duplicate.organisation_id} {duplicate.match_name!r}"
                if duplicate.organisation_id is not None
                else f"row {duplicate.file_row} of this file {duplicate.match_name!r}"
            )
            click.echo(
                f"  row {duplicate.row}, {duplicate.name!r} looks like {match}: {', '.join(duplicate.reasons)}"
            )
        if report.possible_duplicates > SHOWN_DUPLICATES:
            click.echo(f"  ... and {report.possible_duplicates - SHOWN_DUPLICATES} more")
    rejected = "1 row was" if report.rejected == 1 else f"{report.rejected} rows were"
    if report.refused and report.dry_run:
        click.echo(
            f"This file cannot be imported as it is: {rejected} rejected. Fix them, or use --valid-only."
        )
    elif report.refused:
        click.echo(f"Nothing was imported because {rejected} rejected. Fix them, or use --valid-only.")
    elif report.dry_run:
        click.echo("Dry run: nothing was written.")
