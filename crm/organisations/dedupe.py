"""Duplicate detection for organisations: name normalisation and a fast per-country fuzzy index."""

from __future__ import annotations

import multiprocessing
import re
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from crm.organisations.profile import to_ascii
from crm.web.i18n import N_

# Reasons shown in the import report and on the merge page, translated where shown.
SAME_NAME = N_("same normalised name")
SIMILAR_NAME = N_("similar name ({percent}%)")
SAME_ACRONYM = N_("same acronym")

_SIMILAR_NAME = re.compile(re.escape(SIMILAR_NAME).replace(re.escape("{percent}"), r"(?P<percent>\d+)"))


def translated_reason(reason: str, translate: Callable[[str], str]) -> str:
    """A reason as shown to a user: its template translated, then filled in."""
    similar = _SIMILAR_NAME.fullmatch(reason)
    if similar:
        return translate(SIMILAR_NAME).format(percent=similar["percent"])
    return translate(reason)


DEFAULT_THRESHOLD = 90.0
# A shared acronym is good evidence, so a looser name resemblance is enough to flag a pair.
ACRONYM_THRESHOLD = 75.0
ACRONYM_BONUS = 5.0

_WORD = re.compile(r"[a-z0-9]+")

# Words that appear in most names and so say nothing about which organisation is meant.
_GENERIC_WORDS = frozenset(
    {
        # English
        "a",
        "an",
        "and",
        "the",
        "of",
        "for",
        "in",
        "association",
        "associations",
        "organisation",
        "organisations",
        "organization",
        "organizations",
        "ngo",
        # French
        "l",
        "d",
        "la",
        "le",
        "les",
        "de",
        "des",
        "du",
        "au",
        "aux",
        "en",
        "et",
        "pour",
        "assoc",
        "asso",
        "asbl",
        "ong",
    }
)


def normalise_name(name: str) -> str:
    """Reduce an organisation name to lowercase ASCII words without punctuation or generic words."""
    ascii_name = to_ascii(name)
    words = _WORD.findall(ascii_name.lower())
    meaningful = [word for word in words if word not in _GENERIC_WORDS]
    # A name made only of generic words ("The Association") is still better compared than dropped.
    return " ".join(meaningful or words)


def _sort_words(name: str) -> str:
    return " ".join(sorted(name.split()))


def _acronym_key(acronym: str | None) -> str | None:
    key = (acronym or "").strip().casefold()
    return key if len(key) >= 2 else None


@dataclass(frozen=True)
class Candidate:
    """An existing organisation that a new one may duplicate."""

    id: int | str
    name: str
    acronym: str | None
    residence_country: str | None


@dataclass(frozen=True)
class DuplicateMatch:
    """An existing organisation that probably is the one being entered, with why we think so."""

    existing: Candidate
    score: float
    reasons: tuple[str, ...]


# An indexed candidate: id, name, acronym, residence country.
_Entry = tuple[int | str, str, str | None, str | None]


@dataclass
class _Block:
    """The candidates of one residence country; only these are ever compared with each other.

    Kept lean because an import indexes every row: candidates as plain tuples (which the garbage collector
    stops tracking, unlike objects it must walk on every full collection) and positions as arrays of ints.
    """

    candidates: list[_Entry] = field(default_factory=list)
    sorted_names: list[str] = field(default_factory=list)
    by_acronym: dict[str, array[int]] = field(default_factory=dict)
    # For each word: the positions of the candidates whose name has it, and their word-sorted names.
    by_word: dict[str, array[int]] = field(default_factory=dict)
    names_by_word: dict[str, list[str]] = field(default_factory=dict)


RARE_WORDS = 2


def _rarest_words(block: _Block, query: str) -> list[str]:
    """The query's rarest words. Names 90 % alike share whole words, so comparing only the candidates that
    share one of these finds the same pairs as comparing the whole country, at a fraction of the cost (a
    100,000-row import compared every row with every earlier row of its country).

    A word no candidate has counts as the rarest of all: it takes a place and contributes nobody. Among
    equally rare words the earlier one in the name is taken."""
    words = sorted(dict.fromkeys(query.split()), key=lambda word: len(block.by_word.get(word, ())))
    return words[:RARE_WORDS]


class DuplicateIndex:
    """Finds likely duplicates among existing organisations living in the same country.

    Organisations without a residence country are compared only with each other.
    """

    def __init__(self, candidates: Iterable[Candidate] = (), threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._blocks: dict[str | None, _Block] = {}
        for candidate in candidates:
            self.add(candidate)

    @staticmethod
    def _country_key(country: str | None) -> str | None:
        return (country.strip().upper() or None) if country else None

    def add(self, candidate: Candidate) -> None:
        """Index another candidate, e.g. a row just imported, so later rows are checked against it."""
        self._add(candidate, normalise_name(candidate.name))

    def find(self, name: str, acronym: str | None, residence_country: str | None) -> list[DuplicateMatch]:
        """Return the candidates in the same country that look like `name`, best match first."""
        return self._find(normalise_name(name), acronym, residence_country)

    def find_then_add(self, candidate: Candidate) -> list[DuplicateMatch]:
        """Return the matches of a new candidate among those indexed so far, then index it too.

        The same as find() then add(), with the name normalised once (an import does this for every row).
        """
        name = normalise_name(candidate.name)
        matches = self._find(name, candidate.acronym, candidate.residence_country)
        self._add(candidate, name)
        return matches

    def _add(self, candidate: Candidate, name: str) -> None:
        block = self._blocks.setdefault(self._country_key(candidate.residence_country), _Block())
        position = len(block.candidates)
        block.candidates.append(
            (candidate.id, candidate.name, candidate.acronym, candidate.residence_country)
        )
        sorted_name = _sort_words(name)
        block.sorted_names.append(sorted_name)
        for word in set(name.split()):
            _append(block.by_word, word, position)
            block.names_by_word.setdefault(word, []).append(sorted_name)
        if acronym := _acronym_key(candidate.acronym):
            _append(block.by_acronym, acronym, position)

    def _find(self, query: str, acronym: str | None, residence_country: str | None) -> list[DuplicateMatch]:
        block = self._blocks.get(self._country_key(residence_country))
        if block is None or not query:
            return []
        acronym_key = _acronym_key(acronym)
        same_acronym = set(block.by_acronym.get(acronym_key, ())) if acronym_key else set()

        # fuzz.ratio on word-sorted names is fuzz.token_sort_ratio without re-sorting every existing name
        # on every query, which makes a 100,000-organisation country about six times faster to search.
        sorted_query = _sort_words(query)
        # Each word's names are scored where they lie, without gathering them first; a candidate sharing
        # both words is found twice with the same score. A candidate with the same normalised name has all
        # the query's words, so it is found here too, with 100.
        similar: dict[int, float] = {}
        for word in _rarest_words(block, query):
            positions = block.by_word.get(word)
            if positions is None:
                continue
            for _, score, index in process.extract(
                sorted_query,
                block.names_by_word[word],
                scorer=fuzz.ratio,
                score_cutoff=min(self.threshold, 100.0),
                limit=None,
            ):
                similar[positions[index]] = score
        # position -> (name similarity, whether the normalised names are identical): the same names first,
        # then equal scores rank the earliest indexed candidate first.
        found = sorted(similar)
        similarities: dict[int, tuple[float, bool]] = {
            position: (100.0, True)
            for position in found
            if similar[position] == 100.0 and normalise_name(block.candidates[position][1]) == query
        }
        for position in found:
            if similar[position] >= self.threshold:
                similarities.setdefault(position, (similar[position], False))
        acronym_cutoff = min(ACRONYM_THRESHOLD, self.threshold)
        for position in sorted(same_acronym - similarities.keys()):
            score = fuzz.ratio(sorted_query, block.sorted_names[position])
            if score >= acronym_cutoff:
                similarities[position] = (score, False)

        matches = []
        for position, (similarity, same_name) in similarities.items():
            reasons = [SAME_NAME if same_name else SIMILAR_NAME.format(percent=round(similarity))]
            score = similarity
            if position in same_acronym:
                reasons.append(SAME_ACRONYM)
                score = min(100.0, score + ACRONYM_BONUS)
            matches.append(DuplicateMatch(Candidate(*block.candidates[position]), score, tuple(reasons)))
        matches.sort(key=lambda match: -match.score)
        return matches


def _append(positions_by_key: dict[str, array[int]], key: str, position: int) -> None:
    positions = positions_by_key.get(key)
    if positions is None:
        positions_by_key[key] = positions = array("i")
    positions.append(position)


# Checking a long stream of new candidates ------------------------------------------------------------------

PARALLEL_AFTER = 5_000
"""Rows after which a stream is checked in a second process; below, starting one costs more than it saves."""
_BATCH = 2_000


class StreamCheck:
    """The best match of each candidate of a stream among existing ones and the stream's earlier ones, in
    stream order, as (candidate, best match) for the candidates that have one.

    Checking is a third of a large import's time and nothing the import writes depends on it, so once the
    stream passes PARALLEL_AFTER candidates the check moves to a second process, which runs alongside the
    reading and writing. Its index is given the same candidates in the same order, so the answers are the
    same. Use it as a context manager: leaving it stops the second process if it still runs.
    """

    def __init__(self, existing: Iterable[Candidate]) -> None:
        self._existing = list(existing)
        self._index: DuplicateIndex | None = DuplicateIndex(self._existing)
        self._seen: list[Candidate] = []
        self._found: list[tuple[Candidate, DuplicateMatch]] = []
        self._batch: list[Candidate] = []
        self._worker: Any = None
        self._connection: Any = None

    def check(self, candidate: Candidate) -> None:
        if self._index is None:
            self._batch.append(candidate)
            if len(self._batch) >= _BATCH:
                self._connection.send(self._batch)
                self._batch = []
            return
        matches = self._index.find_then_add(candidate)
        if matches:
            self._found.append((candidate, matches[0]))
        self._seen.append(candidate)
        if len(self._seen) >= PARALLEL_AFTER:
            self._start_worker()

    def results(self) -> list[tuple[Candidate, DuplicateMatch]]:
        """Every candidate checked so far that has a match, in stream order (ends the second process)."""
        if self._worker is not None:
            if self._batch:
                self._connection.send(self._batch)
                self._batch = []
            self._connection.send(None)
            self._found.extend(self._connection.recv())
            self._stop()
        return self._found

    def _start_worker(self) -> None:
        # "spawn", not fork: the parent may be a web worker with threads and open database connections.
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._worker = context.Process(target=_serve_stream_check, args=(child,), daemon=True)
        self._worker.start()
        child.close()
        self._connection.send((self._existing, self._seen))
        self._index = None
        self._existing, self._seen = [], []

    def _stop(self) -> None:
        self._worker.join(timeout=30)
        if self._worker.is_alive():
            self._worker.terminate()
        self._connection.close()
        self._worker = None

    def __enter__(self) -> StreamCheck:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._worker is not None:
            self._worker.terminate()
            self._stop()


def _serve_stream_check(connection: Any) -> None:
    """The second process of a StreamCheck: rebuild the index, check each batch, send back what matched."""
    existing, seen = connection.recv()
    index = DuplicateIndex(existing)
    for candidate in seen:
        index.add(candidate)
    found: list[tuple[Candidate, DuplicateMatch]] = []
    while (batch := connection.recv()) is not None:
        for candidate in batch:
            matches = index.find_then_add(candidate)
            if matches:
                found.append((candidate, matches[0]))
    connection.send(found)
    connection.close()
