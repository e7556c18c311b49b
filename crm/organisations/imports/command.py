"""The `crm import` commands: import an organisation list from the command line, with the web page's rules."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from crm.db.engine import session_scope
from crm.organisations.imports import writer as importer
from crm.organisations.imports.reader import ImportFileError
from crm.settings import SettingsError, default_language, load_settings
from crm.web import i18n
from crm.web.i18n import gettext as _
from crm.web.i18n import ngettext

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
    # The command speaks the default language (CRM_DEFAULT_LANGUAGE), and so does the report it reads.
    with i18n.in_language(default_language()):
        try:
            settings = load_settings()
        except SettingsError as error:
            raise click.ClickException(
                _("configuration: %(problems)s") % {"problems": error.text(_)}
            ) from None
        try:
            with file.open("rb") as handle, session_scope(settings.database_url) as session:
                report = importer.import_organisations(
                    session, handle, file.name, dry_run=dry_run, valid_only=valid_only, source=source
                )
        except OSError as error:
            raise click.ClickException(
                _("%(file)s: cannot be read (%(error)s)") % {"file": file, "error": error.strerror or error}
            ) from None
        except ImportFileError as error:
            raise click.ClickException(
                f"{file}: {importer.translate(error.template, error.params)}"
            ) from None
        except (OperationalError, ProgrammingError) as error:
            raise click.ClickException(_("database error: %(error)s") % {"error": error.orig}) from None
        _print_report(report)
    if report.refused:
        raise click.exceptions.Exit(1)


def _print_report(report: importer.ImportReport) -> None:
    counts = {
        "file": report.filename,
        "read": report.rows_read,
        "created": report.created,
        "skipped": report.already_imported,
        "rejected": report.rejected,
        "duplicates": report.possible_duplicates,
    }
    if report.dry_run or report.refused:
        summary = _(
            "%(file)s: %(read)d rows read, %(created)d to create, %(skipped)d skipped as already imported, "
            "%(rejected)d rejected, %(duplicates)d possible duplicates"
        )
    else:
        summary = _(
            "%(file)s: %(read)d rows read, %(created)d created, %(skipped)d skipped as already imported, "
            "%(rejected)d rejected, %(duplicates)d possible duplicates"
        )
    click.echo(summary % counts)
    for warning in report.warnings:
        click.echo(_("warning: %(warning)s") % {"warning": warning})
    if report.problems:
        click.echo(_("rejected rows:"))
        for problem in report.problems[:SHOWN_PROBLEMS]:
            line = _("row %(row)d, %(column)s: %(reason)s")
            click.echo("  " + line % {"row": problem.row, "column": problem.column, "reason": problem.reason})
        more = report.problem_count - SHOWN_PROBLEMS
        if more > 0:
            line = ngettext("... and %(num)d more problem", "... and %(num)d more problems", more)
            click.echo("  " + line % {"num": more})
    if report.duplicates:
        click.echo(_("possible duplicates (imported; review and merge in the web app):"))
        for duplicate in report.duplicates[:SHOWN_DUPLICATES]:
            found = {
                "row": duplicate.row,
                "name": duplicate.name,
                "match": duplicate.match_name,
                "organisation": duplicate.organisation_id,
                "file_row": duplicate.file_row,
                "reasons": ", ".join(duplicate.reasons),
            }
            if duplicate.organisation_id is not None:
                line = _(
                    "row %(row)d, %(name)r looks like organisation %(organisation)d %(match)r: %(reasons)s"
                )
            else:
                line = _(
                    "row %(row)d, %(name)r looks like row %(file_row)d of this file %(match)r: %(reasons)s"
                )
            click.echo("  " + line % found)
        more = report.possible_duplicates - SHOWN_DUPLICATES
        if more > 0:
            line = ngettext("... and %(num)d more", "... and %(num)d more", more)
            click.echo("  " + line % {"num": more})
    if report.refused and report.dry_run:
        click.echo(
            ngettext(
                "This file cannot be imported as it is: %(num)d row was rejected. Fix them, or use --valid-only.",
                "This file cannot be imported as it is: %(num)d rows were rejected. Fix them, or use --valid-only.",
                report.rejected,
            )
            % {"num": report.rejected}
        )
    elif report.refused:
        click.echo(
            ngettext(
                "Nothing was imported because %(num)d row was rejected. Fix them, or use --valid-only.",
                "Nothing was imported because %(num)d rows were rejected. Fix them, or use --valid-only.",
                report.rejected,
            )
            % {"num": report.rejected}
        )
    elif report.dry_run:
        click.echo(_("Dry run: nothing was written."))
