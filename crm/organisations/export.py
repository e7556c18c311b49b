"""The filtered directory as CSV or XLSX: only the fields the user may see, streamed in bounded memory."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations import directory, permissions
from crm.organisations.countries import country_name
from crm.organisations.models import Contact, Organisation

PUBLIC_COLUMNS = (
    "id",
    "name",
    "acronym",
    "residence_country",
    "residence_city",
    "origin_country",
    "founded_year",
    "legal_status",
    "website",
    "sectors",
    "capital_kinds",
    "audiences",
    "languages",
    "members_count",
    "volunteers_count",
    "staff_count",
    "budget_band",
    "skills_offered",
    "contribution_modes",
    "contribution_to",
    "peer_trainer_consent",
    "completeness",
)
STAFF_COLUMNS = (
    "email",
    "phone",
    "provenance",
    "provenance_detail",
    "consent_to_share",
    "capacity_band",
    "contacts",
)
# What an .xlsx cell (XML 1.0) cannot hold. The forms refuse control characters, but records saved before that,
# or written by other means, may still carry them, and one such cell would fail the whole workbook.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _cell(organisation: Organisation, column: str) -> Any:
    if column in (
        "sectors",
        "capital_kinds",
        "audiences",
        "languages",
        "skills_offered",
        "contribution_modes",
    ):
        return "; ".join(getattr(organisation, column) or [])
    if column.endswith("_country"):
        code = getattr(organisation, column)
        return f"{code} {country_name(code, 'en')}" if code else ""
    value = getattr(organisation, column)
    return "" if value is None else value


def directory_rows(session: Session, user: User, filters: directory.DirectoryFilters) -> Iterator[list[Any]]:
    """Header row, then one row per visible organisation; contacts' personal data only for the government side."""
    staff = permissions.can_see_contact_details(user)
    columns = PUBLIC_COLUMNS + (STAFF_COLUMNS if staff else ())
    yield list(columns)
    batch: list[Organisation] = []
    for organisation in directory.iter_directory(session, user, filters):
        batch.append(organisation)
        if len(batch) == 500:
            yield from _rows(session, batch, columns, staff)
            batch = []
    yield from _rows(session, batch, columns, staff)


def _rows(
    session: Session, batch: list[Organisation], columns: tuple[str, ...], staff: bool
) -> Iterable[list[Any]]:
    contacts: dict[int, list[str]] = {}
    if staff and batch:
        for contact in session.scalars(
            select(Contact)
            .where(Contact.organisation_id.in_([o.id for o in batch]))
            .order_by(Contact.full_name)
        ):
            parts = [contact.full_name, contact.role_title, contact.email, contact.phone]
            contacts.setdefault(contact.organisation_id or 0, []).append(
                " / ".join(p for p in parts if p) + f" [{contact.consent}]"
            )
    for organisation in batch:
        row = []
        for column in columns:
            if column == "contacts":
                row.append(" | ".join(contacts.get(organisation.id, [])))
            else:
                row.append(_cell(organisation, column))
        yield row


def csv_chunks(rows: Iterable[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    for number, row in enumerate(rows):
        writer.writerow([_neutralise(v) for v in row])
        if number % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_bytes(rows: Iterable[list[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Organisations")
    for row in rows:
        sheet.append([_text_cell(sheet, _xml_safe(v)) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xml_safe(value: Any) -> Any:
    return _NOT_IN_XML.sub("", value) if isinstance(value, str) else value


# A phone number ("+33 1 42 05 66 31") starts like a formula but can run nothing: it is left as it is.
_PHONE_LIKE = re.compile(r"\+[\d\s().-]*")


def _neutralise(value: Any) -> Any:
    """In CSV, a cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection)."""
    if (
        isinstance(value, str)
        and value[:1] in ("=", "+", "-", "@", "\t", "\r")
        and not _PHONE_LIKE.fullmatch(value)
    ):
        return "'" + value
    return value


def _text_cell(sheet: Any, value: Any) -> Any:
    """In XLSX, text is stored typed as text, so it is never a formula and needs no prefix (openpyxl would
    take a string starting with "=" for one)."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def csv_chunks_from_own_session(bind: Any, user: User, filters: directory.DirectoryFilters) -> Iterator[str]:
    session = Session(bind=bind)
    try:
        yield from csv_chunks(directory_rows(session, user, filters))
    finally:
        session.close()
