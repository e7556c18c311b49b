"""HTTP for the directory, organisation pages (profile, contacts, activities), merge, map and export."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_303_SEE_OTHER
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from crm.accounts.permissions import refuse_unless, requires, requires_role, requires_staff
from crm.accounts.roles import Role
from crm.assessments.scoring import BAND_LABELS
from crm.organisations import access, dedupe, directory, export, permissions, service, vocabularies
from crm.organisations.countries import Labels, all_countries, country_name, country_names
from crm.organisations.models import (
    ACTIVITY_KIND_LABELS,
    BUDGET_BAND_LABELS,
    CONSENT_LABELS,
    CONTRIBUTION_MODE_LABELS,
    LEGAL_STATUS_LABELS,
    PROVENANCE_LABELS,
    Organisation,
)
from crm.organisations.schemas import ActivityIn, ContactForm, OrganisationIn, OrganisationUpdate
from crm.organisations.worldmap import BUCKETS, bucket, choropleth_svg, load_world
from crm.web.deps import Db
from crm.web.flash import flash
from crm.web.forms import FormBody, FormErrors, parse
from crm.web.i18n import N_, current_language
from crm.web.i18n import gettext as _
from crm.web.pagination import clamp_page
from crm.web.templating import is_partial, page_or_fragment

MULTI_FIELDS = ("sectors", "capital_kinds", "audiences", "contribution_modes")
TABS = ("profile", "contacts", "activities")


def filters_from_query(params: Mapping[str, Any]) -> directory.DirectoryFilters:
    """Read directory filters from a query string; anything malformed is ignored, never an error."""

    def many(name: str, upper: bool = False) -> tuple[str, ...]:
        getall = getattr(params, "getall", None)
        values = getall(name, []) if callable(getall) else [params.get(name)]
        cleaned = [str(v).strip()[:40] for v in values if v and str(v).strip()]
        return tuple(dict.fromkeys(v.upper() if upper else v for v in cleaned))[:20]

    sort = str(params.get("sort") or "name")
    return directory.DirectoryFilters(
        q=str(params.get("q") or "")[:200],
        residence=tuple(c for c in many("residence", upper=True) if len(c) == 2),
        origin=tuple(c for c in many("origin", upper=True) if len(c) == 2),
        sector=many("sector"),
        capital=many("capital"),
        audience=many("audience"),
        vulnerable=params.get("vulnerable") in ("1", "true", "on"),
        consent=params.get("consent") in ("1", "true", "on"),
        capacity_band=tuple(band for band in many("capacity_band") if band in directory.CAPACITY_BANDS),
        sort=sort if sort in directory.SORTS else "name",
    )


@cache
def _country_options(language: str) -> str:
    return "".join(
        f'<option value="{code}">{escape(name)}</option>' for code, name in all_countries(language)
    )


def country_options(selected: tuple[str, ...]) -> Markup:
    """<option>s for every country in the user's language, built once per language (about 250 of them)."""
    html = _country_options(current_language.get())
    for code in selected:
        html = html.replace(f'<option value="{code}">', f'<option value="{code}" selected>', 1)
    return Markup(html)


def page_number(params: Mapping[str, Any]) -> int:
    try:
        return max(int(str(params.get("page") or 1)), 1)
    except ValueError:
        return 1


def vocabulary_choices(vocab: vocabularies.Vocabularies) -> dict[str, list[tuple[str, str]]]:
    language = current_language.get()
    return {
        "sectors": [(code, row.label(language)) for code, row in vocab.sectors.items()],
        "capital_kinds": [(code, row.label(language)) for code, row in vocab.capital_kinds.items()],
        "audiences": [(code, row.label(language)) for code, row in vocab.audiences.items()],
    }


def labels(db: Session, vocab: vocabularies.Vocabularies | None = None) -> dict[str, Any]:
    """What templates need to show codes in the user's language (vocabularies: three small queries)."""
    language = current_language.get()
    vocab = vocab or vocabularies.vocabularies(db)
    return {
        "sector_labels": Labels({code: row.label(language) for code, row in vocab.sectors.items()}),
        "capital_labels": Labels({code: row.label(language) for code, row in vocab.capital_kinds.items()}),
        "audience_labels": Labels({code: row.label(language) for code, row in vocab.audiences.items()}),
        "country_names": country_names(language),
        "vulnerable_audiences": set(vocab.vulnerable_audiences),
        "country": lambda code: country_name(code, language) if code else "",
        "legal_status_labels": LEGAL_STATUS_LABELS,
        "budget_band_labels": BUDGET_BAND_LABELS,
        "provenance_labels": PROVENANCE_LABELS,
        "contribution_labels": CONTRIBUTION_MODE_LABELS,
        "consent_labels": CONSENT_LABELS,
        "activity_labels": ACTIVITY_KIND_LABELS,
        "consent_choices": [(k.value, _(v)) for k, v in CONSENT_LABELS.items()],
        "activity_choices": [(k.value, _(v)) for k, v in ACTIVITY_KIND_LABELS.items()],
    }


def redirect_after_save(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    """After a successful form post, open the saved record's page (303: reloading it does not post again).

    An htmx-submitted form gets HX-Redirect instead: a plain redirect would be followed inside the XHR and
    swapped into the form's target, leaving the browser's address and title on the form."""
    if is_partial(request):
        return Response(content=None, status_code=HTTP_204_NO_CONTENT, headers={"HX-Redirect": url})
    return Redirect(url, status_code=HTTP_303_SEE_OTHER)


def form_values(organisation: Organisation) -> dict[str, Any]:
    values = {column: getattr(organisation, column) for column in OrganisationIn.model_fields}
    values["languages"] = ", ".join(organisation.languages or [])
    values["skills_offered"] = ", ".join(organisation.skills_offered or [])
    values["version"] = organisation.version
    return values


class DirectoryController(Controller):
    path = "/organisations"
    guards = [requires(permissions.reads_directory)]

    @get("/", name="directory", sync_to_thread=True)
    def directory(self, request: Request[Any, Any, Any], db: Db) -> Template:
        filters = filters_from_query(request.query_params)
        number, per_page = clamp_page(page_number(request.query_params), 25)
        page = directory.directory_page(db, request.user, filters, number, per_page)
        vocab = vocabularies.vocabularies(db)
        context = {
            "page": page,
            "filters": filters,
            "residence_options": country_options(filters.residence),
            "origin_options": country_options(filters.origin),
            "choices": vocabulary_choices(vocab),
            "is_staff": permissions.is_staff(request.user),
            "by_capacity": permissions.can_filter_by_capacity(request.user),
            "capacity_bands": CAPACITY_BAND_LABELS,
            "sorts": SORT_LABELS,
            **labels(db, vocab),
        }
        return page_or_fragment(
            request, "organisations/directory.html", "organisations/partials/_results.html", context
        )

    @get("/export/{fmt:str}", sync_to_thread=True)
    def export(self, request: Request[Any, Any, Any], db: Db, fmt: FromPath[str]) -> Response[Any]:
        if fmt not in ("csv", "xlsx"):
            raise NotFoundException()
        filters = filters_from_query(request.query_params)
        stamp = date.today().isoformat()
        if fmt == "csv":
            # The stream outlives the request's session (committed and closed when the response starts),
            # so it reads through a session of its own, closed when the last row is sent.
            return Stream(
                export.csv_chunks_from_own_session(db.get_bind(), request.user, filters),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="organisations-{stamp}.csv"'},
            )
        return Response(
            export.xlsx_bytes(export.directory_rows(db, request.user, filters)),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="organisations-{stamp}.xlsx"'},
        )

    @get("/new", sync_to_thread=True, guards=[requires_staff])
    def new_organisation(self, db: Db) -> Template:
        return Template(
            "organisations/form.html", context=self._form_context(db, None, {"consent_to_share": False}, {})
        )

    @post("/new", sync_to_thread=True, guards=[requires_staff])
    def create_organisation(self, request: Request[Any, Any, Any], db: Db, data: FormBody) -> Response[Any]:
        try:
            organisation = service.create_organisation(db, parse(OrganisationIn, data, multi=MULTI_FIELDS))
        except FormErrors as exc:
            return Template("organisations/form.html", context=self._form_context(db, None, data, exc.errors))
        except service.OrganisationError as exc:
            errors = {k: _(v) for k, v in exc.errors.items()}
            return Template("organisations/form.html", context=self._form_context(db, None, data, errors))
        flash(request, _("Organisation created."))
        return redirect_after_save(request, f"/organisations/{organisation.id}")

    @get("/{organisation_id:int}", sync_to_thread=True)
    def profile(self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int]) -> Template:
        return self._tab(request, db, organisation_id, "profile")

    @get("/{organisation_id:int}/contacts", sync_to_thread=True)
    def contacts(self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int]) -> Template:
        return self._tab(request, db, organisation_id, "contacts")

    @get("/{organisation_id:int}/activities", sync_to_thread=True)
    def activities(self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int]) -> Template:
        return self._tab(request, db, organisation_id, "activities")

    def _tab(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        organisation_id: int,
        tab: str,
        errors: dict[str, str] | None = None,
        form: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Template:
        user = request.user
        organisation = access.organisation_for(db, user, organisation_id, full=True)
        private = permissions.can_view_private(user, organisation)
        if tab != "profile":
            refuse_unless(private)
        context: dict[str, Any] = {
            "org": organisation,
            "tab": tab,
            "can_edit": permissions.can_edit(user, organisation),
            "can_view_private": private,
            "can_delete": permissions.can_delete(user),
            "is_staff": permissions.is_staff(user),
            "completeness": service.profile_completeness(organisation),
            "errors": errors or {},
            "form": form or {},
            # A swapped-in tab also sends the tab bar and the messages, so both follow the new tab.
            "oob": is_partial(request),
            **labels(db),
        }
        if tab == "contacts":
            context["contacts"] = service.list_contacts(db, organisation.id)
        elif tab == "activities":
            context["activities"] = service.list_activities(db, organisation.id)
            context["authors"] = service.author_names(db, [a.author_id for a in context["activities"]])
            context["today"] = date.today().isoformat()
        if tab == "profile" and organisation.merged_into_id:
            context["merged_into"] = service.get_organisation(db, organisation.merged_into_id)
        return page_or_fragment(
            request,
            "organisations/detail.html",
            f"organisations/partials/_{tab}.html",
            context,
            status_code=status_code,
            # The tab's address answers a page or a fragment: the browser must not show a cached fragment
            # when Back or Reload opens the address as a page.
            headers={"Vary": "HX-Request"},
        )

    @get("/{organisation_id:int}/edit", sync_to_thread=True)
    def edit(self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int]) -> Template:
        organisation = access.organisation_for(db, request.user, organisation_id, full=True)
        refuse_unless(permissions.can_edit(request.user, organisation))
        context = self._form_context(db, organisation, form_values(organisation), {})
        return page_or_fragment(
            request, "organisations/form.html", "organisations/partials/_form.html", context
        )

    @post("/{organisation_id:int}/edit", sync_to_thread=True)
    def update(
        self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        organisation = access.organisation_for(db, request.user, organisation_id, full=True)
        refuse_unless(permissions.can_edit(request.user, organisation))
        try:
            form = parse(OrganisationUpdate, data, multi=MULTI_FIELDS)
            service.update_organisation(db, organisation, form, form.version)
        except FormErrors as exc:
            return self._edit_again(request, db, organisation, data, exc.errors)
        except service.OrganisationError as exc:
            return self._edit_again(request, db, organisation, data, {k: _(v) for k, v in exc.errors.items()})
        except service.StaleVersion:
            message = _(
                "Someone else changed this organisation after you opened it. Your changes were not saved: "
                "reload the page to see theirs, then edit again."
            )
            return self._edit_again(request, db, organisation, data, {"__all__": message}, status_code=409)
        flash(request, _("Profile saved."))
        return redirect_after_save(request, f"/organisations/{organisation.id}")

    def _edit_again(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        organisation: Organisation | None,
        data: dict[str, Any],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        context = self._form_context(db, organisation, data, errors)
        return page_or_fragment(
            request,
            "organisations/form.html",
            "organisations/partials/_form.html",
            context,
            status_code=status_code,
        )

    def _form_context(
        self, db: Session, organisation: Organisation | None, form: dict[str, Any], errors: dict[str, str]
    ) -> dict[str, Any]:
        language = current_language.get()
        return {
            "org": organisation,
            "form": form,
            "errors": errors,
            "countries": all_countries(language),
            "choices": vocabulary_choices(vocabularies.vocabularies(db)),
            "legal_status_choices": [(k.value, _(v)) for k, v in LEGAL_STATUS_LABELS.items()],
            "budget_choices": [(k.value, _(v)) for k, v in BUDGET_BAND_LABELS.items()],
            "provenance_choices": [(k.value, _(v)) for k, v in PROVENANCE_LABELS.items()],
            "contribution_choices": [(k.value, _(v)) for k, v in CONTRIBUTION_MODE_LABELS.items()],
        }

    @post("/{organisation_id:int}/contacts", sync_to_thread=True)
    def add_contact(
        self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        organisation = access.organisation_for(db, request.user, organisation_id)
        refuse_unless(permissions.can_edit(request.user, organisation))
        try:
            service.add_contact(db, organisation, parse(ContactForm, data))
        except FormErrors as exc:
            return self._tab(request, db, organisation_id, "contacts", exc.errors, data)
        flash(request, _("Contact added."))
        if is_partial(request):
            return self._tab(request, db, organisation_id, "contacts")
        return Redirect(f"/organisations/{organisation_id}/contacts")

    @post("/{organisation_id:int}/activities", sync_to_thread=True)
    def add_activity(
        self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        organisation = access.organisation_for(db, request.user, organisation_id)
        refuse_unless(permissions.can_edit(request.user, organisation))
        try:
            service.add_activity(db, organisation, request.user, parse(ActivityIn, data))
        except FormErrors as exc:
            return self._tab(request, db, organisation_id, "activities", exc.errors, data)
        flash(request, _("Activity recorded."))
        if is_partial(request):
            return self._tab(request, db, organisation_id, "activities")
        return Redirect(f"/organisations/{organisation_id}/activities")

    @post("/{organisation_id:int}/delete", sync_to_thread=True, guards=[requires_role(Role.ADMIN)])
    def delete(
        self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int]
    ) -> Response[Any]:
        organisation = access.organisation_for(db, request.user, organisation_id)
        name = organisation.name
        service.delete_organisation(db, organisation)
        flash(request, _("Organisation “%(name)s” deleted.") % {"name": name})
        return Redirect("/organisations")

    @get("/{organisation_id:int}/merge", sync_to_thread=True, guards=[requires_staff])
    def merge_page(self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int]) -> Template:
        organisation = access.organisation_for(db, request.user, organisation_id)
        return Template(
            "organisations/merge.html",
            context={
                "org": organisation,
                "candidates": _duplicate_candidates(db, organisation),
                "errors": {},
                **labels(db),
            },
        )

    @post("/{organisation_id:int}/merge", sync_to_thread=True, guards=[requires_staff])
    def merge(
        self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        survivor = access.organisation_for(db, request.user, organisation_id)
        try:
            duplicate_id = int(str(data.get("duplicate") or ""))
        except ValueError:
            duplicate_id = 0
        duplicate = service.get_organisation(db, duplicate_id)
        errors: dict[str, str] = {}
        if duplicate is None:
            errors = {"__all__": _("Choose the duplicate to merge into this organisation.")}
        else:
            try:
                service.merge_organisations(db, survivor, duplicate)
            except service.OrganisationError as exc:
                errors = {"__all__": " ".join(_(v) for v in exc.errors.values())}
        if errors:
            return Template(
                "organisations/merge.html",
                context={
                    "org": survivor,
                    "candidates": _duplicate_candidates(db, survivor),
                    "errors": errors,
                    **labels(db),
                },
            )
        flash(
            request, _("“%(duplicate)s” was merged into this organisation.") % {"duplicate": duplicate.name}
        )
        return Redirect(f"/organisations/{survivor.id}")


def _duplicate_candidates(db: Session, organisation: Organisation) -> list[dict[str, Any]]:
    """Possible duplicates in the same country of residence, best match first, as the merge page shows them."""
    return [
        {
            "id": match.existing.id,
            "name": match.existing.name,
            "acronym": match.existing.acronym,
            "city": city,
            "score": round(match.score),
            "reasons": [dedupe.translated_reason(reason, _) for reason in match.reasons],
        }
        for match, city in service.duplicate_candidates(db, organisation)
    ]


CAPACITY_BAND_LABELS = {
    **{band.value: label for band, label in BAND_LABELS.items()},
    directory.NOT_ASSESSED: N_("Not assessed"),
}

SORT_LABELS = {
    "name": N_("Name A–Z"),
    "-name": N_("Name Z–A"),
    "-created": N_("Newest first"),
    "-completeness": N_("Most complete first"),
    "completeness": N_("Least complete first"),
    "country": N_("Country of residence"),
}


def legend_bands(max_count: int) -> list[tuple[int, int, int]]:
    """The map's colour bands in use, each with the range of organisations per country it stands for:
    (band, fewest, most). Band 0 (no organisation) is left to the template."""
    if max_count <= 0:
        return []

    def first_count_in(band: int) -> int:
        # `bucket` never decreases as the count grows, so the band's first count is found by bisection.
        low, high = 1, max_count + 1
        while low < high:
            middle = (low + high) // 2
            if bucket(middle, max_count) >= band:
                high = middle
            else:
                low = middle + 1
        return low

    starts = [first_count_in(band) for band in range(1, BUCKETS + 1)] + [max_count + 1]
    return [
        (band, starts[band - 1], starts[band] - 1)
        for band in range(1, BUCKETS + 1)
        if starts[band - 1] < starts[band]
    ]


class MapController(Controller):
    path = "/map"
    guards = [requires(permissions.reads_directory)]

    @get("/", name="map", sync_to_thread=True)
    def world_map(self, request: Request[Any, Any, Any], db: Db) -> Template:
        by = "origin" if request.query_params.get("by") == "origin" else "residence"
        filters = filters_from_query(request.query_params)
        column = "origin_country" if by == "origin" else "residence_country"
        counts = directory.country_counts(db, request.user, column, filters)
        language = current_language.get()
        base_query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("by", by, "page")]

        def href(code: str) -> str:
            return "/organisations?" + urlencode([*base_query, (by, code)])

        def label(code: str, count: int) -> str:
            return f"{country_name(code, language)}: {count}"

        title = (
            _("Organisations by country of origin")
            if by == "origin"
            else _("Organisations by country of residence")
        )
        svg = choropleth_svg(counts, href, label, title)
        # The map colours countries against the largest count it can draw, so the legend does too.
        drawn = load_world().countries
        legend = legend_bands(max((n for code, n in counts.items() if code.upper() in drawn), default=0))
        table = sorted(
            ((code, country_name(code, language), n) for code, n in counts.items()),
            key=lambda row: (-row[2], row[1]),
        )
        return Template(
            "organisations/map.html",
            context={
                "svg": svg,
                "table": table,
                "by": by,
                "title": title,
                "total": sum(counts.values()),
                "legend": legend,
                "href": href,
                "filters": filters,
            },
        )


ORGANISATION_HANDLERS = [DirectoryController, MapController]
