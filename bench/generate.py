"""Fill a database with a realistic, deterministic directory: organisations, their links, contacts, bench users.

Usage: python bench/generate.py --database-url URL [--organisations 100000] [--contacts 200000] [--seed 1]

The database is migrated first (crm.db.migrate.upgrade) and given the reference vocabularies
(crm.seeding.load_reference); it must hold no organisation yet. Rows go in with SQLAlchemy Core
`connection.execute(insert(table), batch_of_dicts)` inside one transaction, so the ORM audit log is not
written for them. The derived columns (search_text, name_key, completeness, serves_vulnerable) come from the same function as
crm.organisations.service.refresh_derived: profile.derived_columns. Two users are created, both with the password in benchlib:
a liaison officer (sees everything) and the representative of one organisation that did not consent.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import benchlib
from anyascii import anyascii
from sqlalchemy import Connection, Integer, Table, cast, func, insert, select, text
from sqlalchemy.engine import make_url
from wordlists import (
    ADJECTIVES,
    ANGLOPHONE,
    AUDIENCE_WEIGHTS,
    CAPITAL_WEIGHTS,
    CAUSES,
    DESCRIPTIONS,
    DOMAINS,
    FIRST_NAMES,
    HISPANOPHONE,
    KINDS,
    LANGUAGE_SETS,
    LAST_NAMES,
    LUSOPHONE,
    ORIGIN_WORDS,
    ORIGINS,
    RESIDENCES,
    ROLE_TITLES,
    SECTOR_WEIGHTS,
    SKILLS,
    STOP_WORDS,
    SYLLABLES,
)

from crm import seeding
from crm.accounts import service as accounts
from crm.accounts.passwords import hash_password
from crm.accounts.roles import Role
from crm.db import migrate
from crm.db.engine import make_engine, make_sessionmaker
from crm.organisations.models import (
    Audience,
    BudgetBand,
    CapitalKind,
    ConsentStatus,
    Contact,
    ContributionMode,
    Initiative,
    LegalStatus,
    Organisation,
    OrganisationAudience,
    OrganisationCapitalKind,
    OrganisationSector,
    Provenance,
    Sector,
)
from crm.organisations.profile import derived_columns

BATCH = 5_000
END = datetime(2026, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=730)


def weighted_sample(rng: random.Random, weights: dict[str, float], count: int) -> list[str]:
    """`count` distinct keys drawn by weight."""
    pool = dict(weights)
    chosen: list[str] = []
    for _ in range(min(count, len(pool))):
        key = rng.choices(list(pool), weights=list(pool.values()))[0]
        chosen.append(key)
        del pool[key]
    return chosen


def proper_name(rng: random.Random) -> str:
    if rng.random() < 0.45:
        return rng.choice(ORIGIN_WORDS)
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def naming_language(rng: random.Random, residence: str, origin: str) -> str:
    if origin in LUSOPHONE and rng.random() < 0.5:
        return "pt"
    if origin in HISPANOPHONE and rng.random() < 0.5:
        return "es"
    if origin in ANGLOPHONE and rng.random() < 0.4:
        return "en"
    if rng.random() < 0.1:
        return rng.choice(("fr", "en", "es", "pt"))
    return rng.choice(RESIDENCES[residence][1].split())


def organisation_name(rng: random.Random, lang: str, city: str, origin: str) -> str:
    _weight, words, towns = ORIGINS[origin]
    _country_fr, people_fr, _country_en, demonym_en, people_es, people_pt = words
    kind = rng.choice(KINDS[lang])
    cause = rng.choice(CAUSES[lang])
    shape = rng.random()
    if lang == "fr":
        if shape < 0.35:
            return f"{kind} des {people_fr} de {city}"
        if shape < 0.55:
            return f"{kind} des Ressortissants de {rng.choice(towns)} à {city}"
        if shape < 0.75:
            return f"{kind} {proper_name(rng)} pour {cause}"
        if shape < 0.88:
            return f"{kind} {rng.choice(ADJECTIVES[lang])} {proper_name(rng)}"
        first, last = person(rng)
        return f"Fondation {first} {last}"
    if lang == "en":
        if shape < 0.35:
            return f"{demonym_en} {kind} of {city}"
        if shape < 0.55:
            return f"{proper_name(rng)} {cause} {kind}"
        if shape < 0.75:
            return f"Friends of {rng.choice(towns)} {kind}"
        if shape < 0.9:
            return f"{rng.choice(ADJECTIVES[lang])} {demonym_en} {kind} {city}"
        first, last = person(rng)
        return f"{first} {last} Foundation"
    if lang == "es":
        if shape < 0.4:
            return f"{kind} de {people_es.capitalize()} en {city}"
        if shape < 0.7:
            return f"{kind} {proper_name(rng)} para {cause}"
        return f"{kind} {rng.choice(ADJECTIVES[lang])} {rng.choice(towns)}"
    if shape < 0.4:
        return f"{kind} dos {people_pt.capitalize()} em {city}"
    if shape < 0.7:
        return f"{kind} {proper_name(rng)} de {cause}"
    return f"{kind} {rng.choice(ADJECTIVES[lang])} {rng.choice(towns)}"


def acronym_for(name: str) -> str:
    letters = [w[0] for w in name.replace("'", " ").replace("-", " ").split() if w.lower() not in STOP_WORDS]
    return anyascii("".join(letters)).upper()[:8]


def slug(name: str, number: int) -> str:
    base = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:18] or "org"
    return f"{base}{number}"


class Generator:
    def __init__(self, seed: int, organisations: int, contacts: int) -> None:
        self.rng = random.Random(seed)
        self.vulnerable = {
            a["code"] for a in seeding.read_seed("reference/audiences.json") if a.get("vulnerable")
        }
        self.organisations = organisations
        self.contacts = contacts
        self.residence_codes = list(RESIDENCES)
        self.residence_weights = [RESIDENCES[c][0] for c in self.residence_codes]
        self.origin_codes = list(ORIGINS)
        self.origin_weights = [ORIGINS[c][0] for c in self.origin_codes]
        start = END - SPAN
        offsets = sorted(self.rng.random() for _ in range(organisations))
        self.created = [start + SPAN * offset for offset in offsets]
        merged_count = organisations // 300
        self.merged = (
            set(self.rng.sample(range(2, organisations + 1), merged_count)) if organisations > 2 else set()
        )

    def organisation(self, number: int) -> dict[str, Any]:
        """One organisation and its links (the dict carries them under `_` keys, stripped before insert)."""
        rng = self.rng
        residence = rng.choices(self.residence_codes, weights=self.residence_weights)[0]
        origin = rng.choices(self.origin_codes, weights=self.origin_weights)[0]
        while origin == residence:
            origin = rng.choices(self.origin_codes, weights=self.origin_weights)[0]
        city = rng.choice(RESIDENCES[residence][2])
        lang = naming_language(rng, residence, origin)
        name = organisation_name(rng, lang, city, origin)
        _weight, words, towns = ORIGINS[origin]
        acronym = acronym_for(name) if rng.random() < 0.6 else None
        if acronym is not None and len(acronym) < 2:
            acronym = None
        description = None
        if rng.random() < 0.6:
            description = DESCRIPTIONS[lang].format(
                name=name,
                people=words[1],
                demonym=words[3],
                people_es=words[4],
                people_pt=words[5],
                city=city,
                cause=rng.choice(CAUSES[lang]).lower(),
                town=rng.choice(towns),
            )
        site = slug(name, number)
        sectors = weighted_sample(rng, SECTOR_WEIGHTS, rng.choices((1, 2, 3), weights=(50, 35, 15))[0])
        capitals = weighted_sample(
            rng, CAPITAL_WEIGHTS, rng.choices((0, 1, 2, 3), weights=(15, 45, 30, 10))[0]
        )
        audiences = weighted_sample(
            rng, AUDIENCE_WEIGHTS, rng.choices((0, 1, 2, 3), weights=(20, 40, 28, 12))[0]
        )
        initiatives = rng.choices((0, 1, 2, 3), weights=(70, 18, 8, 4))[0]
        provenance = rng.choices(list(Provenance), weights=(35, 25, 20, 20))[0]
        created = self.created[number - 1]
        updated = min(created + timedelta(days=rng.expovariate(1 / 60)), END)
        merged = number in self.merged
        row: dict[str, Any] = {
            "id": number,
            "name": name,
            "acronym": acronym,
            "description": description,
            "origin_country": origin,
            "residence_country": residence,
            "residence_city": city if rng.random() < 0.9 else None,
            "founded_year": min(2026, int(2026 - rng.expovariate(1 / 14))) if rng.random() < 0.75 else None,
            "legal_status": rng.choice(list(LegalStatus)).value if rng.random() < 0.8 else None,
            "website": f"https://www.{site}.org" if rng.random() < 0.35 else None,
            "email": (
                (f"contact@{site}.org" if rng.random() < 0.5 else f"{site}@{rng.choice(DOMAINS)}")
                if rng.random() < 0.65
                else None
            ),
            "phone": f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(100000, 999999)}"
            if rng.random() < 0.55
            else None,
            "languages": list(rng.choice(LANGUAGE_SETS)) if rng.random() < 0.7 else [],
            "members_count": int(rng.lognormvariate(4, 1.3)) + 3 if rng.random() < 0.65 else None,
            "volunteers_count": int(rng.lognormvariate(2.5, 1)) if rng.random() < 0.4 else None,
            "staff_count": rng.randint(0, 40) if rng.random() < 0.25 else None,
            "budget_band": rng.choice(list(BudgetBand)).value if rng.random() < 0.5 else None,
            "skills_offered": rng.sample(SKILLS, rng.randint(1, 4)) if rng.random() < 0.4 else [],
            "contribution_to": f"Projets de {rng.choice(CAUSES['fr']).lower()} à {rng.choice(towns)}"
            if rng.random() < 0.3
            else None,
            "contribution_modes": [m.value for m in rng.sample(list(ContributionMode), rng.randint(1, 3))]
            if rng.random() < 0.45
            else [],
            "provenance": provenance.value,
            "provenance_detail": "Cartographie 2025" if provenance is Provenance.MAPPING_EXERCISE else None,
            "consent_to_share": rng.random() < 0.8,
            "import_key": hashlib.sha256(f"bench-{number}".encode()).hexdigest()
            if provenance is Provenance.PARTNER_IMPORT and not merged
            else None,
            "merged_into_id": self._survivor(number) if merged else None,
            "version": 1,
            "created_at": created,
            "updated_at": updated,
        }
        # What refresh_derived stores (the same function, the same inputs).
        links = {"sectors": sectors, "capital_kinds": capitals, "audiences": audiences}
        row.update(derived_columns({**row, **links}, initiatives, self.vulnerable))
        row["_sectors"] = sectors
        row["_capitals"] = capitals
        row["_audiences"] = audiences
        row["_initiatives"] = [
            {
                "organisation_id": number,
                "title": f"{rng.choice(CAUSES['fr']).capitalize()} à {rng.choice(towns)}",
                "sector_code": rng.choice(sectors),
                "country": origin,
                "start_year": rng.randint(2005, 2025),
                "end_year": None,
            }
            for _ in range(initiatives)
        ]
        return row

    def _survivor(self, number: int) -> int:
        while True:
            candidate = self.rng.randint(1, number - 1)
            if candidate not in self.merged:
                return candidate

    def contact(self, number: int, organisation_id: int) -> dict[str, Any]:
        rng = self.rng
        first, last = person(rng)
        consent = rng.choices(list(ConsentStatus), weights=(55, 30, 10, 5))[0]
        created = min(self.created[organisation_id - 1] + timedelta(days=rng.expovariate(1 / 30)), END)
        email_name = "".join(
            ch for ch in f"{first}.{last}".lower() if ch.isascii() and (ch.isalnum() or ch == ".")
        )
        return {
            "id": number,
            "organisation_id": organisation_id,
            "partner_id": None,
            "full_name": f"{first} {last}",
            "role_title": rng.choice(ROLE_TITLES),
            "email": f"{email_name}{number}@{rng.choice(DOMAINS)}" if rng.random() < 0.8 else None,
            "phone": f"+{rng.randint(1, 99)} {rng.randint(600, 799)} {rng.randint(100000, 999999)}"
            if rng.random() < 0.6
            else None,
            "consent": consent.value,
            "consent_date": (created.date() if consent is not ConsentStatus.PENDING else None),
            "version": 1,
            "created_at": created,
            "updated_at": created,
        }


def batches(items: Sequence[dict[str, Any]], size: int = BATCH) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_all(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    for chunk in batches(rows):
        conn.execute(insert(table), chunk)


def fill(url: str, organisations: int, contacts: int, seed: int) -> dict[str, int]:
    generator = Generator(seed, organisations, contacts)
    engine = make_engine(url)
    dialect = engine.dialect.name
    org_table = Organisation.__table__
    link_tables = {
        "_sectors": (OrganisationSector.__table__, "sector_code"),
        "_capitals": (OrganisationCapitalKind.__table__, "capital_kind_code"),
        "_audiences": (OrganisationAudience.__table__, "audience_code"),
    }
    totals = {"organisations": 0, "initiatives": 0, "contacts": 0, "links": 0}
    started = time.perf_counter()
    with engine.begin() as conn:
        existing = conn.scalar(select(func.count()).select_from(org_table)) or 0
        if existing:
            sys.exit(f"refusing to generate: the database already holds {existing:,} organisations")
        for block_start in range(1, organisations + 1, BATCH):
            block = [
                generator.organisation(n)
                for n in range(block_start, min(block_start + BATCH, organisations + 1))
            ]
            links: dict[str, list[dict[str, Any]]] = {key: [] for key in link_tables}
            initiatives: list[dict[str, Any]] = []
            for row in block:
                for key, (_table, column) in link_tables.items():
                    links[key].extend({"organisation_id": row["id"], column: code} for code in row.pop(key))
                initiatives.extend(row.pop("_initiatives"))
            conn.execute(insert(org_table), block)
            for key, (table, _column) in link_tables.items():
                insert_all(conn, table, links[key])
                totals["links"] += len(links[key])
            if initiatives:
                conn.execute(insert(Initiative.__table__), initiatives)
            totals["organisations"] += len(block)
            totals["initiatives"] += len(initiatives)
        print(f"  organisations, links and initiatives: {time.perf_counter() - started:.1f} s", flush=True)

        live = [n for n in range(1, organisations + 1) if n not in generator.merged]
        owners = sorted(generator.rng.choice(live) for _ in range(contacts))
        for block_start in range(0, contacts, BATCH):
            block = [
                generator.contact(n + 1, owners[n])
                for n in range(block_start, min(block_start + BATCH, contacts))
            ]
            conn.execute(insert(Contact.__table__), block)
            totals["contacts"] += len(block)
        print(f"  contacts: {time.perf_counter() - started:.1f} s", flush=True)

        if dialect == "postgresql":
            # Explicit ids leave the sequences behind; the app must be able to insert afterwards.
            for table in ("organisations", "contacts", "initiatives"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
    if dialect == "postgresql":
        # VACUUM too: it sets the visibility map that index-only scans need, as autovacuum would do soon
        # after a load (and this benchmark must not depend on whether autovacuum is on or has run yet).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return totals


def create_users(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    session = make_sessionmaker(engine)()
    session.info["actor_id"] = None
    try:
        password_hash = hash_password(benchlib.PASSWORD)
        officer = accounts.create_user(
            session,
            benchlib.OFFICER_EMAIL,
            benchlib.PASSWORD,
            [Role.LIAISON_OFFICER],
            full_name="Bench Officer",
            password_hash=password_hash,
        )
        # The representative of an organisation that did not consent: the directory must still show it to them.
        organisation_id = session.scalar(
            select(Organisation.id)
            .where(Organisation.consent_to_share.is_(False), Organisation.merged_into_id.is_(None))
            .order_by(Organisation.id)
            .limit(1)
        )
        representative = accounts.create_user(
            session,
            benchlib.REPRESENTATIVE_EMAIL,
            benchlib.PASSWORD,
            [Role.ORG_REPRESENTATIVE],
            full_name="Bench Representative",
            password_hash=password_hash,
        )
        representative.organisation_id = organisation_id
        session.commit()
        return officer.id, representative.id, organisation_id or 0
    finally:
        session.close()
        engine.dispose()


def check(url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            indexed = conn.scalar(text("SELECT count(*) FROM organisations_fts"))
            matches = conn.scalar(
                text("SELECT count(*) FROM organisations_fts WHERE organisations_fts MATCH :q"),
                {"q": '"sene"*'},
            )
            print(f"FTS5: {indexed:,} rows indexed; MATCH '\"sene\"*' finds {matches:,}")
        else:
            matches = conn.scalar(
                text(
                    "SELECT count(*) FROM organisations "
                    "WHERE to_tsvector('simple', search_text) @@ to_tsquery('simple', 'sene:*')"
                )
            )
            print(f"tsvector: 'sene:*' finds {matches:,}")
        consent = conn.scalar(select(func.avg(cast(Organisation.consent_to_share, Integer))))
        vocab = {
            "sectors": conn.scalar(select(func.count()).select_from(Sector.__table__)),
            "capital kinds": conn.scalar(select(func.count()).select_from(CapitalKind.__table__)),
            "audiences": conn.scalar(select(func.count()).select_from(Audience.__table__)),
        }
        print(f"consent to share: {float(consent or 0):.1%}; reference vocabularies: {vocab}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--organisations", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    sqlite_file = make_url(args.database_url).database if args.database_url.startswith("sqlite") else None
    if sqlite_file:
        # The folder (bench/out/ by default) may not exist yet on a fresh checkout.
        Path(sqlite_file).parent.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(args.database_url)
    engine = make_engine(args.database_url)
    with make_sessionmaker(engine)() as session:
        seeding.load_reference(session)
        session.commit()
    engine.dispose()
    print(f"migrated and reference data loaded: {time.perf_counter() - started:.1f} s", flush=True)

    totals = fill(args.database_url, args.organisations, args.contacts, args.seed)
    officer_id, representative_id, organisation_id = create_users(args.database_url)
    print(
        f"generated {totals['organisations']:,} organisations, {totals['links']:,} sector/capital/audience "
        f"links, {totals['initiatives']:,} initiatives, {totals['contacts']:,} contacts"
    )
    print(f"officer: id {officer_id} ({benchlib.OFFICER_EMAIL})")
    print(
        f"representative: id {representative_id} ({benchlib.REPRESENTATIVE_EMAIL}) "
        f"of organisation {organisation_id} (not consenting)"
    )
    print(f"password of both: {benchlib.PASSWORD}")
    check(args.database_url)
    print(f"elapsed: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
