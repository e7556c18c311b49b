"""Loads reference and demo data from the JSON files under seeds/ into an empty database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.accounts import service as accounts
from crm.accounts.models import User
from crm.accounts.passwords import hash_password
from crm.assessments import service as assessments
from crm.assessments.demo import load_demo_assessments
from crm.assessments.framework import parse_framework
from crm.assessments.models import Framework
from crm.organisations import service as organisations
from crm.organisations import vocabularies
from crm.organisations.models import Initiative, Organisation
from crm.organisations.schemas import ActivityIn, ContactIn, OrganisationIn
from crm.partners.models import PartnerActor
from crm.partners.schemas import PartnerIn
from crm.settings import PROJECT_ROOT
from crm.training.demo import load_demo_training

SEEDS_DIR = PROJECT_ROOT / "seeds"


def read_seed(relative: str, root: Path = SEEDS_DIR) -> Any:
    with (root / relative).open(encoding="utf-8") as handle:
        return json.load(handle)


def database_is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(User))


def load_reference(session: Session) -> None:
    vocabularies.load_reference(
        session,
        sectors=read_seed("reference/sectors.json"),
        capital_kinds=read_seed("reference/capital_kinds.json"),
        audiences=read_seed("reference/audiences.json"),
    )


def load_frameworks(session: Session) -> dict[int, Framework]:
    """The capacity frameworks shipped under seeds/frameworks, older versions first (a version maps to its
    previous one); a file already loaded is left as it is."""
    specs = sorted(
        (parse_framework(path.read_bytes()) for path in (SEEDS_DIR / "frameworks").glob("*.json")),
        key=lambda spec: (spec.key, spec.version),
    )
    return {spec.version: assessments.load_framework(session, spec)[0] for spec in specs}


def demo_logins() -> list[dict[str, Any]]:
    return [
        {"email": u["email"], "password": u.get("password", "demo-password"), "roles": u["roles"]}
        for u in read_seed("demo/users.json")
    ]


def load_demo(session: Session) -> None:
    """Reference data, partners, organisations with their contacts, initiatives and activities, users, then
    frameworks and two or three years of assessments, then peer-training programmes (they read the scores)."""
    load_reference(session)
    for entry in read_seed("demo/partners.json"):
        data = PartnerIn.model_validate({k: v for k, v in entry.items() if k != "key"})
        session.add(PartnerActor(**data.model_dump(mode="json")))
    org_ids: dict[str, int] = {}
    for entry in read_seed("demo/organisations.json"):
        org_ids[entry["key"]] = _load_organisation(session, entry)
    password_hashes: dict[str, str] = {}
    users: dict[str, User] = {}
    for entry in read_seed("demo/users.json"):
        password = entry.get("password", "demo-password")
        user = accounts.create_user(
            session,
            entry["email"],
            password,
            entry["roles"],
            full_name=entry.get("full_name", ""),
            language=entry.get("language", "en"),
            time_zone=entry.get("time_zone", "Europe/Paris"),
            # One argon2 hash per distinct password keeps seeding fast.
            password_hash=password_hashes.setdefault(password, hash_password(password)),
        )
        if entry.get("organisation"):
            user.organisation_id = org_ids[entry["organisation"]]
        users[entry["email"]] = user
    session.flush()
    representatives = {u.organisation_id: u for u in users.values() if u.organisation_id is not None}
    organisations_by_id = {o.id: o for o in session.scalars(select(Organisation).order_by(Organisation.id))}
    rep = users["rep@demo.example.org"]
    load_demo_assessments(
        session,
        [o for o in organisations_by_id.values() if o.merged_into_id is None],
        representatives,
        officer=users["officer@demo.example.org"],
        frameworks=load_frameworks(session),
        password_hash=next(iter(password_hashes.values())),
        featured=organisations_by_id.get(rep.organisation_id or 0),
    )
    load_demo_training(session, org_ids, users, password_hash=next(iter(password_hashes.values())))


def _load_organisation(session: Session, entry: dict[str, Any]) -> int:
    contribution = entry.get("contribution") or {}
    fields = {k: v for k, v in entry.items() if k in OrganisationIn.model_fields}
    fields.update(contribution_to=contribution.get("to"), contribution_modes=contribution.get("modes", []))
    organisation = organisations.create_organisation(session, OrganisationIn.model_validate(fields))
    for item in entry.get("initiatives", []):
        session.add(
            Initiative(
                organisation_id=organisation.id,
                title=item["title"],
                sector_code=item.get("sector"),
                country=item.get("country"),
                start_year=item.get("start_year"),
                end_year=item.get("end_year"),
            )
        )
    for item in entry.get("contacts", []):
        organisations.add_contact(
            session, organisation, ContactIn.model_validate({**item, "role_title": item.get("role")})
        )
    for item in entry.get("activities", []):
        organisations.add_activity(
            session, organisation, None, ActivityIn.model_validate({**item, "occurred_on": item["date"]})
        )
    organisations.refresh_derived(
        organisation,
        len(entry.get("initiatives", [])),
        vocabularies.vocabularies(session).vulnerable_audiences,
    )
    session.flush()
    return organisation.id
