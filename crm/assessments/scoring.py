"""How answers become scores, one pure function per step: indicator (mean of the scored answers) → domain
(mean of its indicators) → overall (mean of the domains), the capacity band of a score, and the spread that
shows respondents disagreeing. "Not applicable" and "don't know" are not scores: they are left out, never
counted as zero, and a domain or indicator with no scored answer has no score."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from crm.web.i18n import N_

LEVELS = (1, 2, 3, 4)
# Respondents two levels or more apart on an indicator disagree: the officer should look at it.
DISAGREEMENT = 2


class Band(enum.StrEnum):
    NASCENT = "nascent"
    EMERGING = "emerging"
    EXPANDING = "expanding"
    MATURE = "mature"


BAND_LABELS = {
    Band.NASCENT: N_("Nascent"),
    Band.EMERGING: N_("Emerging"),
    Band.EXPANDING: N_("Expanding"),
    Band.MATURE: N_("Mature"),
}
# Lower edges: nascent < 1.75 ≤ emerging < 2.5 ≤ expanding < 3.25 ≤ mature.
BAND_FLOORS = ((3.25, Band.MATURE), (2.5, Band.EXPANDING), (1.75, Band.EMERGING))


def level_of(choice: str | None) -> int | None:
    """The level an answer scores, or None for "not applicable", "don't know" and no answer."""
    return int(choice) if choice in ("1", "2", "3", "4") else None


def mean(values: Iterable[float | None]) -> float | None:
    scored = [v for v in values if v is not None]
    return sum(scored) / len(scored) if scored else None


def indicator_score(choices: Iterable[str | None]) -> float | None:
    """The consolidated score of one indicator over its respondents' answers."""
    return mean(level_of(c) for c in choices)


def domain_score(indicator_scores: Iterable[float | None]) -> float | None:
    return mean(indicator_scores)


def overall_score(domain_scores: Iterable[float | None]) -> float | None:
    return mean(domain_scores)


def capacity_band(score: float | None) -> Band | None:
    if score is None:
        return None
    for floor, band in BAND_FLOORS:
        if score >= floor:
            return band
    return Band.NASCENT


@dataclass(frozen=True)
class Spread:
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def disagreement(self) -> bool:
        return self.width >= DISAGREEMENT


def spread(scores: Iterable[float | None]) -> Spread | None:
    """Lowest and highest of the respondents' scores: what averaging hides."""
    scored = [s for s in scores if s is not None]
    return Spread(min(scored), max(scored)) if scored else None


def rounded(score: float | None) -> float | None:
    """Scores as shown and stored: two decimals."""
    return None if score is None else round(score, 2)
