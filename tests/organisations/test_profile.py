"""The pure profile rules: completeness score and what is missing, and the folded text the search reads."""

from __future__ import annotations

import re
from typing import Any

import pytest
from anyascii import anyascii

from crm.organisations.profile import (
    COMPLETENESS_FIELDS,
    TOTAL_WEIGHT,
    Completeness,
    completeness,
    fold,
    query_terms,
    search_text,
)

FULL: dict[str, Any] = {
    "description": "Tutoring for pupils.",
    "sectors": ["education"],
    "residence_city": "Lyon",
    "capital_kinds": ["social"],
    "audiences": ["youth"],
    "email": "bureau@asl.example.org",
    "website": "https://asl.example.org",
    "phone": "+33 4 72 00 00 00",
    "founded_year": 2008,
    "legal_status": "registered_association",
    "languages": ["fr"],
    "members_count": 140,
    "budget_band": "10k_50k",
    "skills_offered": ["tutoring"],
    "contribution_modes": ["skills"],
    "acronym": "ASL",
    "initiatives": [object()],
}
WEIGHTS = {field: weight for field, _, weight in COMPLETENESS_FIELDS}
LABELS = {field: label for field, label, _ in COMPLETENESS_FIELDS}


# Completeness ------------------------------------------------------------------------------------------


def test_the_weights_add_up_to_one_hundred() -> None:
    assert TOTAL_WEIGHT == 100


def test_the_fields_scored_are_exactly_those_of_a_full_profile() -> None:
    assert set(WEIGHTS) == set(FULL)


def test_a_full_profile_scores_one_hundred_with_nothing_missing() -> None:
    assert completeness(FULL) == Completeness(score=100, missing=())


def test_an_empty_profile_scores_zero_and_misses_everything() -> None:
    result = completeness({})

    assert result.score == 0
    assert set(result.missing) == set(LABELS.values())


@pytest.mark.parametrize("field", sorted(WEIGHTS))
def test_each_missing_field_costs_its_weight_and_is_named(field: str) -> None:
    result = completeness({**FULL, field: None})

    assert result.score == 100 - WEIGHTS[field]
    assert result.missing == (LABELS[field],)


@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n", [], (), set()])
def test_blank_values_count_as_missing(blank: Any) -> None:
    assert completeness({**FULL, "description": blank}).missing == ("Description",)
    assert completeness({**FULL, "sectors": blank}).missing == ("Sectors",)


@pytest.mark.parametrize("value", [0, False, "0", ["x"]])
def test_a_zero_or_a_no_is_an_answer_not_a_gap(value: Any) -> None:
    assert completeness({**FULL, "members_count": value}).score == 100


def test_unknown_keys_do_not_change_the_score() -> None:
    assert completeness({**FULL, "favourite_colour": "blue"}).score == 100


def test_the_score_is_rounded_to_a_whole_percentage() -> None:
    result = completeness({"acronym": "ASL", "description": "x"})

    assert result.score == 12
    assert isinstance(result.score, int)


def test_missing_fields_are_listed_in_a_stable_order() -> None:
    assert completeness({}).missing == completeness({}).missing
    assert completeness({}).missing[:2] == ("Description", "Sectors")


def test_what_is_missing_is_listed_heaviest_first() -> None:
    missing = completeness({}).missing
    by_label = {label: weight for _, label, weight in COMPLETENESS_FIELDS}

    weights = [by_label[label] for label in missing]

    assert weights == sorted(weights, reverse=True)


# Folding and search text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Sénégalais", "senegalais"),
        ("ASSOCIATION DES SÉNÉGALAIS", "association des senegalais"),
        ("Côte d'Ivoire", "cote d ivoire"),
        ("Diaspora-led initiatives!", "diaspora led initiatives"),
        ("  spaces   everywhere  ", "spaces everywhere"),
        ("Straße", "strasse"),
        ("Ørsted Ærø", "orsted aero"),
        ("جمعية", "jm yh"),
        ("Ελλάδα", "ellada"),
        ("東京", "dongjing"),
        ("L'Union & Co.", "l union co"),
        ("", ""),
        (None, ""),
    ],
)
def test_folding_drops_accents_case_and_punctuation_and_transliterates_other_scripts(
    text: str | None, folded: str
) -> None:
    assert fold(text) == folded


def test_search_text_joins_name_acronym_city_and_description_folded() -> None:
    assert search_text("Association des Sénégalais", "ASL", "Lyon", "Soutien scolaire.") == (
        "association des senegalais asl lyon soutien scolaire"
    )


def test_search_text_skips_what_is_not_there() -> None:
    assert search_text("Mali Health", None, "", None) == "mali health"


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("senegalais lyon", ["senegalais", "lyon"]),
        ("Sénégalais", ["senegalais"]),
        ('"sene*" AND (lyon) -paris', ["sene", "and", "lyon", "paris"]),
        ("sene:* & !lyon | x", ["sene", "lyon", "x"]),
        ("NEAR(a b)", ["near", "a", "b"]),
        ("", []),
        (None, []),
        ("   ", []),
        ("*** ((( ---", []),
        ("جمعية", ["jm", "yh"]),
    ],
)
def test_query_terms_are_plain_folded_words_whatever_was_typed(query: str | None, terms: list[str]) -> None:
    assert query_terms(query) == terms


def test_query_terms_keep_the_first_eight_words() -> None:
    assert query_terms("one two three four five six seven eight nine ten") == [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
    ]
    assert query_terms("a b c", limit=2) == ["a", "b"]


def test_query_terms_find_the_search_text_they_were_folded_like() -> None:
    indexed = search_text("Association des Sénégalais de Lyon", "ASL", "Lyon", None).split()

    for term in query_terms("SÉNÉGAL asl"):
        assert any(word.startswith(term) for word in indexed)


@pytest.mark.parametrize(
    "text",
    [
        "Sénégalais de Lyon",
        "Ἑλληνική Κοινότητα",
        "Общество русских",
        "北京协会",
        "جمعية المغاربة",
        "Œuvre ½ Straße",
    ],
)
def test_folding_transliterates_exactly_as_anyascii_does(text: str) -> None:
    expected = re.sub(r"[^a-z0-9]+", " ", anyascii(text).lower()).strip()
    # Twice: the first call learns the characters, the second reads them from what was learnt.
    assert fold(text) == fold(text) == expected
