"""Several users at once: `crm serve --workers 2` under sign-ins, directory pages and searches, API reads,
edits of different organisations and of the same one, and one import, for a bounded time, on loopback only.

Usage:
    python bench/concurrent_users.py [--engine sqlite|postgresql|both] [--clients 50] [--duration 60]
                                     [--postgres-url URL] [--import-rows 20000]

It builds a fresh database (demo data), starts the server, runs the clients, stops the server, then reads the
database. It prints throughput, p50/p95/p99 per action, the 5xx count (must be 0), the slowest /healthz answer
(must stay under 1 s) and checks that every acknowledged edit is in the database (conflicts are answered 409).
Exits 1 if any of those fails. The test suite runs a bounded version (tests/test_concurrent_users.py).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from crm.accounts import service as accounts
from crm.accounts.models import User
from crm.db.engine import driver_url, session_scope
from crm.organisations.models import Organisation
from crm.organisations.schemas import OrganisationUpdate

SECRET_KEY = "concurrent-users-secret-key-0123456789-abcdef"
PASSWORD = "demo-password"
OFFICER = "officer@demo.example.org"
REPRESENTATIVE = "rep@demo.example.org"
SEARCH_WORDS = ("sen", "assoc", "dias", "santé", "union", "jeunes", "health", "afri", "réseau", "women")
EDITABLE = tuple(name for name in OrganisationUpdate.model_fields)
HEALTH_LIMIT_S = 1.0


# The database and the server ---------------------------------------------------------------------------


# Another checkout's code to serve (--server-code), to compare two builds back to back on the same machine.
SERVER_CODE = os.environ.get("CRM_LOAD_SERVER_CODE", "")


def crm_command() -> list[str]:
    if SERVER_CODE:
        return [sys.executable, "-c", "from crm.cli import main; main()"]
    beside = Path(sys.executable).with_name("crm")
    return [str(beside) if beside.exists() else "crm"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRM_")}
    env.update(CRM_DATABASE_URL=url, CRM_SECRET_KEY=SECRET_KEY, CRM_ALLOWED_HOSTS='["127.0.0.1"]')
    if SERVER_CODE:
        env["PYTHONPATH"] = SERVER_CODE
    return env


@contextmanager
def fresh_database(engine: str, workdir: Path, postgres_url: str | None = None) -> Iterator[str]:
    """A migrated database with the demo data, removed afterwards."""
    if engine == "sqlite":
        url = f"sqlite:///{workdir / 'concurrent.db'}"
        _migrate_and_seed(url, workdir)
        yield url
        return
    if not postgres_url:
        raise SystemExit("PostgreSQL needs --postgres-url (or CRM_TEST_POSTGRES_URL)")
    admin_url = make_url(driver_url(postgres_url))
    name = f"crm_concurrent_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        _migrate_and_seed(url, workdir)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate_and_seed(url: str, workdir: Path) -> None:
    for command in (["db", "upgrade"], ["seed", "demo"]):
        subprocess.run(
            [*crm_command(), *command], env=server_env(url), cwd=workdir, check=True, capture_output=True
        )


@dataclass
class Fixture:
    """What the clients need from the database before they start."""

    officer_token: str
    representative_token: str
    organisation_ids: list[int]
    representative_organisation_id: int


def prepare(url: str) -> Fixture:
    with session_scope(url) as session:
        officer = session.scalar(select(User).where(User.email == OFFICER))
        representative = session.scalar(select(User).where(User.email == REPRESENTATIVE))
        assert officer is not None and representative is not None and representative.organisation_id
        officer_token = accounts.create_api_token(session, officer, "load").secret
        representative_token = accounts.create_api_token(session, representative, "load").secret
        ids = list(
            session.scalars(
                select(Organisation.id).where(Organisation.merged_into_id.is_(None)).order_by(Organisation.id)
            )
        )
        return Fixture(officer_token, representative_token, ids, representative.organisation_id)


@contextmanager
def running_server(url: str, workdir: Path, workers: int = 2) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = workdir / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*crm_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=server_env(url),
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stopping it reaches the uvicorn workers, and nothing else
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no /healthz within 30 s:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def server_log_errors(workdir: Path) -> list[str]:
    """Tracebacks the server logged: a 500 that a client might not have noticed."""
    return [
        line
        for path in workdir.glob("server-*.log")
        for line in path.read_text(errors="replace").splitlines()
        if "Traceback" in line
    ]


# The clients -------------------------------------------------------------------------------------------


@dataclass
class Acknowledged:
    organisation_id: int
    version: int
    marker: str


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[str] = field(default_factory=list)
    acknowledged: list[Acknowledged] = field(default_factory=list)
    health_worst_s: float = 0.0
    health_failures: int = 0
    elapsed_s: float = 0.0
    import_tag: str = ""
    import_rows: int = 0

    def record(self, action: str, started: float, status: int) -> None:
        self.latencies[action].append(time.perf_counter() - started)
        self.statuses[action][status] += 1

    @property
    def server_errors(self) -> int:
        return sum(
            count for counter in self.statuses.values() for status, count in counter.items() if status >= 500
        )

    @property
    def total(self) -> int:
        return sum(len(values) for values in self.latencies.values())


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


async def sign_in(base: str, email: str, password: str = PASSWORD) -> tuple[int, dict[str, str]]:
    """The login form as a browser submits it: the status and, when signed in, the cookies."""
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False) as client:
        page = await client.get("/login")
        csrf = client.cookies.get("csrftoken", "")
        if page.status_code != 200:
            return page.status_code, {}
        response = await client.post(
            "/login", data={"_csrf_token": csrf, "email": email, "password": password, "next": "/"}
        )
        cookies = {"csrftoken": csrf, "crm_session": client.cookies.get("crm_session", "")}
        return response.status_code, cookies


async def edit_organisation(
    client: httpx.AsyncClient, token: str, organisation_id: int, marker: str, results: Results, action: str
) -> None:
    """Read, then write back with the version read: 200 is a write the server acknowledged, 409 a conflict."""
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    current = await client.get(f"/api/v1/organisations/{organisation_id}", headers=headers)
    if current.status_code != 200:
        results.record(action, started, current.status_code)
        return
    body = {key: value for key, value in current.json().items() if key in EDITABLE}
    body["description"] = marker
    if not body.get("email"):
        body.pop("email", None)
    response = await client.put(f"/api/v1/organisations/{organisation_id}", json=body, headers=headers)
    results.record(action, started, response.status_code)
    if response.status_code == 200:
        results.acknowledged.append(Acknowledged(organisation_id, response.json()["version"], marker))
    elif response.status_code != 409:
        results.failures.append(
            f"{action} {organisation_id}: HTTP {response.status_code} {response.text[:200]}"
        )


def import_file(rows: int, tag: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Name", "Country of residence", "Country of origin", "City", "Sectors"])
    countries = ("FR", "BE", "DE", "IE", "GB", "CA", "ES", "IT")
    origins = ("SN", "ML", "CI", "CM", "NG", "MA", "TN", "HT")
    for n in range(rows):
        writer.writerow(
            [
                f"Load {tag} association {n}",
                countries[n % 8],
                origins[n // 8 % 8],
                f"City {n % 97}",
                "education",
            ]
        )
    return buffer.getvalue().encode()


async def upload_import(base: str, cookies: dict[str, str], content: bytes, results: Results) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=600, headers=cookie_header(cookies)) as client:
        started = time.perf_counter()
        response = await client.post(
            "/import/organisations/",
            data={"_csrf_token": cookies["csrftoken"], "action": "import", "source": "load test"},
            files={"file": ("load.csv", content, "text/csv")},
        )
        results.record("import", started, response.status_code)
        if response.status_code != 200:
            results.failures.append(f"import: HTTP {response.status_code} {response.text[:300]}")


async def watch_health(base: str, stop: asyncio.Event, results: Results) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                status = (await client.get("/healthz")).status_code
            except httpx.HTTPError:
                status = 0
            took = time.perf_counter() - started
            results.health_worst_s = max(results.health_worst_s, took)
            if status != 200 or took > HEALTH_LIMIT_S:
                results.health_failures += 1
            await asyncio.sleep(0.25)


async def one_client(
    number: int,
    base: str,
    fixture: Fixture,
    sessions: dict[str, dict[str, str]],
    deadline: float,
    results: Results,
    think_s: float = 0.0,
) -> None:
    rng = random.Random(number)
    ids = fixture.organisation_ids
    own_target = ids[number % len(ids)]
    shared_target = ids[0]
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False) as client:
        sequence = 0
        while time.monotonic() < deadline:
            sequence += 1
            roll = rng.random()
            started = time.perf_counter()
            try:
                if roll < 0.08:
                    email = OFFICER if rng.random() < 0.5 else REPRESENTATIVE
                    status, _ = await sign_in(base, email)
                    results.record("sign-in", started, status)
                    if status not in (302, 303):
                        results.failures.append(f"sign-in {email}: HTTP {status}")
                elif roll < 0.35:
                    who = "officer" if rng.random() < 0.5 else "representative"
                    response = await client.get(
                        f"/organisations?page={rng.randint(1, 3)}", headers=cookie_header(sessions[who])
                    )
                    results.record("directory page", started, response.status_code)
                elif roll < 0.50:
                    response = await client.get(
                        "/organisations",
                        params={"q": rng.choice(SEARCH_WORDS)},
                        headers=cookie_header(sessions["officer"]),
                    )
                    results.record("directory search", started, response.status_code)
                elif roll < 0.72:
                    token = fixture.officer_token if rng.random() < 0.5 else fixture.representative_token
                    response = await client.get(
                        f"/api/v1/organisations/{rng.choice(ids)}",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    results.record("API read", started, response.status_code)
                elif roll < 0.88:
                    marker = f"client {number} edit {sequence}"
                    await edit_organisation(
                        client, fixture.officer_token, own_target, marker, results, "edit (different)"
                    )
                else:
                    marker = f"client {number} edit {sequence}"
                    await edit_organisation(
                        client, fixture.officer_token, shared_target, marker, results, "edit (same one)"
                    )
            except httpx.HTTPError as error:
                results.record("transport error", started, 599)
                results.failures.append(f"client {number}: {type(error).__name__} {error}")
            if think_s:
                # A person reads the page before the next click: uniform between none and twice the mean.
                await asyncio.sleep(rng.uniform(0, 2 * think_s))


async def run_load(
    base: str, fixture: Fixture, clients: int, duration: float, import_rows: int = 0, think_s: float = 0.0
) -> Results:
    results = Results()
    sessions = {}
    for who, email in (("officer", OFFICER), ("representative", REPRESENTATIVE)):
        status, cookies = await sign_in(base, email)
        if status not in (302, 303):
            raise RuntimeError(f"could not sign in as {email}: HTTP {status}")
        sessions[who] = cookies
    stop = asyncio.Event()
    health = asyncio.create_task(watch_health(base, stop, results))
    started = time.monotonic()
    deadline = started + duration
    tasks = [one_client(n, base, fixture, sessions, deadline, results, think_s) for n in range(clients)]
    if import_rows:
        results.import_tag, results.import_rows = uuid.uuid4().hex[:8], import_rows
        content = import_file(import_rows, results.import_tag)
        tasks.append(upload_import(base, sessions["officer"], content, results))
    await asyncio.gather(*tasks)
    results.elapsed_s = time.monotonic() - started
    stop.set()
    await health
    return results


# Checking and reporting --------------------------------------------------------------------------------


def lost_writes(url: str, results: Results) -> list[str]:
    """Every acknowledged edit must be in the database: per organisation, versions acknowledged once each,
    and the stored row is the one of the highest acknowledged version. An acknowledged import wrote all its
    rows."""
    problems = []
    acknowledged = results.acknowledged
    by_organisation: dict[int, list[Acknowledged]] = defaultdict(list)
    for ack in acknowledged:
        by_organisation[ack.organisation_id].append(ack)
    with session_scope(url) as session:
        for organisation_id, acks in by_organisation.items():
            versions = Counter(ack.version for ack in acks)
            twice = [version for version, count in versions.items() if count > 1]
            if twice:
                problems.append(f"organisation {organisation_id}: versions {twice} acknowledged twice")
            last = max(acks, key=lambda ack: ack.version)
            stored = session.get(Organisation, organisation_id)
            assert stored is not None
            if (stored.version, stored.description) != (last.version, last.marker):
                problems.append(
                    f"organisation {organisation_id}: stored version {stored.version} {stored.description!r}, "
                    f"last acknowledged {last.version} {last.marker!r}"
                )
        if results.import_tag:
            imported = session.scalar(
                select(func.count()).where(Organisation.name.like(f"Load {results.import_tag} %"))
            )
            if results.statuses["import"][200] and imported != results.import_rows:
                problems.append(f"import acknowledged, {imported} of {results.import_rows} rows stored")
    return problems


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] if ordered else 0.0


def report(label: str, results: Results, problems: list[str], log_errors: list[str]) -> bool:
    print(
        f"\n{label}: {results.total} requests in {results.elapsed_s:.1f} s = {results.total / results.elapsed_s:.0f} req/s"
    )
    print(f"{'action':<20} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
    for action, values in sorted(results.latencies.items()):
        statuses = ", ".join(
            f"{status}×{count}" for status, count in sorted(results.statuses[action].items())
        )
        print(
            f"{action:<20} {len(values):>7} {percentile(values, 0.5) * 1000:>8.1f} "
            f"{percentile(values, 0.95) * 1000:>8.1f} {percentile(values, 0.99) * 1000:>8.1f}  {statuses}"
        )
    conflicts = sum(results.statuses[action][409] for action in results.statuses)
    print(
        f"5xx: {results.server_errors}; conflicts answered 409: {conflicts}; acknowledged edits: "
        f"{len(results.acknowledged)}, lost: {len(problems)}; slowest /healthz: "
        f"{results.health_worst_s * 1000:.0f} ms ({results.health_failures} over {HEALTH_LIMIT_S:.0f} s or failed); "
        f"tracebacks in the server log: {len(log_errors)}"
    )
    for line in results.failures[:10] + problems[:10] + log_errors[:5]:
        print("  !", line)
    ok = not (results.server_errors or problems or results.health_failures or results.failures or log_errors)
    print(f"SUMMARY {label}: {'PASS' if ok else 'FAIL'}")
    return ok


def run(
    engine: str, clients: int, duration: float, import_rows: int, postgres_url: str | None, think_s: float
) -> bool:
    with tempfile.TemporaryDirectory(prefix="crm-concurrent-") as tmp:
        workdir = Path(tmp)
        with fresh_database(engine, workdir, postgres_url) as url:
            fixture = prepare(url)
            with running_server(url, workdir) as base:
                print(
                    f"{engine}: {clients} clients for {duration:.0f} s against crm serve --workers 2 at {base}"
                )
                results = asyncio.run(run_load(base, fixture, clients, duration, import_rows))
            return report(engine, results, lost_writes(url, results), server_log_errors(workdir))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--import-rows", type=int, default=20_000)
    parser.add_argument("--postgres-url", default=os.environ.get("CRM_TEST_POSTGRES_URL"))
    parser.add_argument("--server-code", default="", help="serve another checkout's crm/ (a git worktree)")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=250,
        help="mean pause between a client's actions (0: as fast as it can)",
    )
    args = parser.parse_args()
    global SERVER_CODE
    SERVER_CODE = args.server_code or SERVER_CODE
    if not 1 <= args.clients <= 200 or not 1 <= args.duration <= 600:
        raise SystemExit("--clients 1..200 and --duration 1..600 s: this is a bounded, loopback-only load")
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    if args.engine == "both" and not args.postgres_url:
        print("PostgreSQL skipped: no --postgres-url or CRM_TEST_POSTGRES_URL")
        engines = ["sqlite"]
    outcomes = [
        run(engine, args.clients, args.duration, args.import_rows, args.postgres_url, args.think_ms / 1000)
        for engine in engines
    ]
    sys.exit(0 if all(outcomes) else 1)


if __name__ == "__main__":
    main()
