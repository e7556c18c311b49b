"""The officers' capacity portfolio: how many organisations stand in each capacity band, overall and per domain,
over each live organisation's latest validated round; the largest gains and declines; and the organisations
behind every figure.

A handful of statements whatever the number of assessments: GROUP BY over the rows marked `latest` (the
stored domain scores have a partial covering index for it), joined to organisations only to filter them or to
name a page of them. A figure and its drill-down are counted under the same conditions (`_in_scope`,
`_latest_rows`), so the list behind a figure always holds as many organisations as the figure says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, func, literal_column, select, text
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments.models import AssessmentRound, DomainScore, Framework, FrameworkDomain, Text18n
from crm.assessments.scoring import BAND_LABELS, Band
from crm.organisations import directory, permissions
from crm.organisations.models import Organisation
from crm.web.i18n import N_
from crm.web.pagination import Page

OVERALL = "overall"
# The band of a domain (or a round) validated without a single scored answer: "not applicable" throughout.
NO_SCORE = "none"
BAND_KEYS = (*(band.value for band in Band), NO_SCORE)
KEY_LABELS = {**{band.value: label for band, label in BAND_LABELS.items()}, NO_SCORE: N_("No score")}
MOVERS = 10

# The partial indexes on latest rows are declared `WHERE latest`; SQLite uses a partial index only when the
# query repeats that condition as written, and SQLAlchemy writes a boolean test as `latest = 1` or `IS 1`.
LATEST_DOMAIN_SCORE = text("assessment_domain_scores.latest")
LATEST_ROUND = text("assessment_rounds.latest")


@dataclass(frozen=True)
class PortfolioFilters:
    """Which organisations the portfolio counts: the directory's country and sector filters."""

    residence: tuple[str, ...] = ()
    origin: tuple[str, ...] = ()
    sector: tuple[str, ...] = ()

    @classmethod
    def of(cls, found: directory.DirectoryFilters) -> PortfolioFilters:
        return cls(residence=found.residence, origin=found.origin, sector=found.sector)

    @property
    def active(self) -> bool:
        return bool(self.residence or self.origin or self.sector)

    def as_directory(self) -> directory.DirectoryFilters:
        return directory.DirectoryFilters(residence=self.residence, origin=self.origin, sector=self.sector)

    def query(self) -> list[tuple[str, str]]:
        return [
            *(("residence", code) for code in self.residence),
            *(("origin", code) for code in self.origin),
            *(("sector", code) for code in self.sector),
        ]


def drill_down_url(filters: PortfolioFilters, domain: str, band: str | None = None) -> str:
    """The address of the organisations behind one figure, with the portfolio's filters."""
    query = [("domain", domain), *([("band", band)] if band else []), *filters.query()]
    return "/assessments/portfolio/organisations?" + urlencode(query)


@dataclass(frozen=True)
class BandCounts:
    """One row of the portfolio: organisations per band (BAND_KEYS) in a domain, or overall."""

    key: str
    name: Text18n | None  # None: overall
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Mover:
    """An organisation whose latest validated round changed most since its previous comparable round."""

    organisation_id: int
    name: str
    acronym: str | None
    round_id: int
    score: float | None
    band: str | None
    change: float


@dataclass(frozen=True)
class Portfolio:
    overall: BandCounts
    domains: list[BandCounts]
    gains: list[Mover]
    declines: list[Mover]

    @property
    def empty(self) -> bool:
        return self.overall.total == 0


def _in_scope(
    session: Session, user: User, filters: PortfolioFilters
) -> Callable[[Any], ColumnElement[bool]]:
    """The condition on an organisation id column for the organisations counted: live ones (merged records
    keep their old rounds), narrowed by the filters through the directory's own filter definition."""
    if not filters.active and permissions.viewer_kind(user) == permissions.STAFF:
        # Staff see every live organisation: ruling out the few merged records (a partial index holds them)
        # is much cheaper than matching every score row against the list of live organisations.
        merged = select(Organisation.id).where(Organisation.merged_into_id.is_not(None))
        return lambda column: column.not_in(merged)
    matching = directory.directory_query(session, user, filters.as_directory(), scan_all=True)
    ids = matching.with_only_columns(Organisation.id)
    return lambda column: column.in_(ids)


def _band_key(band: str | None) -> str:
    return band if band in BAND_KEYS else NO_SCORE


def domain_names(session: Session) -> dict[str, Text18n]:
    """Every domain code in the order and the words of the newest framework that has it (frameworks loaded
    later first, then higher versions)."""
    rows = session.execute(
        select(FrameworkDomain.code, FrameworkDomain.name)
        .join(Framework, Framework.id == FrameworkDomain.framework_id)
        .order_by(Framework.loaded_at.desc(), Framework.version.desc(), FrameworkDomain.position)
    )
    names: dict[str, Text18n] = {}
    for code, name in rows:
        names.setdefault(code, name)
    return names


def _movers(session: Session, scope: Callable[[Any], ColumnElement[bool]], gains: bool) -> list[Mover]:
    """The largest changes first (ties by organisation id), chosen among the rounds alone before their
    organisations are joined: joining first made PostgreSQL read every organisation to name ten."""
    change = AssessmentRound.change
    order = change.desc() if gains else change.asc()
    top = (
        select(
            AssessmentRound.id,
            AssessmentRound.organisation_id,
            AssessmentRound.validated_score,
            AssessmentRound.validated_band,
            change,
        )
        .where(LATEST_ROUND, scope(AssessmentRound.organisation_id), change > 0 if gains else change < 0)
        .order_by(order, AssessmentRound.organisation_id)
        .limit(MOVERS)
        .subquery()
    )
    query = (
        select(
            Organisation.id,
            Organisation.name,
            Organisation.acronym,
            top.c.id,
            top.c.validated_score,
            top.c.validated_band,
            top.c.change,
        )
        .join_from(top, Organisation, Organisation.id == top.c.organisation_id)
        .order_by(top.c.change.desc() if gains else top.c.change.asc(), Organisation.id)
    )
    return [Mover(*row) for row in session.execute(query)]


def portfolio(session: Session, user: User, filters: PortfolioFilters) -> Portfolio:
    """The portfolio's figures in five statements: domain names, bands per domain, bands overall, gains,
    declines."""
    scope = _in_scope(session, user, filters)
    names = domain_names(session)
    per_domain: dict[str, dict[str, int]] = {}
    for code, band, count in session.execute(
        select(DomainScore.domain_code, DomainScore.validated_band, func.count())
        # `+ 0` keeps SQLite from probing the covering index once per domain, band and filtered organisation
        # (a skip-scan twice as slow, at 10,000 organisations, as reading the index once).
        .where(LATEST_DOMAIN_SCORE, scope(DomainScore.organisation_id + literal_column("0")))
        .group_by(DomainScore.domain_code, DomainScore.validated_band)
    ):
        counts = per_domain.setdefault(code, dict.fromkeys(BAND_KEYS, 0))
        counts[_band_key(band)] += count
    overall = dict.fromkeys(BAND_KEYS, 0)
    for band, count in session.execute(
        select(AssessmentRound.validated_band, func.count())
        .where(LATEST_ROUND, scope(AssessmentRound.organisation_id))
        .group_by(AssessmentRound.validated_band)
    ):
        overall[_band_key(band)] += count
    order = {code: position for position, code in enumerate(names)}
    domains = [
        BandCounts(code, names.get(code, {"en": code}), counts)
        for code, counts in sorted(
            per_domain.items(), key=lambda item: (order.get(item[0], len(order)), item[0])
        )
    ]
    return Portfolio(
        overall=BandCounts(OVERALL, None, overall),
        domains=domains,
        gains=_movers(session, scope, gains=True),
        declines=_movers(session, scope, gains=False),
    )


# The organisations behind one figure --------------------------------------------------------------------


@dataclass(frozen=True)
class Behind:
    """One organisation behind a figure, with the round and the score that put it there."""

    organisation_id: int
    name: str
    acronym: str | None
    residence_country: str
    origin_country: str
    round_id: int
    score: float | None
    band: str | None
    change: float | None


class UnknownFigure(LookupError):
    """The drill-down names a domain no framework has, or a band that does not exist."""


@dataclass(frozen=True)
class _Figure:
    """Where one figure's organisations are read: the latest rows of a table, and the conditions that are the
    same whether the figure is counted (the portfolio) or listed (its drill-down)."""

    table: Any
    round_id: Any
    conditions: list[ColumnElement[bool]]


def _figure(scope: Callable[[Any], ColumnElement[bool]], domain: str, band: str | None) -> _Figure:
    if domain == OVERALL:
        figure = _Figure(AssessmentRound, AssessmentRound.id, [LATEST_ROUND])
    else:
        figure = _Figure(
            DomainScore, DomainScore.round_id, [LATEST_DOMAIN_SCORE, DomainScore.domain_code == domain]
        )
    band_column = figure.table.validated_band
    if band == NO_SCORE:
        figure.conditions.append(band_column.is_(None))
    elif band is not None:
        figure.conditions.append(band_column == band)
    figure.conditions.append(scope(figure.table.organisation_id))
    return figure


def figure_name(session: Session, domain: str, band: str | None) -> Text18n | None:
    """The name of the figure's domain (None: overall), or UnknownFigure."""
    if band is not None and band not in BAND_KEYS:
        raise UnknownFigure(band)
    if domain == OVERALL:
        return None
    name = domain_names(session).get(domain)
    if name is None:
        raise UnknownFigure(domain)
    return name


def organisations_behind(
    session: Session,
    user: User,
    filters: PortfolioFilters,
    domain: str,
    band: str | None,
    page: int,
    per_page: int,
) -> Page[Behind]:
    """The organisations counted in one figure, by name: a count and a page of rows."""
    figure = _figure(_in_scope(session, user, filters), domain, band)
    table = figure.table
    total = session.scalar(select(func.count()).select_from(table).where(*figure.conditions)) or 0
    page = min(page, max((total + per_page - 1) // per_page, 1))
    rows = session.execute(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.acronym,
            Organisation.residence_country,
            Organisation.origin_country,
            figure.round_id,
            table.validated_score,
            table.validated_band,
            table.change,
        )
        .select_from(table)
        .join(Organisation, Organisation.id == table.organisation_id)
        .where(*figure.conditions)
        .order_by(Organisation.name_key, Organisation.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(items=[Behind(*row) for row in rows], number=page, per_page=per_page, total=total)
