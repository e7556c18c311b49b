"""Country codes and names: display in the user's language and resolution of free text typed in imports."""

import re
from functools import cache

import pycountry
from anyascii import anyascii
from babel import Locale, UnknownLocaleError

_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")

# Names people commonly write that neither Babel nor pycountry spell this way.
_ALIASES = {
    "UK": "GB",
    "Great Britain": "GB",
    "Grande-Bretagne": "GB",
    "England": "GB",
    "Angleterre": "GB",
    "DRC": "CD",
    "DR Congo": "CD",
    "Democratic Republic of the Congo": "CD",
    "RDC": "CD",
    "RD Congo": "CD",
    "République démocratique du Congo": "CD",
    "République du Congo": "CG",
    "Ivory Coast": "CI",
}


def match_key(text: str) -> str:
    """Fold text for lookups: ASCII transliteration, lowercase, letters and digits only."""
    return _NOT_ALPHANUMERIC.sub("", anyascii(text).lower())


@cache
def _territories(locale: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(locale.replace("-", "_")).territories)
    except (UnknownLocaleError, ValueError):
        return {}


class Labels(dict[str, str]):
    """Code → label; an unknown code reads as itself (templates look labels up with [], the cheapest call)."""

    def __missing__(self, code: str) -> str:
        return code


@cache
def country_names(locale: str) -> Labels:
    """Every country's name in `locale`, by upper-case alpha-2 code."""
    return Labels(_territories(locale))


def country_name(code: str, locale: str = "en") -> str:
    """Return the name of the country with ISO alpha-2 `code` in `locale`, or the code if unknown."""
    return _territories(locale).get(code.upper(), code)


@cache
def _codes() -> tuple[dict[str, str], dict[str, str]]:
    alpha2 = {country.alpha_2: country.alpha_2 for country in pycountry.countries}
    alpha3 = {country.alpha_3: country.alpha_2 for country in pycountry.countries}
    return alpha2, alpha3


@cache
def _names() -> dict[str, str]:
    names: dict[str, str] = {}
    # setdefault keeps the first claim, so official spellings win over looser ones listed later.
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            if value := getattr(country, attribute, None):
                names.setdefault(match_key(value), country.alpha_2)
    alpha2, _ = _codes()
    for locale in ("en", "fr"):
        for code, name in _territories(locale).items():
            if code in alpha2:
                names.setdefault(match_key(name), code)
    for alias, code in _ALIASES.items():
        names.setdefault(match_key(alias), code)
    return names


def resolve_country(text: str) -> str | None:
    """Resolve an alpha-2 or alpha-3 code, or an English or French country name, to an alpha-2 code."""
    stripped = text.strip()
    alpha2, alpha3 = _codes()
    code = stripped.upper()
    if code in alpha2:
        return code
    if code in alpha3:
        return alpha3[code]
    return _names().get(match_key(stripped)) if stripped else None


def all_countries(locale: str) -> list[tuple[str, str]]:
    """Return (alpha-2 code, localised name) pairs for every country, sorted by name for select boxes."""
    alpha2, _ = _codes()
    pairs = [(code, country_name(code, locale)) for code in alpha2]
    return sorted(pairs, key=lambda pair: anyascii(pair[1]).casefold())
