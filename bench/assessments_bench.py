"""Time the assessment pages in-process: autosaving one answer, a round's results, the officers' portfolio
over 10,000 organisations with 3 validated rounds each, its drill-down, and the directory filtered by band.

Usage:
    python bench/assessments_bench.py [--engine sqlite|postgresql|both] [--postgres-url URL]
                                      [--organisations 10000] [--rounds 3] [--repeat 200] [--regenerate]

Data (made once, kept for the next run; --regenerate makes it again): SQLite bench/out/assessments.db, or a
PostgreSQL database `crm_bench_assessments` created through an AUTOCOMMIT connection to --postgres-url
(default: CRM_BENCH_POSTGRES_URL, else CRM_TEST_POSTGRES_URL). The database is migrated, given the reference
vocabularies and the shipped frameworks (seeds/frameworks), then filled with Core insert() in batches:
organisations as bench/generate.py makes them, and for each `--rounds` validated rounds (version 1 of the
framework, the last on version 2 when it is loaded) with their stored domain scores, linked by
previous_round_id and change, the last one `latest`, and the organisation's capacity band. Bulk rounds have
no answers. A handful of organisations get their rounds through crm.assessments.service instead, as the
pages make them: the bench representative's organisation has --rounds validated rounds answered by three
respondents (every indicator) and a round being answered, with the representative's draft response.

Measured: crm.app.create_app driven by litestar.testing.TestClient, signed in through real server-side
sessions (cookie crm_session), each request timed with perf_counter and its SQL statements counted
(directory_bench.SqlLog), 10 warm-ups then --repeat requests per action:
- autosave: POST /assessments/responses/{response}/answers/{indicator} as an HTMX request with the fields
  the step form names after the indicator (choice-ID, evidence-ID, version-ID), the indicator and the level
  (1..4) varying; the answer's version is read from the database between requests (untimed), checked to
  have moved on after each save and to be the one the answer gives back;
- results: GET /assessments/{round}/results of the representative's latest validated round, as the
  representative and as the officer;
- portfolio: GET /assessments/portfolio, unfiltered and ?residence=FR, and the drill-down
  /assessments/portfolio/organisations?domain=finance&band=emerging, as the officer;
- directory: GET /organisations?capacity_band=mature as the officer.
Printed per engine: median / p95 / max ms, the CPU time of this process per request, SQL statements per
request (min–max: they must not vary between requests) and the median time inside cursor.execute, target
and PASS/FAIL; the SELECTs of one request of each action replayed alone with their rows fetched (where the
SQL time goes); the statements of the results page for rounds with 1 to 3 respondents and 0 to 2 earlier
rounds (they may depend on what the page shows, never on how many rounds or respondents there are); and
EXPLAIN of the slowest statement of any action that misses its target. Exits 1 if a target is missed or a
statement count varies; stops at once if a page does not answer 200.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import benchlib
from directory_bench import SqlLog
from generate import Generator
from run_all import pg_url, recreate_pg
from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.orm import Session

from crm import seeding
from crm.accounts import service as accounts
from crm.accounts.models import User
from crm.accounts.passwords import hash_password
from crm.accounts.roles import Role
from crm.assessments import service
from crm.assessments.comparison import COMPARABLE_KINDS
from crm.assessments.framework import parse_framework
from crm.assessments.models import (
    AssessmentAnswer,
    AssessmentResponse,
    AssessmentRound,
    Choice,
    DomainScore,
    Framework,
    RoundStatus,
)
from crm.assessments.scoring import capacity_band, mean, rounded
from crm.db import migrate, reference_cache
from crm.db.engine import make_engine, make_sessionmaker
from crm.organisations.models import (
    Initiative,
    Organisation,
    OrganisationAudience,
    OrganisationCapitalKind,
    OrganisationSector,
)
from crm.settings import load_settings

BASE_URL = "http://testserver.local"
PG_DATABASE = "crm_bench_assessments"
SQLITE_PATH = benchlib.OUT_DIR / "assessments.db"
BATCH = 5_000
WARM_UP = 10
SEED = 11
RESPONDENT_EMAIL = "respondent{n}.org{organisation}@bench.example.org"
# Organisations whose rounds go through the service: (rounds, respondents); the first is the representative's.
# The others give the results page rounds with fewer respondents and fewer earlier rounds to compare with.
SERVICE_ORGANISATIONS = ((0, 3), (1, 1), (2, 2), (0, 1))  # 0: --rounds
# The targets (median ms, both engines); the directory keeps its own, set for SQLite
# (bench/directory_bench.py): on PostgreSQL its time is shown, not judged.
TARGETS = {"autosave": 15.0, "results": 30.0, "portfolio": 150.0, "directory": 15.0}
SQLITE_ONLY_TARGETS = {"directory"}
VERSION_RE = re.compile(r'name="version-(\d+)"[^>]*\svalue="(\d+)"')


# Data --------------------------------------------------------------------------------------------------


def sqlite_url() -> str:
    return f"sqlite:///{SQLITE_PATH}"


def service_rounds(rounds: int) -> list[tuple[int, int]]:
    return [(count or rounds, respondents) for count, respondents in SERVICE_ORGANISATIONS]


def expected_rounds(organisations: int, rounds: int) -> int:
    by_service = service_rounds(rounds)
    return (organisations - len(by_service)) * rounds + sum(count for count, _ in by_service) + 1


def shipped_hashes() -> set[str]:
    return {
        parse_framework(path.read_bytes()).content_hash
        for path in (seeding.SEEDS_DIR / "frameworks").glob("*.json")
    }


def ready(url: str, organisations: int, rounds: int) -> bool:
    """The data of these sizes is there, on the frameworks shipped now, with the bench users."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.scalar(select(func.count()).select_from(Organisation.__table__))
            stored_rounds = conn.scalar(select(func.count()).select_from(AssessmentRound.__table__))
            hashes = set(conn.scalars(select(Framework.content_hash)))
            users = conn.scalar(
                select(func.count()).where(
                    User.email.in_([benchlib.OFFICER_EMAIL, benchlib.REPRESENTATIVE_EMAIL])
                )
            )
    except Exception:  # a missing file, database or table: make it
        return False
    finally:
        engine.dispose()
    wanted = (organisations, expected_rounds(organisations, rounds), shipped_hashes(), 2)
    if (found, stored_rounds, hashes, users) != wanted:
        print(
            f"holds {found:,} organisations and {stored_rounds:,} rounds (wanted {wanted[0]:,} and {wanted[1]:,})"
            f"{'' if hashes == wanted[2] else ', other frameworks'}; regenerating"
        )
        return False
    try:
        migrate.upgrade(url)  # data kept from an earlier run gets the migrations added since
    except Exception as error:  # e.g. a revision that no longer exists (a migration renumbered since)
        print(f"cannot migrate the data kept ({type(error).__name__}: {error}); regenerating")
        return False
    return True


@dataclass
class Shape:
    """What the bulk rounds need of one framework version."""

    framework_id: int
    domains: list[tuple[int, str]]  # (id, code) in order
    # Domains whose indicators all compare with the previous version (a new indicator breaks the domain).
    comparable: set[str]


def shapes_of(session: Session, frameworks: dict[int, Framework]) -> dict[int, Shape]:
    shapes = {}
    for version, framework in frameworks.items():
        structure = service.structure(session, framework)
        comparable = {
            d.code
            for d in structure.domains
            if all(i.mapping_kind in COMPARABLE_KINDS for i in structure.indicators[d.id])
        }
        shapes[version] = Shape(framework.id, [(d.id, d.code) for d in structure.domains], comparable)
    return shapes


def round_versions(frameworks: dict[int, Any], rounds: int) -> list[int]:
    """Version 1 for the first rounds, the newest for the last when several are loaded."""
    first, last = min(frameworks), max(frameworks)
    return [last if n == rounds - 1 and rounds > 1 else first for n in range(rounds)]


def round_dates(rounds: int, number: int) -> list[date]:
    """A round a year, the last in 2026, on a day that depends on the organisation."""
    day = 1 + number % 28
    return [date(2026 - (rounds - 1 - n), 3, day) for n in range(rounds)]


def bulk_rounds(
    rng: random.Random,
    organisation_id: int,
    shapes: dict[int, Shape],
    versions: list[int],
    next_id: int,
    officer_id: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One organisation's validated rounds and their domain scores, as validate_round would store them."""
    codes = sorted({code for shape in shapes.values() for _id, code in shape.domains})
    level = rng.uniform(1.3, 3.4)
    base = {code: min(4.0, max(1.0, level + rng.uniform(-0.9, 0.9))) for code in codes}
    growth = rng.uniform(-0.2, 0.5)
    rounds: list[dict[str, Any]] = []
    scores: list[dict[str, Any]] = []
    previous: dict[str, float] = {}
    for n, (version, opened_on) in enumerate(
        zip(versions, round_dates(len(versions), organisation_id), strict=True)
    ):
        shape = shapes[version]
        same = n > 0 and versions[n - 1] == version
        round_id = next_id + n
        latest = n == len(versions) - 1
        domain_rows = []
        for domain_id, code in shape.domains:
            validated = rounded(min(4.0, max(1.0, base[code] + growth * n + rng.uniform(-0.3, 0.3))))
            assert validated is not None
            self_score = rounded(min(4.0, validated + rng.uniform(0, 0.4)))
            before = previous.get(code) if (same or code in shape.comparable) else None
            band = capacity_band(validated)
            domain_rows.append(
                {
                    "round_id": round_id,
                    "domain_id": domain_id,
                    "organisation_id": organisation_id,
                    "latest": latest,
                    "domain_code": code,
                    "self_score": self_score,
                    "validated_score": validated,
                    "validated_band": band.value if band else None,
                    "spread": rounded(rng.choice((0.0, 0.5, 1.0, 1.5, 2.0))),
                    "previous_score": before,
                    "change": rounded(validated - before) if before is not None else None,
                }
            )
        validated_score = mean(r["validated_score"] for r in domain_rows)
        band = capacity_band(validated_score)
        submitted = datetime.combine(opened_on + timedelta(days=20), datetime.min.time(), UTC)
        rounds.append(
            {
                "id": round_id,
                "organisation_id": organisation_id,
                "framework_id": shape.framework_id,
                "status": RoundStatus.VALIDATED.value,
                "opened_on": opened_on,
                "opened_by_id": None,
                "submitted_at": submitted,
                "validated_at": submitted + timedelta(days=14),
                "validated_by_id": officer_id,
                "validation_note": None,
                "self_score": rounded(mean(r["self_score"] for r in domain_rows)),
                "validated_score": rounded(validated_score),
                "validated_band": band.value if band else None,
                "previous_round_id": round_id - 1 if n > 0 else None,
                "change": rounded(mean(r["change"] for r in domain_rows)) if n > 0 else None,
                "latest": latest,
                "version": 1,
                "created_at": datetime.combine(opened_on, datetime.min.time(), UTC),
                "updated_at": submitted + timedelta(days=14),
            }
        )
        scores.extend(domain_rows)
        previous = {r["domain_code"]: r["validated_score"] for r in domain_rows}
    return rounds, scores


def load_frameworks(session: Session) -> dict[int, Framework]:
    frameworks = seeding.load_frameworks(session)
    if not frameworks:
        raise SystemExit("no framework under seeds/frameworks: nothing to assess")
    if len({f.key for f in frameworks.values()}) != 1:
        raise SystemExit("seeds/frameworks holds several frameworks: this bench expects versions of one")
    return frameworks


def make_user(
    session: Session, email: str, role: Role, password_hash: str, organisation_id: int | None
) -> User:
    return accounts.create_user(
        session,
        email,
        benchlib.PASSWORD,
        [role],
        full_name=email.split("@")[0].replace(".", " ").title(),
        password_hash=password_hash,
        organisation_id=organisation_id,
    )


def generate(url: str, organisations: int, rounds: int) -> None:
    started = time.perf_counter()
    if url.startswith("sqlite"):
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(url)
    engine = make_engine(url)
    dialect = engine.dialect.name
    password_hash = hash_password(benchlib.PASSWORD)
    with make_sessionmaker(engine)() as session:
        session.info["actor_id"] = None
        seeding.load_reference(session)
        frameworks = load_frameworks(session)
        officer = make_user(session, benchlib.OFFICER_EMAIL, Role.LIAISON_OFFICER, password_hash, None)
        session.commit()
        shapes = shapes_of(session, frameworks)
        officer_id = officer.id
        framework_ids = {version: framework.id for version, framework in frameworks.items()}
    versions = round_versions(framework_ids, rounds)
    print(
        f"  migrated, reference data and frameworks (versions {sorted(framework_ids)}): "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )

    generator = Generator(SEED, organisations, 0)
    generator.merged = set()  # every organisation is live: each has its rounds
    rng = random.Random(SEED)
    by_service = len(SERVICE_ORGANISATIONS)
    link_tables = {
        "_sectors": (OrganisationSector.__table__, "sector_code"),
        "_capitals": (OrganisationCapitalKind.__table__, "capital_kind_code"),
        "_audiences": (OrganisationAudience.__table__, "audience_code"),
    }
    next_round = 1
    with engine.begin() as conn:
        for block_start in range(1, organisations + 1, BATCH):
            block = [
                generator.organisation(n)
                for n in range(block_start, min(block_start + BATCH, organisations + 1))
            ]
            links: dict[str, list[dict[str, Any]]] = {key: [] for key in link_tables}
            initiatives: list[dict[str, Any]] = []
            round_rows: list[dict[str, Any]] = []
            score_rows: list[dict[str, Any]] = []
            for row in block:
                for key, (_table, column) in link_tables.items():
                    links[key].extend({"organisation_id": row["id"], column: code} for code in row.pop(key))
                initiatives.extend(row.pop("_initiatives"))
                # Every row of an executemany needs the same keys (the first row's are the ones used).
                row.update(capacity_band=None, peer_trainer_consent=False)
                if row["id"] <= by_service:
                    continue  # rounds through the service below
                made, scores = bulk_rounds(rng, row["id"], shapes, versions, next_round, officer_id)
                next_round += len(made)
                row["capacity_band"] = made[-1]["validated_band"]
                # Half the organisations rated mature somewhere agree to train peers (the results page's
                # recommendations read them).
                mature = any(s["latest"] and s["validated_band"] == "mature" for s in scores)
                row["peer_trainer_consent"] = mature and rng.random() < 0.5
                round_rows.extend(made)
                score_rows.extend(scores)
            conn.execute(insert(Organisation.__table__), block)
            for key, (table, _column) in link_tables.items():
                if links[key]:
                    conn.execute(insert(table), links[key])
            if initiatives:
                conn.execute(insert(Initiative.__table__), initiatives)
            for start in range(0, len(round_rows), BATCH):
                conn.execute(insert(AssessmentRound.__table__), round_rows[start : start + BATCH])
            for start in range(0, len(score_rows), BATCH):
                conn.execute(insert(DomainScore.__table__), score_rows[start : start + BATCH])
        if dialect == "postgresql":
            for table in ("organisations", "initiatives", "assessment_rounds"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
    print(
        f"  bulk: {organisations:,} organisations, {next_round - 1:,} validated rounds: "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )

    with make_sessionmaker(engine)() as session:
        session.info["actor_id"] = None
        officer = session.get(User, officer_id)
        assert officer is not None
        frameworks = {}
        for version, framework_id in framework_ids.items():
            framework = session.get(Framework, framework_id)
            assert framework is not None
            frameworks[version] = framework
        for number, (count, respondents) in enumerate(service_rounds(rounds), start=1):
            organisation = session.get(Organisation, number)
            assert organisation is not None
            people = []
            for n in range(respondents):
                email = (
                    benchlib.REPRESENTATIVE_EMAIL
                    if number == 1 and n == 0
                    else RESPONDENT_EMAIL.format(n=n, organisation=number)
                )
                people.append(make_user(session, email, Role.ORG_REPRESENTATIVE, password_hash, number))
            answered_rounds(
                session, rng, organisation, people, officer, frameworks, round_versions(frameworks, count)
            )
            if number == 1:
                # The round being answered, with the representative's draft: every indicator answered once.
                framework = frameworks[max(frameworks)]
                round_ = service.start_round(session, organisation, people[0], framework, date(2027, 3, 1))
                response = service.response_of(session, round_, people[0], "Chair")
                for indicator in service.structure(session, framework).all_indicators():
                    service.save_answer(session, response, indicator, Choice.LEVEL_2, "Draft note", None)
            session.commit()
    print(
        f"  through the service: {len(SERVICE_ORGANISATIONS)} organisations: {time.perf_counter() - started:.1f} s"
    )

    with engine.connect() as conn:
        banded = conn.scalar(select(func.count()).where(Organisation.capacity_band.is_not(None)))
        latest = conn.scalar(select(func.count()).where(DomainScore.latest.is_(True)))
        peers = conn.scalar(select(func.count()).where(Organisation.peer_trainer_consent.is_(True)))
    if banded != organisations:
        raise SystemExit(f"{banded:,} organisations of {organisations:,} have a capacity band")
    print(f"  {latest:,} latest domain scores; {peers:,} organisations agree to train peers")
    if dialect == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    print(f"generated in {time.perf_counter() - started:.1f} s (ANALYZE included)", flush=True)


def answered_rounds(
    session: Session,
    rng: random.Random,
    organisation: Organisation,
    people: list[User],
    officer: User,
    frameworks: dict[int, Framework],
    versions: list[int],
) -> None:
    """Validated rounds as the pages make them: each person answers every indicator, submits; the round is
    submitted, the officer lowers one score and validates."""
    level = rng.uniform(1.5, 3.2)
    biases = (0.6, -0.7, 0.0)
    for n, (version, opened_on) in enumerate(
        zip(versions, round_dates(len(versions), organisation.id), strict=True)
    ):
        framework = frameworks[version]
        shape = service.structure(session, framework)
        round_ = service.start_round(session, organisation, people[0], framework, opened_on)
        for person, bias, role in zip(people, biases, ("Chair", "Treasurer", "Volunteer lead"), strict=False):
            response = service.response_of(session, round_, person, role)
            for indicator in shape.all_indicators():
                target = level + 0.3 * n + bias + rng.uniform(-0.6, 0.6)
                choice = Choice(str(round(min(4.0, max(1.0, target)))))
                evidence = "Minutes of the general assembly" if rng.random() < 0.3 else None
                service.save_answer(session, response, indicator, choice, evidence, None)
            service.submit_response(session, response, shape)
        service.submit_round(session, round_, shape)
        first = shape.all_indicators()[0]
        service.review_indicator(
            session, round_, first, 1, "Not supported by the minutes shown.", officer, None
        )
        service.validate_round(session, round_, officer, None, shape)
        submitted = datetime.combine(opened_on + timedelta(days=20), datetime.min.time(), UTC)
        round_.submitted_at, round_.validated_at = submitted, submitted + timedelta(days=14)
        session.flush()


# Measuring ---------------------------------------------------------------------------------------------


@dataclass
class Statements:
    """The statements (with their parameters) of the request being timed, to replay and EXPLAIN them."""

    on: bool = False
    seen: list[tuple[str, Any]] = field(default_factory=list)

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "after_cursor_execute", self._after)

    def _after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if self.on:
            self.seen.append((statement, parameters))

    @contextmanager
    def capture(self) -> Iterator[list[tuple[str, Any]]]:
        self.seen, self.on = [], True
        try:
            yield self.seen
        finally:
            self.on = False


@dataclass
class Action:
    name: str
    target: str  # key of TARGETS
    who: str  # officer or representative
    request: Callable[[Any, int], Any]  # (client, n) -> response
    before: Callable[[int], None] | None = None
    after: Callable[[int, Any], None] | None = None


@dataclass
class Result:
    action: Action
    dialect: str
    ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    # Statement counts of the requests that reloaded a reference cache (not in `statements`).
    reloads: list[int] = field(default_factory=list)
    # The statements of the last request (with their parameters), and its SELECTs replayed alone.
    last: list[tuple[str, Any]] = field(default_factory=list)
    replayed: list[tuple[float, str, Any]] = field(default_factory=list)

    @property
    def target_ms(self) -> float | None:
        if self.action.target in SQLITE_ONLY_TARGETS and self.dialect != "sqlite":
            return None
        return TARGETS[self.action.target]

    @property
    def constant(self) -> bool:
        return min(self.statements) == max(self.statements)

    @property
    def passed(self) -> bool:
        target = self.target_ms
        return (target is None or statistics.median(self.ms) <= target) and self.constant


@dataclass
class Fixture:
    officer_id: int
    representative_id: int
    response_id: int
    indicator_ids: list[int]
    results_round_id: int
    # Every round made through the service, for the statement counts: (organisation, earlier rounds,
    # respondents, framework version, what it compares with, round id).
    service_rounds: list[tuple[str, int, int, str, str, int]]


def fixture(engine: Engine) -> Fixture:
    with make_sessionmaker(engine)() as session:
        officer = accounts.get_user_by_email(session, benchlib.OFFICER_EMAIL)
        representative = accounts.get_user_by_email(session, benchlib.REPRESENTATIVE_EMAIL)
        if officer is None or representative is None or representative.organisation_id is None:
            raise SystemExit("the bench users are missing: run with --regenerate")
        organisation_id = representative.organisation_id
        open_round = service.round_in_progress(session, organisation_id)
        assert open_round is not None, "the representative's organisation has no round being answered"
        response = service.response_of(session, open_round, representative)
        indicators = [i.id for i in service.structure(session, open_round.framework).all_indicators()]
        latest = session.scalar(
            select(AssessmentRound.id).where(
                AssessmentRound.organisation_id == organisation_id, AssessmentRound.latest.is_(True)
            )
        )
        assert latest is not None
        labelled = []
        for number in range(1, len(SERVICE_ORGANISATIONS) + 1):
            validated = [
                r for r in reversed(service.rounds_of(session, number)) if r.status == RoundStatus.VALIDATED
            ]
            for n, round_ in enumerate(validated):
                respondents = session.scalar(
                    select(func.count()).where(AssessmentResponse.round_id == round_.id)
                )
                previous = validated[n - 1] if n else None
                compared = (
                    "nothing"
                    if previous is None
                    else f"version {previous.framework.version}"
                    if previous.framework_id != round_.framework_id
                    else "same version"
                )
                labelled.append(
                    (
                        f"organisation {number}",
                        n,
                        respondents,
                        f"v{round_.framework.version}",
                        compared,
                        round_.id,
                    )
                )
        return Fixture(officer.id, representative.id, response.id, indicators, latest, labelled)


def sign_in(engine: Engine, user_id: int) -> str:
    with make_sessionmaker(engine)() as session:
        session.info["actor_id"] = None
        user = session.get(User, user_id)
        assert user is not None
        token = accounts.start_session(session, user, "127.0.0.1", 1)
        session.commit()
        return token


def fail(action: str, response: Any) -> None:
    body = " ".join(response.text.split())[:600]
    raise SystemExit(f"{action}: HTTP {response.status_code} from {response.request.url}\n  {body}")


def reference_loads(engine: Engine) -> list[float | None]:
    """When each per-process reference cache (vocabularies, ...) was last loaded for this engine: a request
    that reloads one (every 60 s) runs a few more statements, which says nothing about the page."""
    # Read-only look at the caches' private state: the bench's business only.
    return [copy[0] if (copy := cache._copies.get(engine)) else None for cache in reference_cache._CACHES]


def run_action(
    client: Any,
    tokens: dict[str, str],
    log: SqlLog,
    statements: Statements,
    action: Action,
    repeat: int,
    engine: Engine,
) -> Result:
    result = Result(action, engine.dialect.name)
    client.cookies.set("crm_session", tokens[action.who])
    for n in range(WARM_UP + repeat):
        if action.before:
            action.before(n)
        loads = reference_loads(engine)
        with statements.capture() as seen, log.measure() as sql:
            started, cpu = time.perf_counter(), time.process_time()
            response = action.request(client, n)
            elapsed = (time.perf_counter() - started) * 1000
            cpu_ms = (time.process_time() - cpu) * 1000
        if response.status_code != 200:
            fail(action.name, response)
        if action.after:
            action.after(n, response)
        if n < WARM_UP:
            continue
        result.ms.append(elapsed)
        result.cpu_ms.append(cpu_ms)
        result.sql_ms.append(sql["sql_ms"])
        if reference_loads(engine) != loads:
            result.reloads.append(sql["statements"])
            continue
        result.statements.append(sql["statements"])
        result.last = list(seen)
    return result


def replay(engine: Engine, statements: list[tuple[str, Any]], times: int = 3) -> list[tuple[float, str, Any]]:
    """Each SELECT of one request run again alone with its rows fetched (on SQLite most of a query's work
    happens while fetching, after cursor.execute returns): (median ms, statement, parameters), slowest first."""
    timed = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            if not statement.lstrip().lower().startswith(("select", "with")):
                continue
            runs = []
            for _ in range(times):
                started = time.perf_counter()
                conn.exec_driver_sql(statement, parameters).fetchall()
                runs.append((time.perf_counter() - started) * 1000)
            timed.append((statistics.median(runs), statement, parameters))
        conn.rollback()
    return sorted(timed, key=lambda item: item[0], reverse=True)


def autosave_action(checker: Engine, fix: Fixture) -> Action:
    """Save one answer as the questionnaire does on change: the indicator and the choice vary."""
    table = AssessmentAnswer.__table__
    state: dict[str, Any] = {}
    # Evidence differing from every earlier run's: an unchanged answer would save nothing (no UPDATE).
    run = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")

    def current(indicator_id: int) -> tuple[int, str | None]:
        with checker.connect() as conn:
            row = conn.execute(
                select(table.c.version, table.c.choice).where(
                    table.c.response_id == fix.response_id, table.c.indicator_id == indicator_id
                )
            ).one()
            return int(row.version), row.choice

    def before(n: int) -> None:
        indicator = fix.indicator_ids[n % len(fix.indicator_ids)]
        state.update(indicator=indicator, version=current(indicator)[0], choice=str(1 + n % 4))

    def request(client: Any, n: int) -> Any:
        # The step form names each answer's fields after its indicator (choice-ID, evidence-ID, version-ID).
        indicator = state["indicator"]
        return client.post(
            f"/assessments/responses/{fix.response_id}/answers/{indicator}",
            data={
                f"choice-{indicator}": state["choice"],
                f"evidence-{indicator}": f"Minutes of the assembly, bench run {run}, item {n}",
                f"version-{indicator}": str(state["version"]),
                "_csrf_token": client.cookies["csrftoken"],
            },
            headers={"HX-Request": "true"},
        )

    def after(n: int, response: Any) -> None:
        version, choice = current(state["indicator"])
        if (version, choice) != (state["version"] + 1, state["choice"]):
            raise SystemExit(
                f"autosave: answered 200 but the answer holds version {version}, choice {choice!r} "
                f"(expected {state['version'] + 1}, {state['choice']!r})"
            )
        shown = dict(VERSION_RE.findall(response.text)).get(str(state["indicator"]))
        if shown != str(version):
            raise SystemExit(f"autosave: the answer now has version {version}; the page gives {shown}")

    return Action("autosave one answer (HTMX)", "autosave", "representative", request, before, after)


def actions(checker: Engine, fix: Fixture) -> list[Action]:
    def get(url: str) -> Callable[[Any, int], Any]:
        return lambda client, _n: client.get(url)

    results = f"/assessments/{fix.results_round_id}/results"
    return [
        autosave_action(checker, fix),
        Action("results, as representative", "results", "representative", get(results)),
        Action("results, as officer", "results", "officer", get(results)),
        Action("portfolio", "portfolio", "officer", get("/assessments/portfolio")),
        Action("portfolio ?residence=FR", "portfolio", "officer", get("/assessments/portfolio?residence=FR")),
        Action(
            "portfolio drill-down finance/emerging",
            "portfolio",
            "officer",
            get("/assessments/portfolio/organisations?domain=finance&band=emerging"),
        ),
        Action(
            "directory ?capacity_band=mature",
            "directory",
            "officer",
            get("/organisations?capacity_band=mature"),
        ),
    ]


def explain(engine: Engine, statement: str, parameters: Any) -> list[str]:
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    if not statement.lstrip().lower().startswith(("select", "with")):
        prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
        conn.rollback()
    return [row[3] if engine.dialect.name == "sqlite" else row[0] for row in rows]


def statements_by_round(client: Any, log: SqlLog, fix: Fixture) -> list[tuple[Any, ...]]:
    """The results page of every round made through the service, as the officer: its statement count."""
    counts = []
    for *described, round_id in fix.service_rounds:
        client.get(f"/assessments/{round_id}/results")  # warm
        with log.measure() as sql:
            response = client.get(f"/assessments/{round_id}/results")
        if response.status_code != 200:
            fail(f"results of round {round_id}", response)
        counts.append((*described, round_id, sql["statements"]))
    return counts


def measure(url: str, repeat: int) -> bool:
    from litestar.testing import TestClient

    from crm.app import create_app

    label = benchlib.engine_label(url)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = load_settings(
        database_url=url, secret_key=benchlib.SECRET_KEY, allowed_hosts=["testserver.local"]
    )
    engine = make_engine(url)
    log = SqlLog()
    log.attach(engine)
    statements = Statements()
    statements.attach(engine)
    checker = make_engine(url)  # reads between requests, not counted
    app = create_app(settings, engine)
    fix = fixture(checker)
    tokens = {
        "officer": sign_in(checker, fix.officer_id),
        "representative": sign_in(checker, fix.representative_id),
    }
    print(
        f"{label}: load average at the start {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
        "(other work on the machine slows every figure)",
        flush=True,
    )
    with TestClient(app=app, base_url=BASE_URL) as client:
        client.cookies.set("crm_session", tokens["representative"])
        page = client.get("/")
        if "csrftoken" not in client.cookies:
            fail("the CSRF cookie (GET /)", page)
        measured = [
            run_action(client, tokens, log, statements, action, repeat, engine)
            for action in actions(checker, fix)
        ]
        client.cookies.set("crm_session", tokens["officer"])
        by_round = statements_by_round(client, log, fix)
    for result in measured:
        result.replayed = replay(checker, result.last)
    ok = report(label, measured, by_round, repeat)
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for result in measured:
        if not result.passed and result.replayed:
            ms, statement, parameters = result.replayed[0]
            print(
                f"\n{result.action.name}: slowest statement, {ms:.1f} ms replayed alone:\n  "
                f"{' '.join(statement.split())}\n  parameters {parameters}"
            )
            for line in explain(checker, statement, parameters):
                print("   " + line)
    engine.dispose()
    checker.dispose()
    return ok


def report(label: str, measured: list[Result], by_round: list[tuple[Any, ...]], repeat: int) -> bool:
    header = (
        f"{'action':<38} {'median':>7} {'p95':>7} {'max':>7} {'CPU ms':>7} {'SQL ms':>7} {'stmts':>7} "
        f"{'target':>8}  verdict"
    )
    print(f"\n== {label}: ms per request in-process ({repeat} requests after {WARM_UP} warm-ups) ==")
    print(
        "median / p95 / max: wall time of the request; CPU ms: median CPU time of this process meanwhile (less\n"
        "sensitive to other work on the machine; PostgreSQL's own work is not in it); SQL ms: median time inside\n"
        "cursor.execute (on SQLite rows are computed while fetched: a lower bound); stmts: SQL statements per\n"
        "request, min–max (must not vary). The verdict is on the median."
    )
    print(header)
    for result in measured:
        median, p95, worst = benchlib.summary(result.ms)
        counts = f"{min(result.statements)}–{max(result.statements)}"
        verdict = "PASS" if result.passed else "FAIL"
        target = "—" if result.target_ms is None else f"≤ {result.target_ms:g}"
        if result.target_ms is None:
            verdict += " (statements only: the time target is SQLite's)"
        if not result.constant:
            verdict += " (statement count varies)"
        if result.reloads:
            verdict += (
                f"; {len(result.reloads)} reloaded the 60 s reference cache: "
                f"{min(result.reloads)}–{max(result.reloads)} stmts"
            )
        print(
            f"{result.action.name:<38} {median:>7.1f} {p95:>7.1f} {worst:>7.1f} "
            f"{statistics.median(result.cpu_ms):>7.1f} {statistics.median(result.sql_ms):>7.1f} {counts:>7} {target:>8}  {verdict}"
        )
    print(
        "\nwhere the SQL time goes: the SELECTs of one request replayed alone, rows fetched (median of 3 ms):\n"
        "their total, and the slowest"
    )
    for result in measured:
        total = sum(ms for ms, _statement, _parameters in result.replayed)
        ms, statement, _parameters = result.replayed[0] if result.replayed else (0.0, "", None)
        print(f"  {result.action.name:<38} {total:>7.1f} {ms:>7.1f}  {' '.join(statement.split())[:120]}")
    if by_round:
        print(
            "\nresults page as the officer, SQL statements by round: they may depend on what the page shows\n"
            "(a comparison, across versions or not; recommendations), never on how many rounds or respondents"
        )
        print(
            f"  {'organisation':<16} {'earlier':>7} {'respondents':>11} {'version':>7}  {'compared with':<14} stmts"
        )
        for organisation, earlier, respondents, version, compared, round_id, count in by_round:
            print(
                f"  {organisation:<16} {earlier:>7} {respondents:>11} {version:>7}  {compared:<14} {count}"
                f"   (round {round_id})"
            )
    ok = all(r.passed for r in measured)
    print(
        f"SUMMARY assessments {label}: "
        + "; ".join(f"{r.action.name} {statistics.median(r.ms):.1f} ms" for r in measured)
        + f": {'PASS' if ok else 'FAIL'}"
    )
    return ok


# Main --------------------------------------------------------------------------------------------------


def prepare(engine_name: str, args: argparse.Namespace) -> str:
    if engine_name == "sqlite":
        url = sqlite_url()
        if args.regenerate or not ready(url, args.organisations, args.rounds):
            for suffix in ("", "-wal", "-shm"):
                Path(str(SQLITE_PATH) + suffix).unlink(missing_ok=True)
            generate(url, args.organisations, args.rounds)
        else:
            print(
                f"data already in {SQLITE_PATH} ({args.organisations:,} organisations); --regenerate to redo"
            )
        return url
    url = pg_url(args.postgres_url, PG_DATABASE)
    if args.regenerate or not ready(url, args.organisations, args.rounds):
        recreate_pg(args.postgres_url, PG_DATABASE)
        generate(url, args.organisations, args.rounds)
    else:
        print(f"data already in {PG_DATABASE} ({args.organisations:,} organisations); --regenerate to redo")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CRM_BENCH_POSTGRES_URL") or os.environ.get("CRM_TEST_POSTGRES_URL"),
        help="a server the user can CREATE DATABASE on (the bench database is made next to it)",
    )
    parser.add_argument("--organisations", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="validated rounds per organisation")
    parser.add_argument("--repeat", type=int, default=200, help="timed requests per action")
    parser.add_argument("--regenerate", action="store_true", help="make the data again even if present")
    args = parser.parse_args()
    if args.organisations <= len(SERVICE_ORGANISATIONS) or args.rounds < 1 or args.repeat < 1:
        raise SystemExit(f"--organisations > {len(SERVICE_ORGANISATIONS)}, --rounds ≥ 1, --repeat ≥ 1")
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    if "postgresql" in engines and not args.postgres_url:
        if args.engine == "postgresql":
            raise SystemExit(
                "PostgreSQL needs --postgres-url (or CRM_BENCH_POSTGRES_URL / CRM_TEST_POSTGRES_URL)"
            )
        print("PostgreSQL skipped: no --postgres-url, CRM_BENCH_POSTGRES_URL or CRM_TEST_POSTGRES_URL")
        engines = ["sqlite"]
    outcomes = []
    for engine_name in engines:
        print(f"\n======== {engine_name} ========", flush=True)
        started = time.perf_counter()
        url = prepare(engine_name, args)
        print(f"data ready: {time.perf_counter() - started:.1f} s", flush=True)
        outcomes.append(measure(url, args.repeat))
    sys.exit(0 if all(outcomes) else 1)


if __name__ == "__main__":
    main()
