"""Time the import of a large generated organisation list (default 100,000 rows) into a fresh database.

Usage: python bench/import_bench.py [--rows 100000] [--database-url URL] [--seed 1] [--profile]

Without --database-url a temporary SQLite file is created, migrated and given the reference data. A URL must
name a throw-away database: it is migrated, and the generated organisations are committed to it (any already
there take part in the duplicate checks, and so in the timing).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import pstats
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm import seeding  # noqa: E402
from crm.db import migrate  # noqa: E402
from crm.db.engine import make_engine, make_sessionmaker  # noqa: E402
from crm.organisations.imports.writer import import_organisations  # noqa: E402

HEADER = [
    "Name",
    "Acronym",
    "Country of residence",
    "City",
    "Country of origin",
    "Founded",
    "Legal status",
    "Sectors",
    "Capital kinds",
    "Audiences",
    "Languages",
    "Members",
    "Email",
    "Website",
    "Description",
]
# Residence countries and their cities, weighted roughly like real diaspora settlement.
RESIDENCES = {
    "France": ["Paris", "Lyon", "Marseille", "Lille", "Bordeaux", "Toulouse", "Montreuil", "Nantes"],
    "Belgique": ["Bruxelles", "Anvers", "Liège", "Gand", "Charleroi"],
    "Canada": ["Montréal", "Toronto", "Ottawa", "Québec", "Vancouver"],
    "United States": ["New York", "Washington", "Atlanta", "Houston", "Chicago", "Boston"],
    "United Kingdom": ["London", "Manchester", "Birmingham", "Leeds"],
    "Allemagne": ["Berlin", "Hamburg", "Köln", "Frankfurt"],
    "Italy": ["Roma", "Milano", "Torino", "Brescia"],
    "Espagne": ["Madrid", "Barcelona", "Valencia"],
    "Suisse": ["Genève", "Lausanne", "Zurich"],
    "Sénégal": ["Dakar", "Thiès"],
}
ORIGINS = {
    "Sénégal": "Sénégalais",
    "Mali": "Maliens",
    "Côte d'Ivoire": "Ivoiriens",
    "Cameroun": "Camerounais",
    "RDC": "Congolais",
    "Haïti": "Haïtiens",
    "Maroc": "Marocains",
    "Tunisie": "Tunisiens",
    "Nigeria": "Nigerians",
    "Ghana": "Ghanaians",
    "Guinée": "Guinéens",
    "Bénin": "Béninois",
    "Togo": "Togolais",
    "Comores": "Comoriens",
    "Burkina Faso": "Burkinabè",
}
KINDS = [
    "Association",
    "Collectif",
    "Réseau",
    "Fondation",
    "Union",
    "Amicale",
    "Cercle",
    "Fédération",
    "Network",
    "Alliance",
    "Forum",
    "Initiative",
]
PURPOSES = [
    "Entraide",
    "Solidarité",
    "Développement",
    "Jeunesse",
    "Femmes",
    "Santé",
    "Éducation",
    "Culture",
    "Innovation",
    "Entrepreneurs",
    "Étudiants",
    "Médecins",
    "Ingénieurs",
    "Artistes",
    "Agriculteurs",
]
SYLLABLES = [
    "ka",
    "lou",
    "mba",
    "ndi",
    "aye",
    "so",
    "ko",
    "ta",
    "fa",
    "ra",
    "ba",
    "dji",
    "mo",
    "sa",
    "ni",
    "ou",
]
SECTORS = [
    "Education",
    "Santé",
    "Health",
    "Culture",
    "Advocacy",
    "Plaidoyer",
    "Humanitarian aid",
    "Environment",
]
CAPITALS = ["Social capital", "Capital humain", "Economic capital", "Cultural capital"]
AUDIENCES = ["Youth", "Femmes", "Students", "Entrepreneurs"]
LANGUAGES = ["fr", "en", "Wolof", "Bambara", "arabe", "Lingala", "fr, en"]
STATUSES = ["Association", "Foundation", "Coopérative", "Groupe informel", "Réseau", ""]


def proper_name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def organisation_row(rng: random.Random, number: int) -> list[str]:
    residence = rng.choice(list(RESIDENCES))
    city = rng.choice(RESIDENCES[residence])
    origin, demonym = rng.choice(list(ORIGINS.items()))
    shape = rng.random()
    if shape < 0.4:
        name = f"{rng.choice(KINDS)} {proper_name(rng)} des {demonym} de {city}"
    elif shape < 0.7:
        name = f"{rng.choice(KINDS)} {rng.choice(PURPOSES)} {proper_name(rng)} {city}"
    else:
        name = f"{proper_name(rng)} {proper_name(rng)} {rng.choice(PURPOSES)}"
    acronym = "".join(word[0] for word in name.split() if word[0].isupper())[:10]
    return [
        name,
        acronym,
        residence,
        city,
        origin,
        str(rng.randint(1960, 2024)),
        rng.choice(STATUSES),
        " | ".join(rng.sample(SECTORS, rng.randint(0, 3))),
        ", ".join(rng.sample(CAPITALS, rng.randint(0, 2))),
        "; ".join(rng.sample(AUDIENCES, rng.randint(0, 2))),
        rng.choice(LANGUAGES),
        str(rng.randint(5, 5000)) if rng.random() < 0.7 else "",
        f"contact{number}@example.org" if rng.random() < 0.6 else "",
        f"www.org{number}.example.org" if rng.random() < 0.3 else "",
        f"{name}: {rng.choice(PURPOSES).lower()} et soutien aux familles." if rng.random() < 0.5 else "",
    ]


def write_csv(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for number in range(1, rows + 1):
            writer.writerow(organisation_row(rng, number))


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory of this process, or (RUSAGE_CHILDREN) of the largest finished child process."""
    # ru_maxrss is in kilobytes on Linux and bytes on macOS.
    peak = resource.getrusage(who).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def cpu_seconds_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--profile", action="store_true", help="Print the functions the import spends most in."
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        url = args.database_url or f"sqlite:///{directory / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        session = make_sessionmaker(engine)()
        seeding.load_reference(session)
        session.commit()

        path = directory / "organisations.csv"
        started = time.perf_counter()
        write_csv(path, args.rows, args.seed)
        print(
            f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        rss_before = peak_rss_mb()

        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        # CPU time as well: on a shared machine it varies less than the wall time does.
        cpu_started = time.process_time()
        children_cpu_started = cpu_seconds_of_children()
        with path.open("rb") as handle:
            if profiler:
                profiler.enable()
            report = import_organisations(
                session, handle, path.name, dry_run=False, valid_only=True, source="benchmark"
            )
            session.commit()
            if profiler:
                profiler.disable()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        # A large import checks duplicates in a second process (dedupe.StreamCheck), alongside the first.
        children_cpu = cpu_seconds_of_children() - children_cpu_started

        print(
            f"read {report.rows_read:,}, created {report.created:,}, already imported "
            f"{report.already_imported:,}, rejected {report.rejected:,}, possible duplicates "
            f"{report.possible_duplicates:,}"
        )
        print(
            f"import: {seconds:.1f} s, {report.rows_read / seconds:,.0f} rows/s (CPU {cpu_seconds:.1f} s, and "
            f"{children_cpu:.1f} s in the duplicate-check process)"
        )
        print(
            f"peak RSS: {peak_rss_mb():.0f} MB (before the import: {rss_before:.0f} MB); duplicate-check process: "
            f"{peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        session.close()
        engine.dispose()


if __name__ == "__main__":
    main()
