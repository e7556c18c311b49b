"""Tests for reading and validating uploaded organisation lists (CSV and XLSX)."""

import datetime
import io
import time
import tracemalloc
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from crm.organisations.imports.reader import (
    FIELD_HEADERS,
    HeaderReport,
    ImportFileError,
    ParsedRow,
    RowError,
    Vocabulary,
    read_rows,
)

FILES = Path(__file__).parent / "files"

VOCABULARY = Vocabulary(
    sectors={
        "education": ("Education", "Éducation"),
        "health": ("Health", "Santé"),
        "arts": ("Arts, culture and heritage", "Arts, culture et patrimoine"),
    },
    capital_kinds={
        "financial": ("Financial capital", "Capital financier"),
        "human": ("Human capital", "Capital humain"),
        "social": ("Social capital", "Capital social"),
    },
    audiences={"youth": ("Youth", "Jeunes"), "women": ("Women", "Femmes")},
)

HEADER = "Name,Country of residence,Country of origin"


def csv_bytes(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def read_csv(text: str) -> tuple[HeaderReport, list[ParsedRow]]:
    report, rows = read_rows(csv_bytes(text), "organisations.csv", VOCABULARY)
    return report, list(rows)


def xlsx_bytes(rows: Iterable[Sequence[Any]]) -> io.BytesIO:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def read_one(column: str, value: str) -> tuple[str, ParsedRow]:
    """Read a single row that is valid apart from one extra column; return that column's field and the row."""
    report, rows = read_csv(f'{HEADER},"{column}"\nAmicale,France,Mali,"{value}"\n')
    (row,) = rows
    return report.mapped[column], row


def value_of(column: str, value: str) -> Any:
    field, row = read_one(column, value)
    assert row.errors == []
    return row.values[field]


def reasons_of(column: str, value: str) -> list[str]:
    field, row = read_one(column, value)
    assert field not in row.values
    assert {error.field for error in row.errors} == {field}
    return [error.reason for error in row.errors]


def test_comma_csv_with_english_headers_is_read() -> None:
    report, rows = read_csv(
        "Name,Acronym,Country of residence,City,Country of origin,Founded,Legal status,Sectors,Members\n"
        "Senegalese Association of Lyon,SAL,France,Lyon,Senegal,1998,Registered association,Education,40\n"
    )

    assert report.mapped["Country of residence"] == "residence_country"
    assert report.unknown == ()
    assert rows == [
        ParsedRow(
            row=2,
            values={
                "name": "Senegalese Association of Lyon",
                "acronym": "SAL",
                "residence_country": "FR",
                "residence_city": "Lyon",
                "origin_country": "SN",
                "founded_year": 1998,
                "legal_status": "registered_association",
                "sectors": ["education"],
                "members_count": 40,
            },
            errors=[],
        )
    ]


def test_semicolon_csv_with_bom_and_french_headers_is_read() -> None:
    with (FILES / "organisations_fr_semicolon_bom.csv").open("rb") as file:
        report, rows = read_rows(file, "organisations.csv", VOCABULARY)
        first, second = rows

    assert report.unknown == ()
    assert report.mapped["Nom de l'organisation"] == "name"
    assert first.row == 2
    assert first.errors == []
    assert first.values == {
        "name": "Association des Sénégalais de Lyon",
        "acronym": "ASL",
        "residence_country": "FR",
        "residence_city": "Lyon",
        "origin_country": "SN",
        "founded_year": 1998,
        "legal_status": "registered_association",
        "sectors": ["education"],
        "capital_kinds": ["financial", "social"],
        "audiences": ["youth"],
        "languages": ["fr", "wo"],
        "members_count": 1200,
        "volunteers_count": 35,
        "staff_count": 2,
        "budget_band": "10k_50k",
        "email": "contact@asl.example.org",
        "phone": "+33 4 72 00 00 00",
        "website": "https://asl.example.org",
        "description": "Entraide; culture",
        "consent_to_share": True,
    }
    # The blank line between them is skipped, but still counts as spreadsheet row 3.
    assert second.row == 4
    assert second.errors == []
    assert second.values["residence_country"] == "BE"
    assert second.values["origin_country"] == "CI"
    assert second.values["legal_status"] == "informal_group"
    assert second.values["volunteers_count"] is None
    assert second.values["consent_to_share"] is False


def test_xlsx_first_sheet_is_read_with_typed_cells() -> None:
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.append(["Nom", "Pays de résidence", "Pays d'origine", "Année de création", "Membres", "Téléphone"])
    first.append(["Amicale des Maliens", "FR", "MLI", 2004, 1200.0, 33612345678])
    first.append(["Cercle des Comoriens", "France", "Comores", datetime.datetime(2010, 5, 1), 15, None])
    first.append(["Fondation Espoir", "FR", "SN", True, None, None])
    workbook.create_sheet("Ignored").append(["Name"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)

    report, rows = read_rows(buffer, "Organisations.XLSX", VOCABULARY)
    first_row, second_row, third_row = rows

    assert report.mapped == {
        "Nom": "name",
        "Pays de résidence": "residence_country",
        "Pays d'origine": "origin_country",
        "Année de création": "founded_year",
        "Membres": "members_count",
        "Téléphone": "phone",
    }
    assert first_row.values == {
        "name": "Amicale des Maliens",
        "residence_country": "FR",
        "origin_country": "ML",
        "founded_year": 2004,
        "members_count": 1200,
        "phone": "33612345678",
    }
    assert second_row.values["origin_country"] == "KM"
    assert second_row.values["founded_year"] == 2010
    assert third_row.errors == [RowError(4, "founded_year", "must be a whole number")]


def test_xlsx_blank_rows_are_skipped_and_row_numbers_match_the_sheet() -> None:
    buffer = xlsx_bytes([["Name", "Country of residence", "Country of origin"], ["A", "FR", "SN"]])
    workbook = openpyxl.load_workbook(buffer)
    workbook.active["A6"] = "B"
    workbook.active["B6"] = "Atlantis"
    workbook.active["C6"] = "SN"
    workbook.active["A4"] = "   "
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)

    _, rows = read_rows(buffer, "x.xlsx", VOCABULARY)

    assert [row.row for row in rows] == [2, 6]


def test_row_with_unknown_country_is_rejected_with_row_number_and_field() -> None:
    _, rows = read_csv(f"{HEADER}\nA,France,Senegal\n\nB,Atlantis,Senegal\n")

    assert rows[0].errors == []
    assert rows[1].row == 4
    assert rows[1].errors == [RowError(4, "residence_country", "unknown country 'Atlantis'")]
    assert "residence_country" not in rows[1].values
    assert rows[1].values["origin_country"] == "SN"


@pytest.mark.parametrize(
    ("text", "code"),
    [("Sénégal", "SN"), ("Senegal", "SN"), ("sn", "SN"), ("SEN", "SN"), ("Côte d’Ivoire", "CI")],
)
def test_country_is_accepted_by_french_or_english_name_code_or_alpha3(text: str, code: str) -> None:
    _, rows = read_csv(f"{HEADER}\nA,{text},{text}\n")

    assert rows[0].values["residence_country"] == rows[0].values["origin_country"] == code


def test_missing_required_column_is_a_file_error_naming_the_column() -> None:
    with pytest.raises(ImportFileError, match="Required columns are missing: Country of origin"):
        read_rows(csv_bytes("Name,Country of residence\nA,FR\n"), "x.csv", VOCABULARY)


def test_xlsx_missing_required_column_is_a_file_error() -> None:
    with pytest.raises(ImportFileError, match="Name, Country of residence, Country of origin"):
        read_rows(xlsx_bytes([["Nothing useful"], ["A"]]), "x.xlsx", VOCABULARY)


@pytest.mark.parametrize("filename", ["organisations.xls", "organisations.ods", "organisations"])
def test_other_file_types_are_refused(filename: str) -> None:
    with pytest.raises(ImportFileError, match=r"upload a \.csv or \.xlsx file"):
        read_rows(csv_bytes(HEADER), filename, VOCABULARY)


@pytest.mark.parametrize(("content", "filename"), [(b"", "x.csv"), (b"\xef\xbb\xbf", "x.csv")])
def test_empty_csv_is_a_file_error(content: bytes, filename: str) -> None:
    with pytest.raises(ImportFileError, match="The file is empty"):
        read_rows(io.BytesIO(content), filename, VOCABULARY)


def test_empty_workbook_is_a_file_error() -> None:
    with pytest.raises(ImportFileError, match="The file is empty"):
        read_rows(xlsx_bytes([]), "x.xlsx", VOCABULARY)


def test_file_that_is_not_a_workbook_is_a_file_error() -> None:
    with pytest.raises(ImportFileError, match="could not be read as an Excel workbook"):
        read_rows(csv_bytes(HEADER), "x.xlsx", VOCABULARY)


def test_csv_that_is_not_utf8_is_a_file_error() -> None:
    latin1 = f"{HEADER}\nAmicale,Sénégal,France\n".encode("cp1252")

    with pytest.raises(ImportFileError, match="not UTF-8"):
        report, rows = read_rows(io.BytesIO(latin1), "x.csv", VOCABULARY)
        list(rows)


def test_csv_damaged_further_down_fails_during_iteration_naming_the_row() -> None:
    oversized = "x" * 200_000
    _, rows = read_rows(csv_bytes(f"{HEADER}\nA,FR,SN\nB,FR,SN\n{oversized},FR,SN\n"), "x.csv", VOCABULARY)

    assert next(rows).row == 2
    assert next(rows).row == 3
    with pytest.raises(ImportFileError, match="at row 4"):
        next(rows)


def test_csv_with_invalid_utf8_further_down_fails_during_iteration() -> None:
    content = f"{HEADER}\n".encode() + b"A,FR,SN\n" * 10_000 + "B,Sénégal,SN\n".encode("cp1252")
    _, rows = read_rows(io.BytesIO(content), "x.csv", VOCABULARY)

    assert next(rows).row == 2
    with pytest.raises(ImportFileError, match="not UTF-8"):
        list(rows)


def test_unknown_headers_are_a_warning_not_an_error() -> None:
    report, rows = read_csv(f"{HEADER},Favourite colour,,Notes\nA,FR,SN,blue,,x\n")

    assert report.unknown == ("Favourite colour", "Notes")
    assert report.warnings == [
        "These columns were not recognised and will be ignored: Favourite colour, Notes."
    ]
    assert rows[0].errors == []
    assert set(rows[0].values) == {"name", "residence_country", "origin_country"}


def test_repeated_column_is_ignored_with_a_warning() -> None:
    report, rows = read_csv(f"{HEADER},Nom\nA,FR,SN,B\n")

    assert report.duplicates == ("Nom",)
    assert "These columns repeat an earlier column and will be ignored: Nom." in report.warnings
    assert rows[0].values["name"] == "A"


def test_headers_match_whatever_their_case_accents_spaces_and_punctuation() -> None:
    report, _ = read_csv("  NOM DE L’ORGANISATION ;PAYS-DE-RESIDENCE;pays d origine;Annee de fondation\n")

    assert list(report.mapped.values()) == ["name", "residence_country", "origin_country", "founded_year"]


@pytest.mark.parametrize(
    ("field", "header"), [(field, header) for field, headers in FIELD_HEADERS.items() for header in headers]
)
def test_every_accepted_header_maps_to_its_field(field: str, header: str) -> None:
    required = {
        "name": "Name",
        "residence_country": "Country of residence",
        "origin_country": "Country of origin",
    }
    columns = required | {field: header}
    report, _ = read_csv(",".join(f'"{column}"' for column in columns.values()) + "\n")

    assert report.mapped[header] == field


def test_empty_cells_give_none_and_unmapped_fields_are_absent() -> None:
    _, rows = read_csv(
        "Name,Country of residence,Country of origin,City,Email,Languages,Consent\nA,FR,SN,,,,\n"
    )

    assert value_of("Sectors", "") == []
    assert rows[0].values == {
        "name": "A",
        "residence_country": "FR",
        "origin_country": "SN",
        "residence_city": None,
        "email": None,
        "languages": [],
        "consent_to_share": False,
    }


@pytest.mark.parametrize("missing", ["name", "residence_country", "origin_country"])
def test_empty_required_cell_is_reported_as_required(missing: str) -> None:
    values = {"name": "A", "residence_country": "FR", "origin_country": "SN"} | {missing: "  "}
    _, rows = read_csv(
        f"{HEADER}\n{values['name']},{values['residence_country']},{values['origin_country']}\n"
    )

    assert rows[0].errors == [RowError(2, missing, "is required")]


def test_strings_are_stripped_and_single_line_fields_have_spaces_collapsed() -> None:
    _, rows = read_csv(
        f'{HEADER},City,Description\n"  Amicale   des\nMaliens ", FR , SN ,  Lyon ,"  Line 1\nLine 2  "\n'
    )

    assert rows[0].values["name"] == "Amicale des Maliens"
    assert rows[0].values["residence_city"] == "Lyon"
    assert rows[0].values["description"] == "Line 1\nLine 2"


def test_quoted_fields_may_contain_the_delimiter_quotes_and_newlines() -> None:
    _, rows = read_csv(f'{HEADER}\n"Amicale ""Espoir"", Lyon",FR,SN\n"B",FR,SN\n')

    assert rows[0].values["name"] == 'Amicale "Espoir", Lyon'
    assert [row.row for row in rows] == [2, 3]


def test_name_longer_than_200_characters_is_rejected() -> None:
    _, rows = read_csv(f"{HEADER}\n{'x' * 200},FR,SN\n{'x' * 201},FR,SN\n")

    assert rows[0].errors == []
    assert rows[1].errors == [RowError(3, "name", "This value is too long.")]


@pytest.mark.parametrize(("column", "limit"), [("Acronym", 30), ("City", 100)])
def test_acronym_and_city_longer_than_their_limit_are_rejected(column: str, limit: int) -> None:
    assert value_of(column, "x" * limit) == "x" * limit
    assert reasons_of(column, "x" * (limit + 1)) == ["This value is too long."]


@pytest.mark.parametrize("text", ["1998", "1800", str(datetime.date.today().year)])
def test_founding_year_is_a_year_between_1800_and_now(text: str) -> None:
    assert value_of("Founded", text) == int(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1799", "This number is too small."),
        ("{next_year}", "This number is too large."),
        ("nineteen ninety", "must be a whole number"),
        ("1998.5", "must be a whole number"),
    ],
)
def test_founding_year_outside_the_range_or_not_a_number_is_rejected(text: str, reason: str) -> None:
    year = datetime.date.today().year
    text = text.format(next_year=year + 1)

    assert reasons_of("Founded", text) == [reason.format(year=year)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("foundation", "foundation"),
        ("SOCIAL_ENTERPRISE", "social_enterprise"),
        ("Association", "registered_association"),
        ("Fondation", "foundation"),
        ("Coopérative", "cooperative"),
        ("groupe informel", "informal_group"),
        ("Entreprise sociale", "social_enterprise"),
        ("Réseau", "network"),
        ("Autre", "other"),
    ],
)
def test_legal_status_accepts_codes_and_english_or_french_labels(text: str, code: str) -> None:
    assert value_of("Legal status", text) == code


def test_unknown_legal_status_is_rejected() -> None:
    assert reasons_of("Statut juridique", "SARL") == ["unknown legal status 'SARL'"]


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("https://example.org", "https://example.org"),
        ("http://www.example.org/about?x=1", "http://www.example.org/about?x=1"),
        ("example.org", "https://example.org"),
        ("www.asso-senegal.fr/contact", "https://www.asso-senegal.fr/contact"),
    ],
)
def test_website_must_be_an_http_address_and_a_bare_domain_gets_https(text: str, url: str) -> None:
    assert value_of("Website", text) == url


@pytest.mark.parametrize(
    "text",
    ["ftp://example.org", "not a website", "localhost", "mailto:info@example.org", "https://exa mple.org"],
)
def test_invalid_website_is_rejected(text: str) -> None:
    assert reasons_of("Website", text) == ["Enter a full web address, starting with https://."]


def test_valid_email_is_kept() -> None:
    assert value_of("E-mail", "info@asso.example.org") == "info@asso.example.org"


@pytest.mark.parametrize("text", ["info", "info@", "info@example", "a b@example.org", "a@@example.org"])
def test_invalid_email_is_rejected(text: str) -> None:
    assert reasons_of("Courriel", text) == ["Enter a valid email address."]


def test_phone_is_kept_with_spaces_collapsed_and_needs_enough_digits() -> None:
    assert value_of("Phone", "+221  77 123 45 67") == "+221 77 123 45 67"
    assert reasons_of("Téléphone", "n/a") == ["Enter a phone number with at least 6 digits."]


@pytest.mark.parametrize(
    ("text", "number"), [("0", 0), ("1200", 1200), ("1 200", 1200), ("1,200", 1200), ("1\u202f200", 1200)]
)
def test_counts_accept_thousands_separators(text: str, number: int) -> None:
    assert value_of("Members", text) == number
    assert value_of("Bénévoles", text) == number
    assert value_of("Salariés", text) == number


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-3", "This number is too small."),
        ("about 40", "must be a whole number"),
        ("1.5", "must be a whole number"),
        ("12,00", "must be a whole number"),
        ("99999999999", "This number is too large."),
    ],
)
def test_counts_that_are_not_whole_numbers_of_zero_or_more_are_rejected(text: str, reason: str) -> None:
    assert reasons_of("Staff", text) == [reason]


@pytest.mark.parametrize(("text", "code"), [("under_10k", "under_10k"), ("OVER_1M", "over_1m")])
def test_budget_band_accepts_codes_in_any_case(text: str, code: str) -> None:
    assert value_of("Budget", text) == code


def test_budget_band_other_than_a_code_is_rejected() -> None:
    assert reasons_of("Tranche de budget", "5000 €") == ["unknown budget band '5000 €'"]


@pytest.mark.parametrize(
    ("text", "consent"),
    [("yes", True), ("Oui", True), ("Y", True), ("TRUE", True), ("1", True)]
    + [("no", False), ("Non", False), ("n", False), ("false", False), ("0", False)],
)
def test_consent_is_yes_or_no_in_english_or_french(text: str, consent: bool) -> None:
    assert value_of("Consent to share", text) is consent


def test_consent_other_than_yes_or_no_is_rejected() -> None:
    assert reasons_of("Consentement", "peut-être") == ["must be yes or no"]


def test_multi_valued_fields_accept_codes_and_english_or_french_labels_with_any_separator() -> None:
    _, rows = read_csv(
        "Name;Country of residence;Country of origin;Secteurs;Types de capital;Publics;Langues\n"
        "A;FR;SN;Santé | education, Éducation;capital financier, Social capital;JEUNES|women;"
        "Anglais|wolof, FR\n"
    )

    assert rows[0].errors == []
    assert rows[0].values["sectors"] == ["health", "education"]
    assert rows[0].values["capital_kinds"] == ["financial", "social"]
    assert rows[0].values["audiences"] == ["youth", "women"]
    assert rows[0].values["languages"] == ["en", "wo", "fr"]


def test_label_containing_a_comma_is_still_recognised_in_a_comma_separated_list() -> None:
    assert value_of("Sectors", "Santé, Arts, culture et patrimoine, education") == [
        "health",
        "arts",
        "education",
    ]


def test_each_unknown_vocabulary_value_is_reported() -> None:
    assert reasons_of("Sectors", "fishing; health; mining") == [
        "unknown sector 'fishing'",
        "unknown sector 'mining'",
    ]
    assert reasons_of("Capital", "crypto") == ["unknown capital kind 'crypto'"]
    assert reasons_of("Audiences", "pets") == ["unknown audience 'pets'"]
    assert reasons_of("Languages", "Klingon") == ["unknown language 'Klingon'"]


def test_rows_with_the_same_vocabulary_cell_each_get_their_own_list() -> None:
    _, rows = read_csv(f"{HEADER},Sectors\nA,FR,SN,Health; Education\nB,FR,SN,Health; Education\n")

    first, second = (row.values["sectors"] for row in rows)
    first.append("arts")

    assert second == ["health", "education"]


def test_a_value_repeated_on_many_rows_is_checked_on_every_row() -> None:
    rows_text = "".join(f"Amicale {number},Atlantis,Mali,Pets\n" for number in range(3))
    _, rows = read_csv(f"{HEADER},Audiences\n{rows_text}")

    assert [[error.reason for error in row.errors] for row in rows] == [
        ["unknown country 'Atlantis'", "unknown audience 'Pets'"]
    ] * 3


def test_row_errors_keep_their_untranslated_template_and_parameters() -> None:
    _, row = read_one("Sectors", "fishing")
    (error,) = row.errors

    assert error.template == "unknown sector '{value}'"
    assert dict(error.params) == {"value": "fishing"}


def test_very_long_values_are_shortened_in_reasons() -> None:
    (reason,) = reasons_of("Sectors", "x" * 500)

    assert len(reason) < 100
    assert reason.endswith("…'")


def test_file_is_left_open_so_it_can_be_read_again() -> None:
    file = csv_bytes(f"{HEADER}\nA,FR,SN\n")
    _, rows = read_rows(file, "x.csv", VOCABULARY)
    assert len(list(rows)) == 1

    file.seek(0)
    _, rows = read_rows(file, "x.csv", VOCABULARY)
    assert len(list(rows)) == 1


class GeneratedCsv(io.RawIOBase):
    """A CSV of `count` rows produced on demand, recording how many bytes were asked for."""

    def __init__(self, count: int) -> None:
        self.lines = self._lines(count)
        self.pending = b""
        self.bytes_read = 0

    @staticmethod
    def _lines(count: int) -> Iterable[bytes]:
        yield f"{HEADER},Members,Sectors\n".encode()
        for number in range(count):
            yield f"Organisation {number},France,Sénégal,{number},Santé;education\n".encode()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self.pending) < len(buffer):
            line = next(self.lines, b"")
            if not line:
                break
            self.pending += line
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        self.bytes_read += size
        return size


def test_first_row_of_a_200000_row_csv_is_read_without_reading_the_file() -> None:
    source = GeneratedCsv(200_000)
    started = time.perf_counter()

    _, rows = read_rows(io.BufferedReader(source), "big.csv", VOCABULARY)
    first = next(rows)

    assert time.perf_counter() - started < 1
    assert first.values["members_count"] == 0
    assert source.bytes_read < 100_000


def test_100000_rows_are_validated_in_constant_memory() -> None:
    # A first small import builds the country and language lookups, which are cached for good.
    _, rows = read_rows(io.BufferedReader(GeneratedCsv(10)), "small.csv", VOCABULARY)
    list(rows)
    source = GeneratedCsv(100_000)
    tracemalloc.start()
    try:
        _, rows = read_rows(io.BufferedReader(source), "big.csv", VOCABULARY)
        count = sum(1 for row in rows if not row.errors)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 100_000
    assert peak < 2_000_000
