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
