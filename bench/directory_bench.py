"""Time the directory page in-process (no network): mixed searches, filters, sorts and deep pages.

Usage: python bench/directory_bench.py --database-url URL [--queries 300] [--seed 7]

The database must have been filled by bench/generate.py. The app is built with crm.app.create_app and
driven by litestar.testing.TestClient, signed in through real server-side sessions, once as the liaison
officer (sees every organisation) and once as the organisation representative (sees consenting
organisations and their own). Every query runs twice: as a full page and as an HTMX partial.

Printed: per-request time (perf_counter around client.get) per category, median / p95 / max; SQL statements
per request (a before_cursor_execute listener on the engine) with the time spent inside cursor.execute;
a breakdown of a few requests into count query, page query and the rest (framework, auth, rendering);
and the query plan of the text search, saying whether it reads the organisations table by scanning it.
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import statistics
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import benchlib
from sqlalchemy import Engine, event, func, select
from wordlists import AUDIENCE_WEIGHTS, CAPITAL_WEIGHTS, ORIGINS, RESIDENCES, SECTOR_WEIGHTS

from crm.accounts import service as accounts
from crm.accounts.models import User
from crm.db.engine import make_engine, make_sessionmaker
from crm.organisations import directory
from crm.organisations.directory import SORTS, DirectoryFilters, directory_query
from crm.organisations.models import Organisation
from crm.organisations.profile import query_terms
from crm.settings import load_settings

BASE_URL = "http://testserver.local"
PER_PAGE = 25
TARGET_MEDIAN_MS = 15
TARGET_P95_MS = 40
COUNT_RE = re.compile(r'id="result-count"[^>]*>\s*(?:More than )?([\d,\s\u202f\u00a0]+)')

# Share of the generated queries per category (each category gets at least 3).
MIX = {
    "list": 0.04,
    "text 1 word": 0.14,
    "text 2 words": 0.08,
    "filter residence": 0.04,
    "filter origin": 0.04,
    "filter sector": 0.04,
    "filter capital": 0.03,
    "filter audience": 0.03,
    "filter vulnerable": 0.03,
    "filter consent": 0.03,
    "combination": 0.16,
    "sort": 0.14,
    "deep page 500": 0.05,
    "deep page 2000": 0.05,
    "deep text/filter page": 0.06,
}


# SQL accounting ---------------------------------------------------------------------------------------


@dataclass
class SqlLog:
    statements: int = 0
    seconds: float = 0.0
    started: dict[int, float] = field(default_factory=dict)
    recent: list[tuple[str, float]] = field(default_factory=list)

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, _conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        self.statements += 1
        self.started[id(cursor)] = time.perf_counter()

    def _after(self, _conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        elapsed = time.perf_counter() - self.started.pop(id(cursor), time.perf_counter())
        self.seconds += elapsed
        self.recent.append((statement, elapsed))

    @contextmanager
    def measure(self) -> Iterator[dict[str, Any]]:
        result: dict[str, Any] = {}
        statements, seconds = self.statements, self.seconds
        self.recent = []
        yield result
        result["statements"] = self.statements - statements
        result["sql_ms"] = (self.seconds - seconds) * 1000
        result["log"] = list(self.recent)


def statement_kind(statement: str) -> str:
    """count: the directory's COUNT(*); page: the page of organisations; other: auth, vocabularies, sectors."""
    head = statement.lstrip()[:200].lower()
    # The capped count: SELECT count(*) ..., SELECT (SELECT count(*) ...), or SELECT CASE WHEN (probe) ...
    if head.startswith(("select count(*)", "select (select count(*)", "select case when")):
        return "count"
    if head.startswith("select organisations.") and " limit " in statement.lower():
        return "page"
    return "other"


# Query mix -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    category: str
    params: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        return "&".join(f"{k}={v}" for k, v in self.params) or "(none)"


def sample_words(engine: Engine, rng: random.Random, count: int) -> list[list[str]]:
    """Folded words of real generated names (and their cities), longest first, from random organisations."""
    with engine.connect() as conn:
        top = conn.scalar(select(func.max(Organisation.id))) or 1
        ids = sorted({rng.randint(1, top) for _ in range(count)})
        rows = conn.execute(
            select(Organisation.name, Organisation.residence_city).where(Organisation.id.in_(ids))
        ).all()
    names = []
    for name, city in rows:
        words = [w for w in query_terms(f"{name} {city or ''}") if len(w) >= 3 and not w.isdigit()]
        if words:
            names.append(words)
    return names


def prefix(rng: random.Random, word: str) -> str:
    return word[: rng.randint(3, min(6, len(word)))]


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def build_queries(engine: Engine, rng: random.Random, total: int) -> list[Query]:
    names = sample_words(engine, rng, 3000)
    residence_weights = {code: spec[0] for code, spec in RESIDENCES.items()}
    origin_weights = {code: spec[0] for code, spec in ORIGINS.items()}
    sorts = list(SORTS)

    def text_one() -> list[tuple[str, str]]:
        return [("q", prefix(rng, rng.choice(rng.choice(names))))]

    def text_two() -> list[tuple[str, str]]:
        words = rng.choice([w for w in names if len(w) >= 2])
        first, second = rng.sample(words, 2)
        return [("q", f"{prefix(rng, first)} {prefix(rng, second)}")]

    filters: dict[str, Callable[[], list[tuple[str, str]]]] = {
        "residence": lambda: [("residence", weighted(rng, residence_weights))],
        "origin": lambda: [("origin", weighted(rng, origin_weights))],
        "sector": lambda: [("sector", c) for c in rng.sample(list(SECTOR_WEIGHTS), rng.choice((1, 1, 2)))],
        "capital": lambda: [("capital", weighted(rng, CAPITAL_WEIGHTS))],
        "audience": lambda: [
            ("audience", c) for c in rng.sample(list(AUDIENCE_WEIGHTS), rng.choice((1, 1, 2)))
        ],
        "vulnerable": lambda: [("vulnerable", "1")],
        "consent": lambda: [("consent", "1")],
        "q": text_one,
    }

    def combination() -> list[tuple[str, str]]:
        keys = rng.sample(list(filters), rng.randint(2, 4))
        params = [p for key in keys for p in filters[key]()]
        if rng.random() < 0.5:
            params.append(("sort", rng.choice(sorts)))
        return params

    makers: dict[str, Callable[[], list[tuple[str, str]]]] = {
        "list": lambda: [("page", str(rng.randint(1, 5)))] if rng.random() < 0.5 else [],
        "text 1 word": text_one,
        "text 2 words": text_two,
        **{f"filter {key}": maker for key, maker in filters.items() if key != "q"},
        "combination": combination,
        "deep page 500": lambda: [("sort", rng.choice(sorts)), ("page", "500")],
        "deep page 2000": lambda: [("sort", rng.choice(sorts)), ("page", "2000")],
        "deep text/filter page": lambda: [
            *rng.choice((text_one, filters["residence"], filters["sector"], filters["vulnerable"]))(),
            ("page", str(rng.choice((20, 50, 100, 300)))),
        ],
    }
    queries: list[Query] = []
    counts = {category: max(3, round(share * total)) for category, share in MIX.items()}
    counts["sort"] = max(counts["sort"], len(sorts))
    for n in range(max(0, total - sum(counts.values()))):  # rounding: top up to the number asked
        counts[("text 1 word", "combination", "filter residence", "filter sector")[n % 4]] += 1
    for category, count in counts.items():
        for n in range(count):
            params = [("sort", sorts[n % len(sorts)])] if category == "sort" else makers[category]()
            queries.append(Query(category, tuple(params)))
    rng.shuffle(queries)
    return queries


# Running ---------------------------------------------------------------------------------------------


@dataclass
class Sample:
    query: Query
    mode: str
    ms: float
    statements: int
    sql_ms: float
    total: int | None
    count_ms: float = 0.0
    page_ms: float = 0.0

    @property
    def other_sql_ms(self) -> float:
        return self.sql_ms - self.count_ms - self.page_ms

    @property
    def python_ms(self) -> float:
        return self.ms - self.sql_ms


def sign_in(engine: Engine, email: str) -> tuple[str, User]:
    with make_sessionmaker(engine)() as session:
        session.info["actor_id"] = None
        user = accounts.get_user_by_email(session, email)
        if user is None:
            raise SystemExit(f"no user {email}: fill the database with bench/generate.py first")
        token = accounts.start_session(session, user, "127.0.0.1", 1)
        session.commit()
        return token, user


def parse_total(body: str) -> int | None:
    match = COUNT_RE.search(body)
    if not match:
        return None
    digits = re.sub(r"\D", "", match.group(1))
    return int(digits) if digits else None


def run_queries(client: Any, log: SqlLog, queries: list[Query]) -> list[Sample]:
    samples = []
    for query in queries:
        for mode in ("full", "htmx"):
            headers = {"HX-Request": "true"} if mode == "htmx" else {}
            with log.measure() as sql:
                started = time.perf_counter()
                response = client.get("/organisations", params=list(query.params), headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{query.label} ({mode}): HTTP {response.status_code}")
            if mode == "htmx" and "<html" in response.text[:500]:
                raise SystemExit(f"{query.label}: the HTMX request got a full page")
            by_kind: dict[str, float] = defaultdict(float)
            for statement, seconds in sql["log"]:
                by_kind[statement_kind(statement)] += seconds * 1000
            samples.append(
                Sample(
                    query,
                    mode,
                    elapsed,
                    sql["statements"],
                    sql["sql_ms"],
                    parse_total(response.text),
                    count_ms=by_kind["count"],
                    page_ms=by_kind["page"],
                )
            )
    return samples


def fmt_row(label: str, samples: list[Sample], width: int = 24) -> str:
    if not samples:
        return f"{label:<{width}}     0"
    median, p95, worst = benchlib.summary([s.ms for s in samples])
    statements = [s.statements for s in samples]

    def med(values: Iterator[float]) -> float:
        return statistics.median(values)

    return (
        f"{label:<{width}} {len(samples):>5} {median:>7.1f} {p95:>7.1f} {worst:>7.1f} "
        f"{med(s.count_ms for s in samples):>7.1f} {med(s.page_ms for s in samples):>7.1f} "
        f"{med(s.other_sql_ms for s in samples):>7.1f} {med(s.python_ms for s in samples):>7.1f}"
        f"   {min(statements)}–{max(statements)}"
    )


def report(role: str, samples: list[Sample]) -> dict[str, float]:
    header = (
        f"{'category':<24} {'reqs':>5} {'median':>7} {'p95':>7} {'max':>7} {'count':>7} {'page':>7} "
        f"{'oth.SQL':>7} {'non-SQL':>7}   SQL stmts"
    )
    print(f"\n== {role}: per-request time in ms (in-process), SQL statements per request ==")
    print(
        "median/p95/max: whole request; count, page, oth.SQL: medians of the time inside cursor.execute for the\n"
        "COUNT(*), the page query and the rest (auth, vocabularies, sectors); non-SQL: median of request - SQL."
    )
    print(header)
    by_category: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_category[sample.query.category].append(sample)
    for category in MIX:
        print(fmt_row(category, by_category[category]))
    sorts: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        params = dict(sample.query.params)
        if sample.query.category == "sort":
            sorts[params["sort"]].append(sample)
    for key in SORTS:
        print(fmt_row(f"  sort={key}", sorts[key]))
    print("-" * len(header))
    for mode in ("full", "htmx"):
        print(
            fmt_row(
                f"all, {mode} page" if mode == "full" else "all, HTMX partial",
                [s for s in samples if s.mode == mode],
            )
        )
    print(fmt_row("ALL", samples))
    median, p95, worst = benchlib.summary([s.ms for s in samples])
    verdict = "meets" if median <= TARGET_MEDIAN_MS and p95 <= TARGET_P95_MS else "MISSES"
    print(
        f"{role}: median {median:.1f} ms (target ≤ {TARGET_MEDIAN_MS}), p95 {p95:.1f} ms "
        f"(target ≤ {TARGET_P95_MS}): {verdict} the target"
    )
    slowest = sorted(samples, key=lambda s: s.ms, reverse=True)[:5]
    print("slowest requests:")
    for sample in slowest:
        print(
            f"  {sample.ms:7.1f} ms  (count {sample.count_ms:.1f}, page {sample.page_ms:.1f}, other SQL "
            f"{sample.other_sql_ms:.1f}; {sample.statements} statements, {sample.mode})  ?{sample.query.label}"
        )
    return {"median": median, "p95": p95, "max": worst}


# Breakdown: count query, page query, the rest --------------------------------------------------------


BREAKDOWN = [
    ("list, page 1", {}, 1),
    ("text 'sene'", {"q": "sene"}, 1),
    ("text 'lyon asso'", {"q": "lyon asso"}, 1),
    ("residence=FR", {"residence": ("FR",)}, 1),
    ("vulnerable=1", {"vulnerable": True}, 1),
    ("sort=-completeness", {"sort": "-completeness"}, 1),
    ("sort=country, page 500", {"sort": "country"}, 500),
    ("sort=name, page 2000", {"sort": "name"}, 2000),
]


def timed(action: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def breakdown(engine: Engine, client: Any, user_id: int, role: str) -> None:
    print(f"\n== {role}: where the time goes (median of 5, ms) ==")
    print(f"{'request':<26} {'whole':>7} {'count':>7} {'page+sectors':>13} {'rest':>7}")
    with make_sessionmaker(engine)() as session:
        user = session.get(User, user_id)
        assert user is not None
        for label, values, page in BREAKDOWN:
            filters = DirectoryFilters(**values)

            def run_page(filters: DirectoryFilters = filters, page: int = page) -> None:
                directory.directory_page(session, user, filters, page, PER_PAGE)
                session.expunge_all()

            count_ms = timed(lambda filters=filters: directory.count_directory(session, user, filters))
            # directory_page counts too (to keep the page in range): its own rows and sectors are the rest.
            page_ms = timed(run_page) - count_ms
            params: list[tuple[str, str]] = [("page", str(page))] if page > 1 else []
            for key, value in values.items():
                if isinstance(value, tuple):
                    params.extend((key, v) for v in value)
                elif value is True:
                    params.append((key, "1"))
                else:
                    params.append((key, str(value)))
            whole_ms = timed(lambda p=params: client.get("/organisations", params=p))
            rest = whole_ms - count_ms - page_ms
            print(f"{label:<26} {whole_ms:>7.1f} {count_ms:>7.1f} {page_ms:>13.1f} {rest:>7.1f}")


# Query plans -----------------------------------------------------------------------------------------


def scans_of_organisations(dialect: str, lines: list[str]) -> list[str]:
    """Plan lines that read organisations row by row instead of through the full-text index."""
    if dialect == "sqlite":
        # "SCAN organisations" (whole table) or "SCAN organisations USING INDEX x" (whole index, in order).
        return [line for line in lines if re.match(r"SCAN organisations\b(?!_fts)", line.strip())]
    found = []
    for number, line in enumerate(lines):
        if "Seq Scan on organisations " in line + " ":
            found.append(line.strip())
        elif re.search(r"Index (Only )?Scan (Backward )?using \S+ on organisations\b", line):
            # An index walk (e.g. in name order) that evaluates the text match on each row it meets.
            following = []
            for later in lines[number + 1 :]:
                if "->" in later:
                    break
                following.append(later)
            if any("@@" in later for later in following):
                found.append(line.strip() + " with the text match as a per-row Filter")
    return found


def explain(engine: Engine, user_id: int, terms: tuple[str, ...] = ("sene", "rede")) -> None:
    """EXPLAIN the text-search queries as the directory runs them (filter, count, first page by name)."""
    dialect = engine.dialect.name
    label_engine = benchlib.engine_label(engine.url.render_as_string())
    with make_sessionmaker(engine)() as session:
        user = session.get(User, user_id)
        assert user is not None
        for term in terms:
            print(f"\n== text search plan ({label_engine}), q={term!r}, officer ==")
            query = directory_query(session, user, DirectoryFilters(q=term))
            statements = {
                "filter (directory_query)": query,
                "count": select(func.count()).select_from(query.order_by(None).subquery()),
                "page (ORDER BY name, id LIMIT 25)": query.order_by(*SORTS["name"]).limit(PER_PAGE),
            }
            for label, stmt in statements.items():
                compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
                params: Any = compiled.params
                if compiled.positiontup is not None:
                    params = tuple(compiled.params[name] for name in compiled.positiontup)
                sql = str(compiled)
                if label.startswith("filter"):
                    where = " ".join(sql.split()).split(" WHERE ", 1)[-1]
                    print(
                        f"SQL: SELECT organisations.* FROM organisations WHERE {where}  -- parameters {params}"
                    )
                connection = session.connection()
                prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
                started = time.perf_counter()
                rows = connection.exec_driver_sql(prefix + sql, params).all()
                elapsed = (time.perf_counter() - started) * 1000
                lines = [row[3] if dialect == "sqlite" else row[0] for row in rows]
                print(
                    f"-- {label}:"
                    + (f" (EXPLAIN ANALYZE took {elapsed:.1f} ms)" if dialect != "sqlite" else "")
                )
                for line in lines:
                    print("   " + line)
                scans = scans_of_organisations(dialect, lines)
                if scans:
                    print(f"   => SCANS organisations: {scans[0]}")
                else:
                    print(
                        "   => organisations is not scanned: the matching rows come from the full-text index"
                    )


# Main ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--queries", type=int, default=300, help="query specs; each runs as page and partial")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from litestar.testing import TestClient

    from crm.app import create_app

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    settings = load_settings(
        database_url=args.database_url, secret_key="x" * 40, allowed_hosts=["testserver.local"]
    )
    engine = make_engine(args.database_url)
    log = SqlLog()
    log.attach(engine)
    app = create_app(settings, engine)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    rng = random.Random(args.seed)
    queries = build_queries(engine, rng, args.queries)
    print(
        f"{benchlib.engine_label(args.database_url)}: {len(queries)} queries, each as full page and HTMX "
        f"partial, for two users = {4 * len(queries)} requests"
    )
    results: dict[str, dict[str, float]] = {}
    for role, email in (
        ("officer", benchlib.OFFICER_EMAIL),
        ("representative", benchlib.REPRESENTATIVE_EMAIL),
    ):
        token, user = sign_in(engine, email)
        with TestClient(app=app, base_url=BASE_URL) as client:
            client.cookies.set("crm_session", token)
            started = time.perf_counter()
            first = client.get("/organisations")
            cold = (time.perf_counter() - started) * 1000
            if first.status_code != 200 or "result-count" not in first.text:
                raise SystemExit(
                    f"{role}: the directory did not answer ({first.status_code}); not signed in?"
                )
            print(
                f"\n{role}: first request {cold:.0f} ms (cold); sees {parse_total(first.text) or 0:,} organisations"
            )
            run_queries(client, log, queries[:20])  # warm-up, not counted
            samples = run_queries(client, log, queries)
            results[role] = report(role, samples)
            breakdown(engine, client, user.id, role)
            if role == "officer":
                explain(engine, user.id)
    print(
        "\nSUMMARY "
        + "; ".join(
            f"{role} median {r['median']:.1f} ms p95 {r['p95']:.1f} ms" for role, r in results.items()
        )
    )
    engine.dispose()


if __name__ == "__main__":
    main()
