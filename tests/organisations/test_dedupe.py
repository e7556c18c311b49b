"""Tests for organisation name normalisation and the duplicate index."""

import random
import time

import pytest

from crm.organisations import dedupe
from crm.organisations.dedupe import Candidate, DuplicateIndex, DuplicateMatch, StreamCheck, normalise_name

LYON = Candidate(1, "Association des Sénégalais de Lyon", "ASL", "FR")


@pytest.mark.parametrize(
    "variant",
    [
        "ASSOCIATION DES SENEGALAIS DE LYON!",
        "Sénégalais de Lyon (Association)",
        "  association   des   sénégalais de   lyon ",
        "L'Association des Sénégalais de Lyon",
        "Asso. des Sénégalais - Lyon",
    ],
)
def test_spelling_variants_of_a_name_normalise_equal(variant: str) -> None:
    assert (
        normalise_name(variant) == normalise_name("Association des Sénégalais de Lyon") == "senegalais lyon"
    )


def test_generic_words_are_dropped_in_english_and_french() -> None:
    assert normalise_name("The Association of Malians for Development") == "malians development"
    assert normalise_name("Organisation pour le Développement et la Solidarité") == "developpement solidarite"


def test_name_made_only_of_generic_words_is_kept_rather_than_emptied() -> None:
    assert normalise_name("The Association") == "the association"


@pytest.mark.parametrize(
    "name", ["جمعية الجالية السنغالية", "Общество русских в Лионе", "北京协会", "Ἑλληνική Κοινότητα"]
)
def test_non_latin_names_are_transliterated(name: str) -> None:
    normalised = normalise_name(name)

    assert normalised
    assert normalised.isascii()
    assert normalised == normalise_name(name.upper())


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("Ἑλληνική Κοινότητα", "helliniki koinotita"),
        ("Общество русских в Лионе", "obshchestvo russkikh v lione"),
        ("北京协会", "beijingxiehui"),
        ("Ærøskøbing Straße Œuvre ½", "aeroskobing strasse oeuvre 1 2"),
    ],
)
def test_each_character_is_transliterated_as_anyascii_does(name: str, normalised: str) -> None:
    # Twice: the first call learns the characters, the second reads them from what was learnt.
    assert normalise_name(name) == normalise_name(name) == normalised


def test_same_normalised_name_in_the_same_country_scores_100() -> None:
    index = DuplicateIndex([LYON, Candidate(2, "Amicale des Maliens", None, "FR")])

    assert index.find("SÉNÉGALAIS DE LYON (association)", None, "FR") == [
        DuplicateMatch(LYON, 100.0, ("same normalised name",))
    ]


def test_name_with_a_typo_is_a_fuzzy_match() -> None:
    index = DuplicateIndex([LYON])

    (match,) = index.find("Association des Senegalais de Lyonn", None, "FR")

    assert match.existing == LYON
    assert 90 <= match.score < 100
    assert match.reasons == (f"similar name ({round(match.score)}%)",)


def test_rather_different_name_is_not_a_match() -> None:
    index = DuplicateIndex([LYON])

    assert index.find("Association des Maliens de Lyon", None, "FR") == []


def test_same_acronym_adds_a_reason_and_five_points() -> None:
    index = DuplicateIndex([LYON], threshold=80)

    (without_acronym,) = index.find("Senegalais du Grand Lyon", None, "FR")
    (with_acronym,) = index.find("Senegalais du Grand Lyon", "asl", "FR")

    assert with_acronym.score == pytest.approx(without_acronym.score + 5)
    assert with_acronym.reasons == (*without_acronym.reasons, "same acronym")


def test_acronym_bonus_is_capped_at_100() -> None:
    (match,) = DuplicateIndex([LYON]).find("Association des Senegalais de Lyonn", "ASL", "FR")

    assert match.score == 100.0
    assert match.reasons[-1] == "same acronym"


def test_same_acronym_and_same_name_stay_at_100() -> None:
    (match,) = DuplicateIndex([LYON]).find("Sénégalais de Lyon", "ASL", "FR")

    assert match.score == 100.0
    assert match.reasons == ("same normalised name", "same acronym")


def test_same_acronym_lets_a_looser_name_match_from_75_percent() -> None:
    index = DuplicateIndex([LYON])
    looser = "Senegalais du Grand Lyon"

    assert index.find(looser, None, "FR") == []
    (match,) = index.find(looser, "ASL", "FR")
    assert match.existing == LYON
    assert "same acronym" in match.reasons
    assert index.find("Maliens de Marseille", "ASL", "FR") == []


def test_one_letter_acronym_is_no_signal() -> None:
    index = DuplicateIndex([Candidate(1, "Senegalais de Lyon", "A", "FR")])

    assert index.find("Senegalais du Grand Lyon", "a", "FR") == []


def test_different_countries_never_match() -> None:
    index = DuplicateIndex([LYON])

    assert index.find("Association des Sénégalais de Lyon", "ASL", "BE") == []
    assert index.find("Association des Sénégalais de Lyon", "ASL", None) == []


def test_candidates_added_later_are_found() -> None:
    index = DuplicateIndex()
    assert index.find("Sénégalais de Lyon", None, "FR") == []

    index.add(LYON)

    assert [match.existing for match in index.find("Sénégalais de Lyon", None, "fr")] == [LYON]


def test_matches_come_best_first() -> None:
    exact = Candidate(1, "Amicale des Maliens de Paris", None, "FR")
    close = Candidate(2, "Amicale des Maliens de Pariss", None, "FR")
    index = DuplicateIndex([close, exact, Candidate(3, "Unrelated", None, "FR")])

    matches = index.find("Amicale des Maliens de Paris", None, "FR")

    assert [match.existing for match in matches] == [exact, close]
    assert matches[0].score > matches[1].score


def test_equal_scores_rank_the_earliest_indexed_candidate_first() -> None:
    later = Candidate(9, "Amicale des Maliens de Pariss", None, "FR")
    earlier = Candidate(2, "Amicale des Maliens de Pariis", None, "FR")
    index = DuplicateIndex([earlier, later])

    matches = index.find("Amicale des Maliens de Paris", None, "FR")

    assert [match.existing for match in matches] == [earlier, later]
    assert matches[0].score == matches[1].score


def test_same_name_ranks_before_an_equally_scored_match_with_the_same_acronym() -> None:
    near = Candidate(1, "Association des Sénégalais de Lyonn", "ASL", "FR")
    same = Candidate(2, "Sénégalais de Lyon", None, "FR")
    index = DuplicateIndex([near, same])

    matches = index.find("Association des Sénégalais de Lyon", "ASL", "FR")

    assert [(match.existing, match.score) for match in matches] == [(same, 100.0), (near, 100.0)]
    assert matches[0].reasons == ("same normalised name",)


def test_same_words_in_another_order_are_similar_but_not_the_same_name() -> None:
    (match,) = DuplicateIndex([LYON]).find("Lyon Sénégalais", None, "FR")

    assert match.score == 100.0
    assert match.reasons == ("similar name (100%)",)


def test_find_then_add_finds_among_earlier_candidates_then_indexes_the_new_one() -> None:
    index = DuplicateIndex([LYON])
    copy = Candidate("3", "Sénégalais de Lyon", None, "FR")

    assert [match.existing for match in index.find_then_add(copy)] == [LYON]
    assert [match.existing for match in index.find("Sénégalais de Lyon", None, "FR")] == [LYON, copy]


def test_threshold_can_be_lowered() -> None:
    index = DuplicateIndex([LYON], threshold=70)

    assert index.find("Senegalais du Grand Lyon", None, "FR")


PEOPLE = (
    "Sénégalais",
    "Maliens",
    "Ivoiriens",
    "Comoriens",
    "Camerounais",
    "Guinéens",
    "Congolais",
    "Haïtiens",
)
CAUSES = ("jeunes", "femmes", "solidarité", "entraide", "développement", "éducation", "santé", "culture")
PLACES = ("Lyon", "Paris", "Marseille", "Lille", "Bordeaux", "Toulouse", "Nantes", "Bruxelles", "Londres")
COUNTRIES = ("FR", "BE", "GB", "DE", "IT", "ES", "US", "CA", "SN", "ML", "CI", "CM", "NL", "CH", "PT")


def synthetic_name(rng: random.Random) -> str:
    prefix = rng.choice(("Association des", "Collectif des", "Union des", "Amicale des", ""))
    causes = " et ".join(rng.sample(CAUSES, rng.randint(0, 3)))
    return f"{prefix} {rng.choice(PEOPLE)} {causes} de {rng.choice(PLACES)} {rng.randint(1, 999)}"


def test_100000_candidates_are_indexed_and_1000_names_checked_within_seconds() -> None:
    rng = random.Random(7)
    candidates = [Candidate(n, synthetic_name(rng), None, rng.choice(COUNTRIES)) for n in range(100_000)]
    queries = [(synthetic_name(rng), rng.choice(COUNTRIES)) for _ in range(1_000)]
    started = time.perf_counter()

    index = DuplicateIndex(candidates)
    for name, country in queries:
        index.find(name, None, country)

    assert time.perf_counter() - started < 20


# Checking a stream, in a second process past a number of candidates --------------------------------------


def stream() -> list[Candidate]:
    names = [
        "Association des Maliens de Paris",
        "Amicale des Maliens de Paris",
        "Maliens de Paris (association)",
        "Kenya Investors Circle",
        "Kenya Investor Circle",
        "Haitian Teachers of Montreal",
        "Association des Maliens Paris",
        "Club des Sénégalais de Lyon",
        "Senegalais de Lyon",
    ]
    return [Candidate(str(row), name, None, "FR") for row, name in enumerate(names, start=2)]


def checked(candidates: list[Candidate]) -> list[tuple[Candidate, DuplicateMatch]]:
    with StreamCheck([LYON]) as check:
        for candidate in candidates:
            check.check(candidate)
        return check.results()


def test_a_stream_checked_in_a_second_process_gives_the_same_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    in_process = checked(stream())
    assert len(in_process) >= 4  # the stream holds real near-duplicates, of LYON and of earlier rows

    monkeypatch.setattr(dedupe, "PARALLEL_AFTER", 3)
    monkeypatch.setattr(dedupe, "_BATCH", 2)
    assert checked(stream()) == in_process


def test_leaving_a_stream_check_early_stops_its_second_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedupe, "PARALLEL_AFTER", 2)
    with StreamCheck([LYON]) as check:
        for candidate in stream()[:4]:
            check.check(candidate)
        worker = check._worker
        assert worker is not None and worker.is_alive()
    worker.join(timeout=10)
    assert not worker.is_alive()
