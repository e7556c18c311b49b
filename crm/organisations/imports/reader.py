"""Read an uploaded organisation list (CSV or XLSX) as a stream of validated rows; no database involved."""

import csv
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache, lru_cache, partial
from pathlib import PurePath
from typing import Any, BinaryIO

from babel import Locale
from openpyxl.reader.excel import ExcelReader
from openpyxl.workbook import Workbook
from pydantic import ValidationError

from crm.organisations.countries import match_key, resolve_country
from crm.organisations.schemas import CONTROL_CHARACTERS, OrganisationIn
from crm.web.forms import message_id
from crm.web.i18n import N_

# Messages for the user, kept as fixed format strings so they can be translated before formatting.
REQUIRED = N_("is required")
NOT_WHOLE_NUMBER = N_("must be a whole number")
NOT_YES_OR_NO = N_("must be yes or no")
UNKNOWN_COUNTRY = N_("unknown country '{value}'")
UNKNOWN_LEGAL_STATUS = N_("unknown legal status '{value}'")
UNKNOWN_BUDGET_BAND = N_("unknown budget band '{value}'")
UNKNOWN_SECTOR = N_("unknown sector '{value}'")
UNKNOWN_CAPITAL_KIND = N_("unknown capital kind '{value}'")
UNKNOWN_AUDIENCE = N_("unknown audience '{value}'")
UNKNOWN_LANGUAGE = N_("unknown language '{value}'")
HAS_CONTROL_CHARACTERS = N_("contains invisible control characters: remove them")

UNSUPPORTED_FILE_TYPE = N_("'{filename}' cannot be imported: upload a .csv or .xlsx file.")
EMPTY_FILE = N_("The file is empty.")
NOT_UTF8 = N_("The file is not UTF-8 text. Save it as 'CSV UTF-8' and upload it again.")
UNREADABLE_CSV = N_("The CSV file could not be read at row {row}.")
UNREADABLE_XLSX = N_("The file could not be read as an Excel workbook (.xlsx).")
XLSX_TOO_LARGE = N_(
    "This Excel workbook unpacks to more than {limit} MB, more than can be read at once. "
    "Split it into smaller files, or save it as 'CSV UTF-8' and upload that."
)
MISSING_COLUMNS = N_("Required columns are missing: {columns}.")
UNKNOWN_COLUMNS = N_("These columns were not recognised and will be ignored: {columns}.")
DUPLICATE_COLUMNS = N_("These columns repeat an earlier column and will be ignored: {columns}.")

# Accepted column headers per field. Matching ignores case, accents, spaces and punctuation, and the field
# name itself is accepted too. The first header is the one named in error messages.
FIELD_HEADERS: Mapping[str, tuple[str, ...]] = {
    "name": (
        "Name",
        "Organisation",
        "Organization",
        "Organisation name",
        "Organization name",
        "Nom",
        "Nom de l'organisation",
    ),
    "acronym": ("Acronym", "Abbreviation", "Short name", "Sigle", "Acronyme"),
    "residence_country": (
        "Country of residence",
        "Residence country",
        "Pays de résidence",
        "Pays d'installation",
    ),
    "residence_city": ("City", "City of residence", "Residence city", "Ville", "Ville de résidence"),
    "origin_country": ("Country of origin", "Origin country", "Pays d'origine", "Pays de l'origine"),
    "founded_year": (
        "Founded",
        "Founding year",
        "Year founded",
        "Year of foundation",
        "Année de création",
        "Année de fondation",
        "Création",
        "Fondation",
    ),
    "legal_status": ("Legal status", "Legal form", "Statut juridique", "Forme juridique", "Statut"),
    "website": ("Website", "Web site", "Web", "URL", "Site web", "Site internet"),
    "email": ("Email", "E-mail", "Email address", "Courriel", "Adresse e-mail", "Adresse électronique"),
    "phone": ("Phone", "Phone number", "Telephone", "Téléphone", "Numéro de téléphone", "Tél"),
    "sectors": ("Sectors", "Sector", "Secteurs", "Secteur", "Secteurs d'activité"),
    "capital_kinds": (
        "Capital kinds",
        "Diaspora capital",
        "Capital",
        "Types de capital",
        "Capital diasporique",
    ),
    "audiences": ("Audiences", "Audience", "Target audiences", "Publics", "Public", "Publics cibles"),
    "languages": ("Languages", "Language", "Working languages", "Langues", "Langue"),
    "members_count": ("Members", "Number of members", "Membres", "Nombre de membres", "Adhérents"),
    "volunteers_count": ("Volunteers", "Number of volunteers", "Bénévoles", "Nombre de bénévoles"),
    "staff_count": ("Staff", "Employees", "Number of staff", "Salariés", "Personnel", "Employés"),
    "budget_band": ("Budget", "Budget band", "Annual budget", "Tranche de budget", "Budget annuel"),
    "description": ("Description", "Présentation"),
    "consent_to_share": ("Consent to share", "Consent", "Consentement", "Consentement au partage"),
}
REQUIRED_FIELDS = ("name", "residence_country", "origin_country")

LEGAL_STATUS_LABELS: Mapping[str, tuple[str, ...]] = {
    "registered_association": (
        "Registered association",
        "Association",
        "Association déclarée",
        "Association enregistrée",
        "Association loi 1901",
    ),
    "foundation": ("Foundation", "Fondation"),
    "cooperative": ("Cooperative", "Co-op", "Coopérative"),
    "informal_group": ("Informal group", "Groupe informel", "Collectif informel"),
    "social_enterprise": ("Social enterprise", "Entreprise sociale"),
    "network": ("Network", "Réseau"),
    "other": ("Other", "Autre"),
}
BUDGET_BANDS = ("under_10k", "10k_50k", "50k_250k", "250k_1m", "over_1m")

# Counts go into PostgreSQL integer columns.
# How many distinct cells of a column keep their parsed value (see _remembered).
_REMEMBERED_CELLS = 1024
# Long cell contents would swamp an error message; the user only needs enough to find the cell.
_QUOTED_VALUE_LIMIT = 60
# An .xlsx file is a zip archive: a few kilobytes can unpack to gigabytes of sheet XML. A workbook unpacking to
# more than this is refused before it is read (and a part that unpacks past it while being read, too).
MAX_XLSX_UNPACKED_BYTES = 256 * 1024 * 1024

_YES = frozenset({"yes", "y", "true", "1", "oui", "o", "vrai"})
_NO = frozenset({"no", "n", "false", "0", "non", "faux"})
_MULTI_VALUE_SEPARATORS = re.compile(r"[;|]")
_WHOLE_NUMBER = re.compile(r"-?(?:\d{1,3}(?:[ ,'\u00a0\u202f]\d{3})+|\d+)")
_THOUSANDS_SEPARATORS = re.compile(r"[ ,'\u00a0\u202f]")
# Excel date cells in the year column arrive as ISO dates.
_YEAR = re.compile(r"(\d{4})(?:-\d{2}-\d{2})?")
_URL_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_QUOTED_SECTIONS = re.compile(r'"[^"]*"')
# Unicode whitespace, the characters str.isspace() accepts.


@dataclass(frozen=True)
class Vocabulary:
    """The controlled vocabularies multi-valued fields are checked against: code -> (English, French)."""

    sectors: Mapping[str, tuple[str, str]]
    capital_kinds: Mapping[str, tuple[str, str]]
    audiences: Mapping[str, tuple[str, str]]


@dataclass(frozen=True)
class RowError:
    """Why one field of one row cannot be imported; `row` is the spreadsheet row number (header is 1)."""

    row: int
    field: str
    reason: str
    # The untranslated format string and its arguments, so the web layer can translate `reason`.
    template: str = field(default="", compare=False)
    params: tuple[tuple[str, str], ...] = field(default=(), compare=False)


@dataclass
class ParsedRow:
    """One non-blank row: the clean values of its mapped fields and the errors of the others.

    A mapped field with an empty cell is present with None ([] for lists, False for consent); a field in
    error is absent from `values`. The row can be imported only if `errors` is empty.
    """

    row: int
    values: dict[str, Any]
    errors: list[RowError]


@dataclass(frozen=True)
class HeaderReport:
    """How the header row was understood: which column feeds which field, and what was ignored."""

    mapped: Mapping[str, str]
    unknown: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()

    @property
    def warnings(self) -> list[str]:
        """File-level warnings to show once above the row results."""
        warnings = []
        if self.unknown:
            warnings.append(UNKNOWN_COLUMNS.format(columns=", ".join(self.unknown)))
        if self.duplicates:
            warnings.append(DUPLICATE_COLUMNS.format(columns=", ".join(self.duplicates)))
        return warnings


class ImportFileError(Exception):
    """The file as a whole cannot be imported; str(error) is a message for the user."""

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template.format(**params))
        self.template = template
        self.params = params


class _Invalid(Exception):
    """Raised by a cell parser with one (template, params) pair per problem found in the cell."""

    def __init__(self, *problems: tuple[str, dict[str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


def _problem(template: str, **params: object) -> tuple[str, dict[str, str]]:
    texts = {key: str(param) for key, param in params.items()}
    if len(texts.get("value", "")) > _QUOTED_VALUE_LIMIT:
        texts["value"] = texts["value"][: _QUOTED_VALUE_LIMIT - 1] + "…"
    return template, texts


def _row_error(row: int, field_name: str, problem: tuple[str, dict[str, str]]) -> RowError:
    template, params = problem
    return RowError(row, field_name, template.format(**params), template, tuple(params.items()))


def read_rows(
    fileobj: BinaryIO, filename: str, vocabulary: Vocabulary
) -> tuple[HeaderReport, Iterator[ParsedRow]]:
    """Read the header of an uploaded .csv or .xlsx file now and its rows lazily, one at a time.

    Raises ImportFileError if the file cannot be read or lacks a required column; a file found damaged
    further down raises it during iteration. Keep `fileobj` open until the rows are exhausted; it is left
    open, so it can be rewound and read again (e.g. preview, then import).
    """
    extension = PurePath(filename).suffix.lower()
    if extension == ".csv":
        records = _csv_records(fileobj)
    elif extension == ".xlsx":
        records = _xlsx_records(fileobj)
    else:
        raise ImportFileError(UNSUPPORTED_FILE_TYPE, filename=filename)
    header = next(records, None)
    if header is None:
        raise ImportFileError(EMPTY_FILE)
    try:
        report, columns = _map_header(header)
    except ImportFileError:
        records.close()
        raise
    return report, _parse_rows(records, columns, _parsers(vocabulary))


def _csv_records(fileobj: BinaryIO) -> Generator[list[str], None, None]:
    text = io.TextIOWrapper(fileobj, encoding="utf-8-sig", newline="")
    row = 0
    try:
        first_line = text.readline()
        if not first_line:
            return
        unquoted = _QUOTED_SECTIONS.sub("", first_line)
        delimiter = ";" if unquoted.count(";") > unquoted.count(",") else ","
        for cells in csv.reader(itertools.chain([first_line], text), delimiter=delimiter):
            row += 1
            yield list(map(str.strip, cells))
    except UnicodeDecodeError as error:
        raise ImportFileError(NOT_UTF8) from error
    except csv.Error as error:
        raise ImportFileError(UNREADABLE_CSV, row=row + 1) from error
    finally:
        # Otherwise the wrapper would close the caller's file when it is garbage-collected.
        text.detach()


def _xlsx_records(fileobj: BinaryIO) -> Generator[list[str], None, None]:
    # openpyxl reports damaged or foreign files with many exception types, hence the broad excepts.
    try:
        workbook = _open_workbook(fileobj, MAX_XLSX_UNPACKED_BYTES)
    except _TooLarge as error:
        raise _too_large(error.limit) from error
    except Exception as error:
        raise ImportFileError(UNREADABLE_XLSX) from error
    try:
        if workbook.worksheets:
            sheet = workbook.worksheets[0]
            # Some tools record a wrong sheet size, which would make openpyxl silently stop reading early.
            sheet.reset_dimensions()
            for cells in sheet.iter_rows(values_only=True):
                yield [_cell_text(cell) for cell in cells]
    except _TooLarge as error:
        raise _too_large(error.limit) from error
    except Exception as error:
        raise ImportFileError(UNREADABLE_XLSX) from error
    finally:
        workbook.close()


def _open_workbook(fileobj: BinaryIO, limit: int) -> Workbook:
    """openpyxl's load_workbook (read-only, values only) reading the zip through _CappedZipFile."""
    reader = ExcelReader(fileobj, read_only=True, data_only=True)
    # Every part openpyxl reads, now and while the rows are iterated, comes through `reader.archive`.
    reader.archive = _CappedZipFile(fileobj, limit)
    reader.read()
    return reader.wb


def _too_large(limit: int) -> ImportFileError:
    return ImportFileError(XLSX_TOO_LARGE, limit=max(1, limit // (1024 * 1024)))


class _TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class _CappedZipFile(zipfile.ZipFile):
    """A zip whose members may unpack to `limit` bytes in all, as declared, and each as actually streamed."""

    def __init__(self, fileobj: BinaryIO, limit: int) -> None:
        super().__init__(fileobj)
        self.limit = limit
        if sum(member.file_size for member in self.infolist()) > limit:
            raise _TooLarge(limit)

    def open(self, name: Any, mode: Any = "r", pwd: bytes | None = None, **kwargs: Any) -> Any:
        member = super().open(name, mode, pwd, **kwargs)
        # A declared size can lie: count what the member really unpacks to as it is read.
        return _CappedStream(member, self.limit) if mode == "r" else member


class _CappedStream(io.RawIOBase):
    """A member of the zip read in chunks, raising _TooLarge once it has given more than `limit` bytes."""

    def __init__(self, member: BinaryIO, limit: int) -> None:
        super().__init__()
        self.member = member
        self.limit = limit
        self.left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.member.read(min(len(buffer), self.left + 1))
        self.left -= len(data)
        if self.left < 0:
            raise _TooLarge(self.limit)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.member.close()
        super().close()


def _map_header(header: Sequence[str]) -> tuple[HeaderReport, list[tuple[int, str]]]:
    fields_by_key = {
        match_key(name): field_name
        for field_name, headers in FIELD_HEADERS.items()
        for name in (field_name, *headers)
    }
    mapped: dict[str, str] = {}
    columns: list[tuple[int, str]] = []
    unknown: list[str] = []
    duplicates: list[str] = []
    for index, title in enumerate(header):
        if not title:
            continue
        field_name = fields_by_key.get(match_key(title))
        if field_name is None:
            unknown.append(title)
        elif field_name in mapped.values():
            duplicates.append(title)
        else:
            mapped[title] = field_name
            columns.append((index, field_name))
    missing = [field_name for field_name in REQUIRED_FIELDS if field_name not in mapped.values()]
    if missing:
        raise ImportFileError(
            MISSING_COLUMNS, columns=", ".join(FIELD_HEADERS[field_name][0] for field_name in missing)
        )
    return HeaderReport(mapped, tuple(unknown), tuple(duplicates)), columns


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


_EMPTY_VALUES: Mapping[str, Any] = {
    "sectors": [],
    "capital_kinds": [],
    "audiences": [],
    "languages": [],
    "consent_to_share": False,
}


def _parse_rows(
    records: Generator[list[str], None, None],
    columns: list[tuple[int, str]],
    parsers: Mapping[str, Callable[[str], Any]],
) -> Iterator[ParsedRow]:
    # Everything about a column that does not depend on the row, looked up once rather than on every row.
    fields = [
        (index, name, parsers[name], name in REQUIRED_FIELDS, _EMPTY_VALUES.get(name))
        for index, name in columns
    ]
    width = max(index for index, _ in columns) + 1
    try:
        for number, cells in enumerate(records, start=2):
            if not any(cells):
                continue
            if len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            values: dict[str, Any] = {}
            errors: list[RowError] = []
            # One search of the whole row; only a row with a control character somewhere is searched by cell.
            suspicious = CONTROL_CHARACTERS.search("".join(cells)) is not None
            for index, field_name, parse, required, empty in fields:
                text = cells[index]
                if not text:
                    if required:
                        errors.append(_row_error(number, field_name, (REQUIRED, {})))
                    else:
                        values[field_name] = empty
                    continue
                if suspicious and CONTROL_CHARACTERS.search(text):
                    errors.append(_row_error(number, field_name, (HAS_CONTROL_CHARACTERS, {})))
                    continue
                try:
                    values[field_name] = parse(text)
                except _Invalid as invalid:
                    errors.extend(_row_error(number, field_name, problem) for problem in invalid.problems)
            if not errors:
                values, errors = _validated(number, values)
            yield ParsedRow(number, values, errors)
    finally:
        # Closing the rows early (or dropping them) releases the workbook or the file at once.
        records.close()


def _validated(number: int, values: dict[str, Any]) -> tuple[dict[str, Any], list[RowError]]:
    """The row through the same rules as the form and the API (schemas.OrganisationIn): read leniently above,
    judged here, and stored as the model normalises it, so the edit form accepts it unchanged."""
    try:
        organisation = OrganisationIn.model_validate(values)
    except ValidationError as invalid:
        errors = [
            _row_error(number, str(error["loc"][0]) if error["loc"] else "name", (message_id(error), {}))
            for error in invalid.errors()
        ]
        refused = {error.field for error in errors}
        return {key: value for key, value in values.items() if key not in refused}, errors
    return organisation.model_dump(mode="json", include=set(values)), []


def _parsers(vocabulary: Vocabulary) -> dict[str, Callable[[str], Any]]:
    return {
        "name": _line,
        "acronym": _line,
        "residence_country": _remembered(_country),
        "residence_city": _remembered(_line),
        "origin_country": _remembered(_country),
        "founded_year": _remembered(_year),
        "legal_status": _remembered(_legal_status),
        "website": _website,
        "email": str.strip,
        "phone": _line,
        "sectors": _choices_parser(_vocabulary_lookup(vocabulary.sectors), UNKNOWN_SECTOR),
        "capital_kinds": _choices_parser(_vocabulary_lookup(vocabulary.capital_kinds), UNKNOWN_CAPITAL_KIND),
        "audiences": _choices_parser(_vocabulary_lookup(vocabulary.audiences), UNKNOWN_AUDIENCE),
        "languages": _choices_parser(_language_lookup(), UNKNOWN_LANGUAGE),
        "members_count": _whole_number,
        "volunteers_count": _whole_number,
        "staff_count": _whole_number,
        "budget_band": _budget_band,
        "description": _paragraphs,
        "consent_to_share": _remembered(_yes_or_no),
    }


def _remembered(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """`parse` answering the most recent distinct cells from memory (a rejected cell is parsed again).

    A file repeats the same countries, cities, statuses and vocabulary values on thousands of rows, and
    folding each cell's text to look it up was a large part of reading the file.
    """
    return lru_cache(maxsize=_REMEMBERED_CELLS)(parse)


def _choices_parser(lookup: Mapping[str, str], unknown: str) -> Callable[[str], list[str]]:
    """Parser of a multi-valued cell, remembered like the single values (see _remembered)."""
    remembered = _remembered(partial(_choices, lookup=lookup, unknown=unknown))
    # A copy for each row, so that no two rows share one list.
    return lambda text: list(remembered(text))


def _line(text: str) -> str:
    return " ".join(text.split())


def _paragraphs(text: str) -> str:
    return text.replace("\r\n", "\n")


def _country(text: str) -> str:
    code = resolve_country(text)
    if code is None:
        raise _Invalid(_problem(UNKNOWN_COUNTRY, value=text))
    return code


def _whole_number(text: str) -> int:
    if not _WHOLE_NUMBER.fullmatch(text):
        raise _Invalid(_problem(NOT_WHOLE_NUMBER, value=text))
    return int(_THOUSANDS_SEPARATORS.sub("", text))


def _year(text: str) -> int:
    match = _YEAR.fullmatch(text)
    return int(match.group(1)) if match else _whole_number(text)


@cache
def _legal_status_lookup() -> dict[str, str]:
    lookup = {match_key(code): code for code in LEGAL_STATUS_LABELS}
    for code, labels in LEGAL_STATUS_LABELS.items():
        for label in labels:
            lookup.setdefault(match_key(label), code)
    return lookup


def _legal_status(text: str) -> str:
    code = _legal_status_lookup().get(match_key(text))
    if code is None:
        raise _Invalid(_problem(UNKNOWN_LEGAL_STATUS, value=text))
    return code


def _budget_band(text: str) -> str:
    code = text.lower()
    if code not in BUDGET_BANDS:
        raise _Invalid(_problem(UNKNOWN_BUDGET_BAND, value=text))
    return code


def _website(text: str) -> str:
    # A scheme is added when missing ("asso.org"), as the form does; whether the address is valid is the
    # model's rule (schemas.OrganisationIn).
    return text if _URL_SCHEME.match(text) else f"https://{text}"


def _yes_or_no(text: str) -> bool:
    answer = match_key(text)
    if answer in _YES:
        return True
    if answer in _NO:
        return False
    raise _Invalid(_problem(NOT_YES_OR_NO, value=text))


def _vocabulary_lookup(vocabulary: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    # Codes first, so a label can never shadow another entry's code.
    lookup = {match_key(code): code for code in vocabulary}
    for code, labels in vocabulary.items():
        for label in labels:
            lookup.setdefault(match_key(label), code)
    return lookup


@cache
def _language_lookup() -> dict[str, str]:
    names = {locale: Locale.parse(locale).languages for locale in ("en", "fr")}
    codes = [code for code in names["en"] if len(code) == 2 and code.isalpha()]
    lookup = {code: code for code in codes}
    for code in codes:
        for languages in names.values():
            if code in languages:
                lookup.setdefault(match_key(languages[code]), code)
    return lookup


def _choices(text: str, lookup: Mapping[str, str], unknown: str) -> list[str]:
    codes: list[str] = []
    problems = []
    for part in _MULTI_VALUE_SEPARATORS.split(text):
        pieces = part.split(",")
        start = 0
        while start < len(pieces):
            # Commas separate values too, so rejoin the longest run of pieces that is a known label
            # ("Arts, culture") before treating a piece on its own.
            for end in range(len(pieces), start, -1):
                code = lookup.get(match_key(",".join(pieces[start:end])))
                if code is not None:
                    break
            value = ",".join(pieces[start:end]).strip()
            start = end
            if code is None and value:
                problems.append(_problem(unknown, value=value))
            elif code is not None and code not in codes:
                codes.append(code)
    if problems:
        raise _Invalid(*problems)
    return codes
