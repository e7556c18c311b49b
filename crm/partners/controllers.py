"""HTTP for partner actors: government bodies, companies, NGOs and others that partner with organisations."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from crm.accounts.permissions import requires_staff
from crm.organisations.countries import all_countries, country_name
from crm.organisations.service import StaleVersion
from crm.partners import access, service
from crm.partners.models import PARTNER_TYPE_LABELS, PartnerActor
from crm.partners.schemas import PartnerIn
from crm.web.deps import Db
from crm.web.flash import flash
from crm.web.forms import FormBody, FormErrors, parse
from crm.web.i18n import current_language
from crm.web.i18n import gettext as _
from crm.web.pagination import clamp_page


def _form_context(
    partner: PartnerActor | None, form: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    return {
        "partner": partner,
        "form": form,
        "errors": errors,
        "countries": all_countries(current_language.get()),
        "type_choices": [(k.value, _(v)) for k, v in PARTNER_TYPE_LABELS.items()],
    }


class PartnerController(Controller):
    path = "/partners"
    guards = [requires_staff]

    @get("/", name="partners", sync_to_thread=True)
    def list_partners(self, request: Request[Any, Any, Any], db: Db) -> Template:
        params = request.query_params
        try:
            number = int(params.get("page") or 1)
        except ValueError:
            number = 1
        number, per_page = clamp_page(number, 25)
        partner_type = params.get("type") if params.get("type") in PARTNER_TYPE_LABELS else ""
        q = (params.get("q") or "")[:200]
        page = service.list_partners(db, number, per_page, q=q, type_=partner_type or "")
        language = current_language.get()
        return Template(
            "partners/list.html",
            context={
                "page": page,
                "q": q,
                "type": partner_type,
                "type_labels": PARTNER_TYPE_LABELS,
                "country": lambda code: country_name(code, language) if code else "",
            },
        )

    @get("/new", sync_to_thread=False)
    def new_partner(self) -> Template:
        return Template("partners/form.html", context=_form_context(None, {}, {}))

    @post("/new", sync_to_thread=True)
    def create_partner(self, request: Request[Any, Any, Any], db: Db, data: FormBody) -> Response[Any]:
        try:
            partner = service.create_partner(db, parse(PartnerIn, data))
        except FormErrors as exc:
            return Template("partners/form.html", context=_form_context(None, data, exc.errors))
        flash(request, _("Partner “%(name)s” created.") % {"name": partner.name})
        return Redirect("/partners")

    @get("/{partner_id:int}", sync_to_thread=True)
    def edit_partner(self, request: Request[Any, Any, Any], db: Db, partner_id: FromPath[int]) -> Template:
        partner = access.partner_for(db, request.user, partner_id)
        form = {
            c: getattr(partner, c) for c in ("name", "type", "country", "website", "description", "version")
        }
        return Template("partners/form.html", context=_form_context(partner, form, {}))

    @post("/{partner_id:int}", sync_to_thread=True)
    def update_partner(
        self, request: Request[Any, Any, Any], db: Db, partner_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        partner = access.partner_for(db, request.user, partner_id)
        try:
            version = int(str(data.get("version") or 0))
            service.update_partner(db, partner, parse(PartnerIn, data), version)
        except FormErrors as exc:
            return Template("partners/form.html", context=_form_context(partner, data, exc.errors))
        except (StaleVersion, ValueError):
            errors = {
                "__all__": _(
                    "Someone else changed this partner after you opened it. "
                    "Reload the page to see their changes."
                )
            }
            return Template(
                "partners/form.html", context=_form_context(partner, data, errors), status_code=409
            )
        flash(request, _("Partner “%(name)s” saved.") % {"name": partner.name})
        return Redirect("/partners")


PARTNER_HANDLERS = [PartnerController]
