"""HTTP for the organisation import page: upload a list, check it, import it, read the report."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import MultipartBody
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from crm.accounts.permissions import requires_staff
from crm.organisations.imports import writer as importer
from crm.organisations.imports.reader import FIELD_HEADERS, REQUIRED_FIELDS, ImportFileError
from crm.web.deps import Db
from crm.web.i18n import gettext as _
from crm.web.templating import is_partial

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
SOURCE_LIMIT = 200
PAGE = "organisations/import.html"
REPORT = "organisations/partials/_import_report.html"


def _checked(value: Any) -> bool:
    return value in ("true", "on", "1")


def _base_name(filename: str) -> str:
    # Some browsers send the client's full path.
    return filename.replace("\\", "/").rsplit("/", 1)[-1]


class ImportController(Controller):
    path = "/import/organisations"
    guards = [requires_staff]

    @get("/", name="import_organisations", sync_to_thread=False)
    def import_page(self, request: Request[Any, Any, Any]) -> Template:
        return self._render(request, {"source": "", "valid_only": False})

    @post("/", sync_to_thread=True, request_max_body_size=MAX_UPLOAD_BYTES)
    def import_file(
        self, request: Request[Any, Any, Any], db: Db, data: MultipartBody[dict[str, Any]]
    ) -> Template:
        form = {
            "source": str(data.get("source") or "").strip(),
            "valid_only": _checked(data.get("valid_only")),
        }
        upload = data.get("file")
        errors = {}
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors["file"] = _("Choose a .csv or .xlsx file to import.")
        if len(form["source"]) > SOURCE_LIMIT:
            errors["source"] = _("This value is too long.")
        if errors:
            return self._render(request, form, errors=errors)
        assert isinstance(upload, UploadFile)
        filename = _base_name(upload.filename)
        try:
            report = importer.import_organisations(
                db,
                upload.file,
                filename,
                # Anything but an explicit "import" (e.g. Enter in the source field) only checks.
                dry_run=data.get("action") != "import",
                valid_only=form["valid_only"],
                source=form["source"] or None,
            )
        except ImportFileError as error:
            return self._render(
                request, form, file_error=importer.translate(error.template, error.params), filename=filename
            )
        finally:
            upload.file.close()
        return self._render(request, form, report=report, filename=filename)

    def _render(
        self,
        request: Request[Any, Any, Any],
        form: dict[str, Any],
        *,
        errors: dict[str, str] | None = None,
        report: importer.ImportReport | None = None,
        file_error: str | None = None,
        filename: str = "",
    ) -> Template:
        partial = is_partial(request)
        context = {
            "form": form,
            "errors": errors or {},
            "report": report,
            "file_error": file_error,
            "filename": filename,
            # The fragment also refreshes the field errors next to the form, which htmx leaves in place.
            "oob": partial,
            "columns": [
                (headers[0], name in REQUIRED_FIELDS, headers[1:]) for name, headers in FIELD_HEADERS.items()
            ],
            "max_upload_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        }
        return Template(REPORT if partial else PAGE, context=context)


IMPORT_HANDLERS: list[ControllerRouterHandler] = [ImportController]
