"""Pure rules about an organisation's profile: completeness score, what is missing, and its search text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from anyascii import anyascii

from crm.web.i18n import N_

_NOT_WORD = re.compile(r"[^a-z0-9]+")

# (field, label, weight): what a government needs to know to engage an organisation, heaviest first.
COMPLETENESS_FIELDS: tuple[tuple[str, str, int], ...] = (
    ("description", N_("Description"), 10),
    ("sectors", N_("Sectors"), 10),
    ("residence_city", N_("City of residence"), 6),
    ("capital_kinds", N_("Kinds of diaspora capital"), 8),
    ("audiences", N_("Audiences served"), 8),
    ("email", N_("Email"), 6),
    ("website", N_("Website"), 4),
    ("phone", N_("Phone"), 4),
    ("founded_year", N_("Founding year"), 4),
    ("legal_status", N_("Legal status"), 4),
    ("languages", N_("Languages"), 4),
    ("members_count", N_("Number of members"), 6),
    ("budget_band", N_("Budget band"), 6),
    ("skills_offered", N_("Skills offered"), 6),
    ("contribution_modes", N_("Willingness to contribute"), 6),
    ("acronym", N_("Acronym"), 2),
    ("initiatives", N_("Diaspora-led initiatives"), 6),
)
TOTAL_WEIGHT = sum(weight for _, _, weight in COMPLETENESS_FIELDS)


@dataclass(frozen=True)
class Completeness:
    score: int
    missing: tuple[str, ...]


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple | set | frozenset):
        return bool(value)
    return True


def completeness(values: Mapping[str, Any]) -> Completeness:
    """Score 0–100 weighted by how much each field matters; `missing` lists labels, heaviest first."""
    earned = 0
    missing: list[tuple[int, str]] = []
    for field, label, weight in COMPLETENESS_FIELDS:
        if _filled(values.get(field)):
            earned += weight
        else:
            missing.append((weight, label))
    ordered = sorted(missing, key=lambda item: -item[0])  # stable: equal weights keep the table's order
    return Completeness(
        score=round(100 * earned / TOTAL_WEIGHT), missing=tuple(label for _, label in ordered)
    )


def fold(text: str | None) -> str:
    """Lowercase ASCII words: accents dropped and other scripts transliterated, so 'Sénégal' finds 'senegal'."""
    if not text:
        return ""
    return _NOT_WORD.sub(" ", anyascii(text).lower()).strip()


def search_text(name: str, acronym: str | None, city: str | None, description: str | None) -> str:
    return " ".join(part for part in (fold(name), fold(acronym), fold(city), fold(description)) if part)


def query_terms(query: str | None, limit: int = 8) -> list[str]:
    """The words of a search box, folded like the indexed text; a few words at most."""
    return [word for word in fold(query).split() if word][:limit]
