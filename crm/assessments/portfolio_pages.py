"""HTTP for frameworks and the officers' portfolio of capacity across organisations."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from crm.accounts.permissions import requires
from crm.assessments import access, framework_summaries, permissions, portfolio, service
from crm.assessments.chart import change_text, score_text
from crm.assessments.models import text_in
from crm.assessments.portfolio_chart import BarRow, Segment, stacked_bars_svg
from crm.organisations import vocabularies
from crm.organisations.controllers import country_options, filters_from_query, page_number, vocabulary_choices
from crm.organisations.countries import country_names
from crm.organisations.permissions import reads_directory
from crm.web.deps import Db
from crm.web.i18n import current_language
from crm.web.i18n import gettext as _
from crm.web.pagination import clamp_page


def _in_language() -> Any:
    language = current_language.get()
    return lambda value: text_in(value, language)


class FrameworkPages(Controller):
    """The frameworks are the questions, not anyone's answers: every role reads them."""

    path = "/frameworks"
    guards = [requires(reads_directory)]

    @get("/", name="frameworks", sync_to_thread=True)
    def frameworks(self, db: Db) -> Template:
        return Template(
            "assessments/frameworks.html",
            context={"families": framework_summaries.framework_families(db), "tr": _in_language()},
        )

    @get("/{framework_id:int}", sync_to_thread=True)
    def framework(self, db: Db, framework_id: FromPath[int]) -> Template:
        framework = access.framework_for(db, framework_id)
        versions = framework_summaries.versions_of(db, framework)
        previous = next((v for v in versions if v.id == framework.previous_id), None)

        def mapping(indicator: Any) -> Any:
            return framework_summaries.mapping_in_words(
                indicator.mapping_kind,
                list(indicator.maps_from or ()),
                previous.version if previous else None,
                lambda code: f"/frameworks/{previous.id}#indicator-{code}" if previous else "",
            )

        return Template(
            "assessments/framework.html",
            context={
                "framework": framework,
                "shape": service.structure(db, framework),
                "versions": versions,
                "previous": previous,
                "used_by": framework_summaries.assessments_using(db, framework.id),
                "mapping": mapping,
                "tr": _in_language(),
            },
        )


def _chart(figures: portfolio.Portfolio, tr: Any) -> Any:
    """The stacked bars of the portfolio in the reader's words."""
    labels = {key: _(label) for key, label in portfolio.KEY_LABELS.items()}
    rows = [
        BarRow(
            _("Overall") if row.name is None else tr(row.name),
            [Segment(key, labels[key], row.counts[key]) for key in portfolio.BAND_KEYS],
        )
        for row in [figures.overall, *figures.domains]
    ]
    description = " ".join(
        f"{row.label}: "
        + ", ".join(f"{segment.label} {segment.count}" for segment in row.segments if segment.count)
        + "."
        for row in rows
    )
    return stacked_bars_svg(
        rows,
        _("Organisations by capacity band, overall and per domain"),
        description,
        _("%(row)s, %(band)s: %(count)d (%(percent)d%%)"),
        _("No organisation"),
    )


def _filter_form(db: Db, filters: portfolio.PortfolioFilters) -> dict[str, Any]:
    language = current_language.get()
    return {
        "filters": filters,
        "residence_options": country_options(filters.residence),
        "origin_options": country_options(filters.origin),
        "sectors": vocabulary_choices(vocabularies.vocabularies(db))["sectors"],
        "country_names": country_names(language),
        "drill": lambda domain, band=None: portfolio.drill_down_url(filters, domain, band),
        "band_keys": portfolio.BAND_KEYS,
        "band_labels": portfolio.KEY_LABELS,
        "OVERALL": portfolio.OVERALL,
        "tr": _in_language(),
        "number": score_text,
        "signed": change_text,
    }


class PortfolioPages(Controller):
    """The government side's view across organisations."""

    path = "/assessments/portfolio"
    guards = [requires(permissions.can_view_portfolio)]

    @get("/", name="portfolio", sync_to_thread=True)
    def portfolio_page(self, request: Request[Any, Any, Any], db: Db) -> Template:
        filters = portfolio.PortfolioFilters.of(filters_from_query(request.query_params))
        figures = portfolio.portfolio(db, request.user, filters)
        context = _filter_form(db, filters)
        context.update(figures=figures, chart=_chart(figures, context["tr"]))
        return Template("assessments/portfolio.html", context=context)

    @get("/organisations", sync_to_thread=True)
    def organisations(self, request: Request[Any, Any, Any], db: Db) -> Template:
        params = request.query_params
        filters = portfolio.PortfolioFilters.of(filters_from_query(params))
        domain = str(params.get("domain") or portfolio.OVERALL)[:60]
        band = str(params.get("band") or "")[:20] or None
        try:
            domain_name = portfolio.figure_name(db, domain, band)
        except portfolio.UnknownFigure:
            raise NotFoundException() from None
        number, per_page = clamp_page(page_number(params), 25)
        page = portfolio.organisations_behind(db, request.user, filters, domain, band, number, per_page)
        context = _filter_form(db, filters)
        context.update(page=page, domain=domain, domain_name=domain_name, band=band)
        return Template("assessments/portfolio_organisations.html", context=context)


HANDLERS: list[ControllerRouterHandler] = [FrameworkPages, PortfolioPages]
