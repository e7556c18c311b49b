"""Run every benchmark on SQLite and, when CRM_BENCH_POSTGRES_URL is set, on PostgreSQL; print all figures.

Usage: python bench/run_all.py [--regenerate] [--organisations 100000] [--contacts 200000] [--queries 300]
                               [--duration 10] [--skip-load] [--skip-import] [--skip-assessments]
                               [--drop-postgres]

SQLite: bench/out/bench.db (gitignored). PostgreSQL: a database `crm_bench` created next to the one
CRM_BENCH_POSTGRES_URL names (e.g. postgresql://postgres@127.0.0.1:5432/test), through an AUTOCOMMIT admin
connection to that URL. Data is generated only when missing or of another size, or with --regenerate;
the PostgreSQL database is kept for the next run unless --drop-postgres. Steps run one after the other
(2 cores: nothing heavy in parallel): generate.py, directory_bench.py, load_bench.py, import_bench.py,
assessments_bench.py (its own data: 10,000 organisations with assessments; a missed target is reported, and
the next steps still run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import benchlib
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crm.db import migrate
from crm.db.engine import driver_url

BENCH = Path(__file__).resolve().parent
PG_DATABASE = "crm_bench"
PG_IMPORT_DATABASE = "crm_bench_import"


def run(script: str, *args: str, summaries: list[str], label: str, check: bool = True) -> None:
    command = [sys.executable, str(BENCH / script), *args]
    print(f"\n$ python bench/{script} {' '.join(args)}", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        if line.startswith(("SUMMARY", "elapsed:", "import:", "peak RSS")):
            summaries.append(f"[{label}] {script}: {line.strip()}")
    if process.wait() != 0:
        if check:
            raise SystemExit(f"{script} failed with exit code {process.returncode}")
        print(f"({script} exited with code {process.returncode})")
    print(f"({script}: {time.perf_counter() - started:.0f} s)")


def admin_execute(admin_url: str, *statements: str) -> None:
    engine = create_engine(driver_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def recreate_pg(admin_url: str, name: str) -> None:
    admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def drop_pg(admin_url: str, name: str) -> None:
    admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def ready(url: str, organisations: int, contacts: int) -> bool:
    counts = benchlib.generated_counts(url)
    if counts is None:
        return False
    if counts != (organisations, contacts, True):
        print(f"{url}: holds {counts[0]:,} organisations and {counts[1]:,} contacts; regenerating")
        return False
    # Data kept from an earlier run gets the migrations added since, as a deployed database would.
    migrate.upgrade(url)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regenerate", action="store_true", help="generate the data again even if present")
    parser.add_argument("--organisations", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=300, help="directory_bench.py query specs")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-assessments", action="store_true")
    parser.add_argument("--drop-postgres", action="store_true", help="drop crm_bench at the end")
    args = parser.parse_args()

    benchlib.OUT_DIR.mkdir(parents=True, exist_ok=True)
    targets = [("SQLite", f"sqlite:///{benchlib.OUT_DIR / 'bench.db'}")]
    admin_url = os.environ.get("CRM_BENCH_POSTGRES_URL", "").strip()
    if admin_url:
        targets.append(("PostgreSQL", pg_url(admin_url, PG_DATABASE)))
    else:
        print("CRM_BENCH_POSTGRES_URL is not set: PostgreSQL skipped")
    summaries: list[str] = []
    started = time.perf_counter()
    for label, url in targets:
        print(f"\n======== {label} ========", flush=True)
        if args.regenerate or not ready(url, args.organisations, args.contacts):
            if label == "SQLite":
                for suffix in ("", "-wal", "-shm"):
                    Path(str(benchlib.OUT_DIR / "bench.db") + suffix).unlink(missing_ok=True)
            else:
                recreate_pg(admin_url, PG_DATABASE)
            run(
                "generate.py",
                "--database-url",
                url,
                "--organisations",
                str(args.organisations),
                "--contacts",
                str(args.contacts),
                summaries=summaries,
                label=label,
            )
        else:
            print(
                f"data already generated in {url} ({args.organisations:,} organisations); --regenerate to redo"
            )
        run(
            "directory_bench.py",
            "--database-url",
            url,
            "--queries",
            str(args.queries),
            summaries=summaries,
            label=label,
        )
        if not args.skip_load:
            run(
                "load_bench.py",
                "--database-url",
                url,
                "--duration",
                str(args.duration),
                summaries=summaries,
                label=label,
            )
        if not args.skip_import and (BENCH / "import_bench.py").exists():
            if label == "SQLite":
                run("import_bench.py", summaries=summaries, label=label)
            else:
                recreate_pg(admin_url, PG_IMPORT_DATABASE)
                try:
                    run(
                        "import_bench.py",
                        "--database-url",
                        pg_url(admin_url, PG_IMPORT_DATABASE),
                        summaries=summaries,
                        label=label,
                    )
                finally:
                    drop_pg(admin_url, PG_IMPORT_DATABASE)
        if not args.skip_assessments:
            # PostgreSQL: assessments_bench.py reads CRM_BENCH_POSTGRES_URL from the environment.
            run(
                "assessments_bench.py",
                "--engine",
                "sqlite" if label == "SQLite" else "postgresql",
                *(["--regenerate"] if args.regenerate else []),
                summaries=summaries,
                label=label,
                check=False,
            )
    if admin_url and args.drop_postgres:
        drop_pg(admin_url, PG_DATABASE)
        print(f"dropped {PG_DATABASE}")
    print(f"\n======== summary ({time.perf_counter() - started:.0f} s) ========")
    for line in summaries:
        print(line)


if __name__ == "__main__":
    main()
