"""Pure rules about an organisation's profile: completeness score, what is missing, and the columns derived
from it (search text, sort key, completeness, serves vulnerable groups) that the service, the importer and
the bench generator all store through `derived_columns`."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
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


# Heaviest first; sorted is stable, so equal weights keep the table's order.
_HEAVIEST_FIRST = tuple(sorted(COMPLETENESS_FIELDS, key=lambda entry: -entry[2]))


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
    missing: list[str] = []
    for field, label, weight in _HEAVIEST_FIRST:
        if _filled(values.get(field)):
            earned += weight
        else:
            missing.append(label)
    return Completeness(score=round(100 * earned / TOTAL_WEIGHT), missing=tuple(missing))


class _AsciiTable(dict[int, str]):
    """str.translate table giving each character's anyascii transliteration, looked up once per character.

    anyascii transliterates character by character, so translating through this table gives the same text
    without its Python loop over every character (an import folds four texts for each of its rows).
    """

    def __missing__(self, codepoint: int) -> str:
        ascii_text = anyascii(chr(codepoint))
        # A file of every Unicode character must not grow the table without bound.
        if len(self) < _ASCII_TABLE_LIMIT:
            self[codepoint] = ascii_text
        return ascii_text


_ASCII_TABLE_LIMIT = 10_000
_ASCII = _AsciiTable()


def to_ascii(text: str) -> str:
    """The same as anyascii(text), faster for repeated characters."""
    return text if text.isascii() else text.translate(_ASCII)


def fold(text: str | None) -> str:
    """Lowercase ASCII words: accents dropped and other scripts transliterated, so 'Sénégal' finds 'senegal'."""
    if not text:
        return ""
    return _NOT_WORD.sub(" ", to_ascii(text).lower()).strip()


def search_text(name: str, acronym: str | None, city: str | None, description: str | None) -> str:
    return " ".join(part for part in (fold(name), fold(acronym), fold(city), fold(description)) if part)


def query_terms(query: str | None, limit: int = 8) -> list[str]:
    """The words of a search box, folded like the indexed text; a few words at most."""
    return [word for word in fold(query).split() if word][:limit]


def name_key(name: str) -> str:
    """What the directory sorts names by: accents and case ignored, so 'Étudiants' comes before 'Sénégalais'
    and 'amicale' next to 'Amicale'. Capped to the column's length."""
    return fold(name)[:NAME_KEY_LENGTH]


NAME_KEY_LENGTH = 200
# The organisation's own columns that completeness weighs (the vocabularies and initiatives come apart).
PROFILE_COLUMNS = (
    "description",
    "residence_city",
    "email",
    "website",
    "phone",
    "founded_year",
    "legal_status",
    "languages",
    "members_count",
    "budget_band",
    "skills_offered",
    "contribution_modes",
    "acronym",
)
DERIVED_COLUMNS = ("search_text", "name_key", "completeness", "serves_vulnerable")


def derived_columns(
    values: Mapping[str, Any], initiatives: int, vulnerable_audiences: Collection[str]
) -> dict[str, Any]:
    """The stored columns computed from an organisation's values (`name`, PROFILE_COLUMNS, and the codes of its
    `sectors`, `capital_kinds` and `audiences`), its number of initiatives and the vulnerable audience codes."""
    profile = {column: values.get(column) for column in PROFILE_COLUMNS}
    profile.update(
        sectors=values.get("sectors") or (),
        capital_kinds=values.get("capital_kinds") or (),
        audiences=values.get("audiences") or (),
        initiatives=(True,) * initiatives,
    )
    return {
        "search_text": search_text(
            values["name"], values.get("acronym"), values.get("residence_city"), values.get("description")
        ),
        "name_key": name_key(values["name"]),
        "completeness": completeness(profile).score,
        "serves_vulnerable": any(code in vulnerable_audiences for code in profile["audiences"]),
    }
