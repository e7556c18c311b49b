"""Tests for country code display and free-text country resolution."""

import pytest
from anyascii import anyascii

from crm.organisations.countries import all_countries, country_name, resolve_country


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SN", "SN"),
        ("sn", "SN"),
        (" fr ", "FR"),
        ("SEN", "SN"),
        ("civ", "CI"),
        ("Senegal", "SN"),
        ("Sénégal", "SN"),
        ("senegal", "SN"),
        ("  SÉNÉGAL  ", "SN"),
        ("Cote d'Ivoire", "CI"),
        ("Côte d’Ivoire", "CI"),
        ("cote divoire", "CI"),
        ("Royaume-Uni", "GB"),
        ("Royaume Uni", "GB"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("États-Unis", "US"),
        ("USA", "US"),
        ("Allemagne", "DE"),
        ("Congo-Kinshasa", "CD"),
        ("République démocratique du Congo", "CD"),
        ("Congo, The Democratic Republic of the", "CD"),
        ("Türkiye", "TR"),
    ],
)
def test_codes_and_english_or_french_names_resolve_to_alpha2(text: str, code: str) -> None:
    assert resolve_country(text) == code


@pytest.mark.parametrize("text", ["Atlantis", "", "   ", "XX", "Europe", "Africa"])
def test_unknown_text_and_regions_resolve_to_none(text: str) -> None:
    assert resolve_country(text) is None


def test_country_name_is_localised() -> None:
    assert country_name("SN") == "Senegal"
    assert country_name("SN", "fr") == "Sénégal"
    assert country_name("gb", "fr") == "Royaume-Uni"


def test_country_name_falls_back_to_the_code() -> None:
    assert country_name("XX", "fr") == "XX"
    assert country_name("SN", "not-a-locale") == "SN"


def test_all_countries_lists_every_country_once_sorted_by_localised_name() -> None:
    countries = all_countries("fr")
    codes = [code for code, _ in countries]
    names = [name for _, name in countries]

    assert len(codes) == len(set(codes)) > 240
    assert ("SN", "Sénégal") in countries
    assert names == sorted(names, key=lambda name: anyascii(name).casefold())
    # Accented initials sort with their letter, not after Z.
    assert names.index("Égypte") < names.index("Espagne") < names.index("Finlande")
