"""A round's scores from its answers: per indicator (consolidated over respondents, with their spread, and the
officer's validated score beside it), per domain and overall. Pure: the service hands it rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from crm.assessments.scoring import (
    Band,
    Spread,
    capacity_band,
    domain_score,
    indicator_score,
    level_of,
    overall_score,
    spread,
)


@dataclass(frozen=True)
class DomainShape:
    id: int
    code: str
    indicator_ids: tuple[int, ...]


@dataclass
class IndicatorResult:
    indicator_id: int
    # One answer per respondent who answered: response id → choice.
    choices: dict[int, str | None]
    self_score: float | None
    spread: Spread | None
    # The officer's level where they set one; otherwise the validated score is the self score, agreed.
    reviewed_level: int | None
    validated_score: float | None

    @property
    def adjusted(self) -> bool:
        return self.reviewed_level is not None


@dataclass
class DomainResult:
    id: int
    code: str
    indicators: list[IndicatorResult]
    self_score: float | None
    validated_score: float | None
    spread: Spread | None

    @property
    def band(self) -> Band | None:
        return capacity_band(self.validated_score)

    @property
    def self_band(self) -> Band | None:
        return capacity_band(self.self_score)


@dataclass
class RoundScores:
    domains: list[DomainResult]
    self_score: float | None
    validated_score: float | None
    respondents: int
    by_code: dict[str, DomainResult] = field(init=False)

    def __post_init__(self) -> None:
        self.by_code = {d.code: d for d in self.domains}

    @property
    def band(self) -> Band | None:
        return capacity_band(self.validated_score)

    @property
    def self_band(self) -> Band | None:
        return capacity_band(self.self_score)

    def indicator_scores(self) -> dict[int, float | None]:
        return {i.indicator_id: i.validated_score for d in self.domains for i in d.indicators}

    def weakest(self, count: int = 3) -> list[DomainResult]:
        scored = [d for d in self.domains if d.validated_score is not None]
        return sorted(scored, key=lambda d: (d.validated_score, d.code))[:count]

    def strongest(self, count: int = 3) -> list[DomainResult]:
        scored = [d for d in self.domains if d.validated_score is not None]
        return sorted(scored, key=lambda d: (-(d.validated_score or 0), d.code))[:count]


def score_round(
    domains: Sequence[DomainShape],
    answers: Mapping[int, Mapping[int, str | None]],
    reviews: Mapping[int, int],
) -> RoundScores:
    """answers: response id → indicator id → choice, for the responses that count (submitted ones);
    reviews: indicator id → the officer's level."""
    results = []
    for domain in domains:
        indicators = []
        for indicator_id in domain.indicator_ids:
            choices = {r: a[indicator_id] for r, a in answers.items() if indicator_id in a}
            self_score = indicator_score(choices.values())
            reviewed = reviews.get(indicator_id)
            indicators.append(
                IndicatorResult(
                    indicator_id=indicator_id,
                    choices=choices,
                    self_score=self_score,
                    spread=spread(level_of(c) for c in choices.values()),
                    reviewed_level=reviewed,
                    validated_score=float(reviewed) if reviewed is not None else self_score,
                )
            )
        per_respondent = [
            domain_score(indicator_score([a.get(i)]) for i in domain.indicator_ids) for a in answers.values()
        ]
        results.append(
            DomainResult(
                id=domain.id,
                code=domain.code,
                indicators=indicators,
                self_score=domain_score(i.self_score for i in indicators),
                validated_score=domain_score(i.validated_score for i in indicators),
                spread=spread(per_respondent),
            )
        )
    return RoundScores(
        domains=results,
        self_score=overall_score(d.self_score for d in results),
        validated_score=overall_score(d.validated_score for d in results),
        respondents=len(answers),
    )
