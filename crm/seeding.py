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
from crm.settings import PROJECT_ROOT

SEEDS_DIR = PROJECT_ROOT / "seeds"


def read_seed(relative: str, root: Path = SEEDS_DIR) -> Any:
    with (root / relative).open(encoding="utf-8") as handle:
        return json.load(handle)


def database_is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(User))


def load_demo(session: Session) -> list[dict[str, Any]]:
    """Load every demo file; returns the demo accounts (email, password, roles) to print."""
    users = read_seed("demo/users.json")
    password_hashes: dict[str, str] = {}
    accounts_out = []
    for entry in users:
        password = entry.get("password", "demo-password")
        # One argon2 hash per distinct password keeps seeding fast.
        password_hash = password_hashes.setdefault(password, hash_password(password))
        accounts.create_user(
            session,
            entry["email"],
            password,
            entry["roles"],
            full_name=entry.get("full_name", ""),
            language=entry.get("language", "en"),
            time_zone=entry.get("time_zone", "Europe/Paris"),
            password_hash=password_hash,
        )
        accounts_out.append({"email": entry["email"], "password": password, "roles": entry["roles"]})
    return accounts_out
