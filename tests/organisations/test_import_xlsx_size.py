"""An uploaded .xlsx is a zip: one that unpacks to more than the cap (a zip bomb) is refused, with a message
that says so, before its sheet is parsed; what it declares is checked, and what it unpacks to is counted."""

from __future__ import annotations

import io
import struct
import zipfile
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.organisations.imports import reader as importing
from crm.organisations.imports.reader import ImportFileError, Vocabulary, read_rows
from crm.organisations.models import Organisation

SHEET = "xl/worksheets/sheet1.xml"
ROW = (
    "<row>"
    '<c t="inlineStr"><is><t>Amicale des Maliens de France</t></is></c>'
    '<c t="inlineStr"><is><t>France</t></is></c>'
    '<c t="inlineStr"><is><t>Mali</t></is></c>'
    "</row>"
)
CAP = 1024 * 1024
TOO_LARGE = "This Excel workbook unpacks to more than 1 MB"
NO_VOCABULARY = Vocabulary(sectors={}, capital_kinds={}, audiences={})


def workbook_of_repeated_rows(rows: int) -> bytes:
    """A real workbook whose sheet repeats one row: megabytes of XML that deflate to a few kilobytes."""
    workbook = openpyxl.Workbook()
    workbook.active.append(["Name", "Country of residence", "Country of origin"])
    plain = io.BytesIO()
    workbook.save(plain)
    source = zipfile.ZipFile(plain)
    head, tail = source.read(SHEET).decode().split("</row>", 1)
    sheet = head + "</row>" + ROW * rows + tail
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for member in source.infolist():
            target.writestr(
                member.filename, sheet if member.filename == SHEET else source.read(member.filename)
            )
    return packed.getvalue()


def unpacked_size(content: bytes) -> int:
    return sum(member.file_size for member in zipfile.ZipFile(io.BytesIO(content)).infolist())


def declaring(content: bytes, member: str, size: int) -> bytes:
    """The same zip, its central directory claiming that `member` unpacks to `size` bytes."""
    data = bytearray(content)
    end = data.rfind(b"PK\x05\x06")
    (position,) = struct.unpack("<I", data[end + 16 : end + 20])
    while data[position : position + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack("<HHH", data[position + 28 : position + 34])
        if data[position + 46 : position + 46 + name_length].decode() == member:
            data[position + 24 : position + 28] = struct.pack("<I", size)
        position += 46 + name_length + extra_length + comment_length
    return bytes(data)


@pytest.fixture
def cap(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(importing, "MAX_XLSX_UNPACKED_BYTES", CAP, raising=False)
    return CAP


def test_xlsx_bomb_is_refused_before_its_sheet_is_read(cap: int) -> None:
    bomb = workbook_of_repeated_rows(40_000)
    assert len(bomb) < 64 * 1024 and unpacked_size(bomb) > 4 * cap

    with pytest.raises(ImportFileError, match=TOO_LARGE):
        read_rows(io.BytesIO(bomb), "liste.xlsx", NO_VOCABULARY)


def test_workbook_under_the_cap_is_read_to_its_last_row(cap: int) -> None:
    workbook = workbook_of_repeated_rows(3_000)
    assert unpacked_size(workbook) < cap

    _, rows = read_rows(io.BytesIO(workbook), "liste.xlsx", NO_VOCABULARY)

    assert sum(1 for row in rows if not row.errors) == 3_000


def test_xlsx_bomb_that_understates_its_size_is_refused_too(cap: int) -> None:
    """The size a zip declares can lie: reading stops where the declaration ends, and the workbook is refused."""
    bomb = declaring(workbook_of_repeated_rows(40_000), SHEET, 2_000)

    with pytest.raises(ImportFileError):
        _, rows = read_rows(io.BytesIO(bomb), "liste.xlsx", NO_VOCABULARY)
        list(rows)


def test_officer_uploading_an_xlsx_bomb_is_told_it_is_too_large_and_nothing_is_imported(
    cap: int, officer: User, login: Any, db: Session, reference: None
) -> None:
    client = login(officer)
    files = {"file": ("liste.xlsx", workbook_of_repeated_rows(40_000), "application/octet-stream")}

    response = client.post(
        "/import/organisations", files=files, data={"action": "import", "_csrf_token": client.csrf_token()}
    )

    assert response.status_code == 200
    assert TOO_LARGE in response.text
    assert db.scalar(select(func.count()).select_from(Organisation)) == 0
