"""What compares with what across assessments: within one framework version every indicator compares with
itself; across versions only through the newer version's mapping (same, split, merged), and a domain holding
a new indicator compares with nothing. Pure: the service gives it scores, it gives back changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crm.assessments.models import MappingKind
from crm.assessments.scoring import domain_score, mean

COMPARABLE_KINDS = {MappingKind.SAME.value, MappingKind.SPLIT.value, MappingKind.MERGED.value}


@dataclass(frozen=True)
class IndicatorRef:
    code: str
    domain_code: str
    mapping_kind: str | None
    maps_from: tuple[str, ...]


def previous_codes(indicator: IndicatorRef, same_framework: bool) -> tuple[str, ...] | None:
    """The previous assessment's indicators this one compares with, or None if it compares with none."""
    if same_framework:
        return (indicator.code,)
    if indicator.mapping_kind in COMPARABLE_KINDS and indicator.maps_from:
        return indicator.maps_from
    return None


def previous_domain_scores(
    indicators: Sequence[IndicatorRef], previous_scores: Mapping[str, float | None], same_framework: bool
) -> dict[str, float | None]:
    """Each domain's previous score, read through the mapping; None where the domain does not compare."""
    by_domain: dict[str, list[float | None]] = {}
    broken: set[str] = set()
    for indicator in indicators:
        codes = previous_codes(indicator, same_framework)
        if codes is None or any(code not in previous_scores for code in codes):
            broken.add(indicator.domain_code)
            continue
        by_domain.setdefault(indicator.domain_code, []).append(mean(previous_scores[c] for c in codes))
    domains = {indicator.domain_code for indicator in indicators}
    return {code: None if code in broken else domain_score(by_domain.get(code, [])) for code in domains}


def domain_changes(
    current: Mapping[str, float | None], previous: Mapping[str, float | None]
) -> dict[str, float | None]:
    """Change per domain where both scores exist."""
    changes: dict[str, float | None] = {}
    for code, score in current.items():
        before = previous.get(code)
        changes[code] = None if score is None or before is None else score - before
    return changes


def overall_change(changes: Mapping[str, float | None]) -> float | None:
    """The mean change over the domains that compare; none if no domain does."""
    return mean(changes.values())
