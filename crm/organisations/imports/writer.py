"""Import of organisation lists: validation report, duplicate review, all-or-nothing bulk writes."""

from __future__ import annotations

import hashlib
import json
import operator
import pickle
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import Connection, Dialect, func, insert, select
from sqlalchemy.orm import Session

from crm.db.audit import record_event
from crm.db.base import utcnow
from crm.db.engine import reading, writing
from crm.organisations import dedupe, vocabularies
from crm.organisations.imports import reader as importing
from crm.organisations.models import (
    Organisation,
    OrganisationAudience,
    OrganisationCapitalKind,
    OrganisationSector,
    Provenance,
)
from crm.organisations.profile import derived_columns
from crm.web.i18n import gettext

BATCH_SIZE = 1000
# The report keeps this many entries for display while still counting every problem.
MAX_STORED_PROBLEMS = 500
MAX_STORED_DUPLICATES = 200

_TABLE = Organisation.__table__
# Fields of the file that are columns of the organisation itself (the vocabularies go to link tables).
_COPIED_FIELDS = tuple(name for name in importing.FIELD_HEADERS if name in _TABLE.c)
_LINKS = (
    ("sectors", OrganisationSector.__table__, "sector_code"),
    ("capital_kinds", OrganisationCapitalKind.__table__, "capital_kind_code"),
    ("audiences", OrganisationAudience.__table__, "audience_code"),
)
# What json.dumps(values, sort_keys=True, default=str) uses, made once rather than for every row.
_KEY_ENCODER = json.JSONEncoder(sort_keys=True, default=str)
_DETAIL_LIMIT = _TABLE.c.provenance_detail.type.length
_ENTITY_ID_LIMIT = 60
# How many distinct values of a column keep their database form while a batch is written to SQLite.
_REMEMBERED_VALUES = 1024


@dataclass(frozen=True)
class RejectedField:
    """One reason one row cannot be imported; `column` is the file's own header for the field."""

    row: int
    column: str
    reason: str


@dataclass(frozen=True)
class PossibleDuplicate:
    """A row that looks like an existing organisation (`organisation_id`) or an earlier row (`file_row`)."""

    row: int
    name: str
    match_name: str
    score: int
    reasons: tuple[str, ...]
    organisation_id: int | None = None
    file_row: int | None = None


@dataclass
class ImportReport:
    """What reading a file found, and what was (or, for a check, would be) written."""

    filename: str
    dry_run: bool
    valid_only: bool
    warnings: list[str] = field(default_factory=list)
    rows_read: int = 0
    created: int = 0
    already_imported: int = 0
    rejected: int = 0
    possible_duplicates: int = 0
    problem_count: int = 0
    problems: list[RejectedField] = field(default_factory=list)
    duplicates: list[PossibleDuplicate] = field(default_factory=list)
    written: bool = False

    @property
    def refused(self) -> bool:
        """Nothing is imported because rows were rejected and only a complete file may be imported."""
        return self.rejected > 0 and not self.valid_only

    @property
    def more_problems(self) -> int:
        return self.problem_count - len(self.problems)

    @property
    def more_duplicates(self) -> int:
        return self.possible_duplicates - len(self.duplicates)


def reference_vocabulary(session: Session) -> importing.Vocabulary:
    vocab = vocabularies.vocabularies(session)
    return importing.Vocabulary(
        sectors={code: (row.label_en, row.label_fr) for code, row in vocab.sectors.items()},
        capital_kinds={code: (row.label_en, row.label_fr) for code, row in vocab.capital_kinds.items()},
        audiences={code: (row.label_en, row.label_fr) for code, row in vocab.audiences.items()},
    )


def import_organisations(
    session: Session,
    fileobj: BinaryIO,
    filename: str,
    *,
    dry_run: bool,
    valid_only: bool,
    source: str | None,
) -> ImportReport:
    """Read an uploaded list and create its new organisations in bulk.

    Unless `valid_only`, one rejected row means nothing is written; a dry run never writes. Rows already
    imported (same values as an earlier import or an earlier row) are skipped; rows that look like an
    existing organisation are imported anyway and reported for review. Raises importing.ImportFileError
    (with nothing changed) when the file cannot be read.
    """
    # Reading and checking (most of the time on a large file) happen in a transaction that only reads, so
    # nobody waits for them; the accepted rows wait in a spool file. Writing them is one short transaction.
    with _Spool() as spool:
        with reading(session):
            header, rows = importing.read_rows(fileobj, filename, reference_vocabulary(session))
            report = ImportReport(filename=filename, dry_run=dry_run, valid_only=valid_only)
            try:
                report.warnings = _header_warnings(header)
                columns = {field_name: title for title, field_name in header.mapped.items()}
                writer = _BatchWriter(
                    report,
                    spool,
                    _existing_organisations(session),
                    _existing_import_keys(session),
                    source or filename,
                    frozenset(vocabularies.vocabularies(session).vulnerable_audiences),
                )
                with writer.duplicates:
                    for row in rows:
                        report.rows_read += 1
                        errors = row.errors
                        if errors:
                            _reject(report, errors, columns)
                        else:
                            writer.add(row)
                    writer.flush()
                    writer.report_duplicates()
            finally:
                # Stop the reader while the caller's file is still open (it releases the workbook or text wrapper).
                _close(rows)
        if dry_run or report.refused:
            return report
        with writing(session):
            _write_spooled(session, spool, report)
            record_event(
                session,
                "import",
                "organisations",
                filename[:_ENTITY_ID_LIMIT],
                filename=filename,
                source=source,
                created=report.created,
                already_imported=report.already_imported,
                rejected=report.rejected,
                possible_duplicates=report.possible_duplicates,
                valid_only=valid_only,
            )
    report.written = True
    return report


Pending = list[tuple[dict[str, Any], tuple[tuple[str, ...], ...]]]


class _Spool:
    """Batches of accepted rows kept in a temporary file between checking and writing."""

    def __enter__(self) -> _Spool:
        self.file = tempfile.TemporaryFile()
        self.batches = 0
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    def put(self, batch: Pending) -> None:
        pickle.dump(batch, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.batches += 1

    def __iter__(self) -> Iterator[Pending]:
        self.file.seek(0)
        for _ in range(self.batches):
            yield pickle.load(self.file)  # noqa: S301  (our own file, written just above)


def _write_spooled(session: Session, spool: _Spool, report: ImportReport) -> None:
    """Write the checked rows. Rows that another import wrote meanwhile are skipped as already imported."""
    inserter = _Inserter(session)
    for batch in spool:
        keys = [organisation["import_key"] for organisation, _ in batch]
        taken = set(session.scalars(select(_TABLE.c.import_key).where(_TABLE.c.import_key.in_(keys))))
        if taken:
            batch = [entry for entry in batch if entry[0]["import_key"] not in taken]
            report.created -= len(taken)
            report.already_imported += len(taken)
        if batch:
            inserter.write(batch)


def translate(template: str, params: dict[str, Any] | tuple[tuple[str, Any], ...]) -> str:
    """A reader message in the current language: translate the format string, then fill it in."""
    return gettext(template).format(**dict(params))


def import_key(values: dict[str, Any]) -> str:
    """Identity of a row's content; empty cells are left out so an added empty column changes nothing."""
    filled = {
        name: value
        for name, value in values.items()
        if value is not None and value != [] and value is not False
    }
    return hashlib.sha256(_KEY_ENCODER.encode(filled).encode()).hexdigest()


def _close(rows: Iterator[importing.ParsedRow]) -> None:
    close = getattr(rows, "close", None)
    if close is not None:
        close()


def _header_warnings(header: importing.HeaderReport) -> list[str]:
    warnings = []
    if header.unknown:
        warnings.append(translate(importing.UNKNOWN_COLUMNS, {"columns": ", ".join(header.unknown)}))
    if header.duplicates:
        warnings.append(translate(importing.DUPLICATE_COLUMNS, {"columns": ", ".join(header.duplicates)}))
    return warnings


def _reject(report: ImportReport, errors: list[importing.RowError], columns: dict[str, str]) -> None:
    report.rejected += 1
    for error in errors:
        report.problem_count += 1
        if len(report.problems) < MAX_STORED_PROBLEMS:
            reason = translate(error.template, error.params) if error.template else error.reason
            report.problems.append(RejectedField(error.row, columns.get(error.field, error.field), reason))


def _existing_organisations(session: Session) -> Iterator[dedupe.Candidate]:
    query = (
        select(Organisation.id, Organisation.name, Organisation.acronym, Organisation.residence_country)
        .where(Organisation.merged_into_id.is_(None))
        .execution_options(yield_per=10_000)
    )
    for id_, name, acronym, country in session.execute(query):
        yield dedupe.Candidate(id_, name, acronym, country)


def _existing_import_keys(session: Session) -> set[str]:
    # One read up front: looking keys up batch by batch makes PostgreSQL scan the table it is filling, whose
    # statistics still describe it as empty.
    query = select(Organisation.import_key).where(Organisation.import_key.is_not(None))
    return set(session.scalars(query.execution_options(yield_per=10_000)))


class _BatchWriter:
    """Skips repeated rows, reports possible duplicates, and spools the new organisations in batches."""

    def __init__(
        self,
        report: ImportReport,
        spool: _Spool,
        existing: Iterator[dedupe.Candidate],
        seen_keys: set[str],
        detail: str,
        vulnerable_audiences: frozenset[str],
    ) -> None:
        self.spool = spool
        self.report = report
        self.duplicates = dedupe.StreamCheck(existing)
        # Keys of earlier imports and of the rows of this file written so far.
        self.seen_keys = seen_keys
        self.vulnerable_audiences = vulnerable_audiences
        started_at = utcnow()
        self.same_for_every_row: dict[str, Any] = {
            "skills_offered": (),
            "contribution_to": None,
            "contribution_modes": (),
            "provenance": Provenance.PARTNER_IMPORT.value,
            "provenance_detail": detail[:_DETAIL_LIMIT],
            "merged_into_id": None,
            "version": 1,
            "created_at": started_at,
            "updated_at": started_at,
        }
        # (organisation row, its codes for each of _LINKS) of the accepted rows not yet written: plain values
        # and tuples, not the parsed values' dicts and lists. Rows waiting for their batch outlive enough
        # collections to reach the garbage collector's oldest generation, and each batch of many containers
        # brought on another full collection of the whole process.
        self.pending: Pending = []

    def add(self, row: importing.ParsedRow) -> None:
        key = import_key(row.values)
        if key in self.seen_keys:
            self.report.already_imported += 1
            return
        self.seen_keys.add(key)
        self._check_duplicates(row.row, row.values)
        codes = tuple(tuple(row.values.get(field_name) or ()) for field_name, _, _ in _LINKS)
        self.pending.append((self._organisation_row(row.values, key), codes))
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        self.spool.put(self.pending)
        self.report.created += len(self.pending)
        self.pending = []

    def _check_duplicates(self, number: int, values: dict[str, Any]) -> None:
        name, acronym, country = values["name"], values.get("acronym"), values["residence_country"]
        # Rows of this file are indexed under their row number (a str), existing organisations by id (an int).
        self.duplicates.check(dedupe.Candidate(str(number), name, acronym, country))

    def report_duplicates(self) -> None:
        """Put the possible duplicates found in the report, in row order (call once, after the last row)."""
        for row, best in self.duplicates.results():
            self.report.possible_duplicates += 1
            if len(self.report.duplicates) >= MAX_STORED_DUPLICATES:
                continue
            candidate_id = best.existing.id
            self.report.duplicates.append(
                PossibleDuplicate(
                    row=int(row.id),
                    name=row.name,
                    match_name=best.existing.name,
                    score=round(best.score),
                    reasons=tuple(dedupe.translated_reason(reason, gettext) for reason in best.reasons),
                    organisation_id=candidate_id if isinstance(candidate_id, int) else None,
                    file_row=int(candidate_id) if isinstance(candidate_id, str) else None,
                )
            )

    def _organisation_row(self, values: dict[str, Any], key: str) -> dict[str, Any]:
        row: dict[str, Any] = {name: values.get(name) for name in _COPIED_FIELDS}
        row.update(self.same_for_every_row)
        # Tuples are written to the JSON columns as lists are.
        row["languages"] = tuple(values.get("languages") or ())
        row["consent_to_share"] = bool(values.get("consent_to_share"))
        row["import_key"] = key
        # The columns service.refresh_derived stores, for an organisation without initiatives yet.
        links = {name: values.get(name) for name in ("sectors", "capital_kinds", "audiences")}
        row.update(derived_columns({**row, **links}, 0, self.vulnerable_audiences))
        return row


class _Inserter:
    """Writes batches of new organisations and their links, by each engine's fastest route."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sqlite_insert: _SqliteInsert | None = None

    def write(self, batch: Pending) -> None:
        ids = self._insert([organisation for organisation, _ in batch])
        for link, (_, table, column) in enumerate(_LINKS):
            links = [
                (ids[organisation["import_key"]], code)
                for organisation, codes in batch
                for code in codes[link]
            ]
            if links:
                self._insert_links(table, column, links)

    def _insert(self, organisations: list[dict[str, Any]]) -> dict[str, int]:
        """Insert the rows and return their ids by import key, by the engine's fastest route."""
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            # psycopg parses a long multi-row INSERT .. RETURNING anew on every call; taking the ids from the
            # sequence first lets a pipelined executemany do the insert.
            sequence = func.pg_get_serial_sequence(_TABLE.name, _TABLE.c.id.name)
            ids = self.session.scalars(
                select(func.nextval(sequence)).select_from(func.generate_series(1, len(organisations)))
            )
            for row, id_ in zip(organisations, ids, strict=True):
                row["id"] = id_
            self.session.execute(insert(_TABLE), organisations)
            return {row["import_key"]: row["id"] for row in organisations}
        if self.sqlite_insert is None:
            # Every row has the same columns: _organisation_row builds them all.
            self.sqlite_insert = _SqliteInsert(connection.dialect, tuple(organisations[0]))
        return self.sqlite_insert.execute(connection, organisations)

    def _insert_links(self, table: Any, column: str, links: list[tuple[int, str]]) -> None:
        connection = self.session.connection()
        if connection.dialect.name == "sqlite":
            # The driver's executemany on plain tuples, without SQLAlchemy handling each row.
            quote = connection.dialect.identifier_preparer.quote
            statement = f"INSERT INTO {quote(table.name)} (organisation_id, {quote(column)}) VALUES (?, ?)"
            connection.exec_driver_sql(statement, links)
        else:
            rows = [{"organisation_id": id_, column: code} for id_, code in links]
            self.session.execute(insert(table), rows)


class _SqliteInsert:
    """Multi-row INSERT .. RETURNING of organisations, given to SQLite's driver directly.

    SQLAlchemy's own route (insertmanyvalues) converts every value of every row through its column type and
    builds the parameters row by row. Here the values repeated across rows (timestamps, provenance, the
    JSON lists) are converted once, each row's values are taken in one call, and every full statement has
    the same text, so the driver reuses its compiled form. The conversions are still the column types' own.
    """

    def __init__(self, dialect: Dialect, columns: tuple[str, ...]) -> None:
        quote = dialect.identifier_preparer.quote
        self.values_of = operator.itemgetter(*columns)
        self.converters = [
            (position, _remembering(processor))
            for position, name in enumerate(columns)
            if (processor := _TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]
        self.rows_per_statement = max(1, dialect.insertmanyvalues_max_parameters // len(columns))
        self.head = f"INSERT INTO {quote(_TABLE.name)} ({', '.join(quote(name) for name in columns)}) VALUES "
        self.row_placeholders = f"({', '.join('?' * len(columns))})"
        self.tail = f" RETURNING {quote(_TABLE.c.import_key.name)}, {quote(_TABLE.c.id.name)}"

    def execute(self, connection: Connection, organisations: list[dict[str, Any]]) -> dict[str, int]:
        ids: dict[str, int] = {}
        for start in range(0, len(organisations), self.rows_per_statement):
            rows = organisations[start : start + self.rows_per_statement]
            parameters: list[Any] = []
            for organisation in rows:
                values = list(self.values_of(organisation))
                for position, convert in self.converters:
                    values[position] = convert(values[position])
                parameters.extend(values)
            statement = self.head + ", ".join([self.row_placeholders] * len(rows)) + self.tail
            ids.update(connection.exec_driver_sql(statement, tuple(parameters)).all())
        return ids


def _remembering(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`processor` answering the values it has already converted from memory (up to a limit)."""
    converted: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return converted[value]
        except KeyError:
            result = processor(value)
            if len(converted) < _REMEMBERED_VALUES:
                converted[value] = result
            return result

    return convert
