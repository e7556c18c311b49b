"""HTTP for the people who speak for an organisation: the list its staff and representatives see, adding and
removing representatives, and the picker that chooses the organisation on the user form."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.orm import Session

from crm.accounts import service as accounts
from crm.accounts.permissions import found, refuse_unless, requires_login, requires_staff
from crm.accounts.schemas import RepresentativeForm
from crm.organisations import directory, permissions
from crm.organisations.access import organisation_for
from crm.organisations.controllers import redirect_after_save
from crm.organisations.countries import country_name
from crm.organisations.profile import query_terms
from crm.web.deps import AppSettings, Db
from crm.web.flash import flash
from crm.web.forms import FormBody, FormErrors, parse
from crm.web.i18n import current_language
from crm.web.i18n import gettext as _
from crm.web.templating import page_or_fragment

PICKER_LIMIT = 10
"""Organisations the picker lists at most: typing more narrows the list, scrolling a long one helps nobody."""
# The add form's fields, by the account fields the accounts service names in its refusals.
FORM_FIELDS = {"email": "representative_email", "full_name": "representative_name"}


class RepresentativesController(Controller):
    path = "/organisations"
    guards = [requires_login]

    @get("/{organisation_id:int}/representatives", sync_to_thread=True)
    def representatives(
        self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int]
    ) -> Template:
        return self._section(request, db, organisation_id)

    @post("/{organisation_id:int}/representatives", sync_to_thread=True, guards=[requires_staff])
    def add_representative(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: AppSettings,
        organisation_id: FromPath[int],
        data: FormBody,
    ) -> Response[Any]:
        organisation = organisation_for(db, request.user, organisation_id)
        refuse_unless(permissions.can_edit(request.user, organisation))
        try:
            form = parse(RepresentativeForm, data)
            added = accounts.add_representative(
                db,
                organisation.id,
                form.representative_email,
                form.representative_name,
                language=settings.default_language,
                time_zone=settings.time_zone,
            )
        except FormErrors as exc:
            return self._section(request, db, organisation_id, exc.errors, data)
        except accounts.AccountError as exc:
            field = FORM_FIELDS.get(exc.field, "__all__")
            return self._section(request, db, organisation_id, {field: exc.text(_)}, data)
        if added.new_account:
            message = _(
                "Account created for %(email)s, who now represents this organisation. It has no password "
                "yet: an administrator sets one (Users) before they can sign in."
            )
        else:
            message = _("%(email)s now represents this organisation.")
        flash(request, message % {"email": added.user.email})
        return redirect_after_save(request, f"/organisations/{organisation.id}")

    @post(
        "/{organisation_id:int}/representatives/{user_id:int}/remove",
        sync_to_thread=True,
        guards=[requires_staff],
    )
    def remove_representative(
        self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int], user_id: FromPath[int]
    ) -> Response[Any]:
        organisation = organisation_for(db, request.user, organisation_id)
        refuse_unless(permissions.can_edit(request.user, organisation))
        removed = found(accounts.remove_representative(db, organisation.id, user_id))
        flash(request, _("%(email)s no longer represents this organisation.") % {"email": removed.email})
        return redirect_after_save(request, f"/organisations/{organisation.id}")

    def _section(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        organisation_id: int,
        errors: dict[str, str] | None = None,
        form: dict[str, Any] | None = None,
    ) -> Template:
        user = request.user
        organisation = organisation_for(db, user, organisation_id)
        # The people who speak for it are its private data, as its contacts are.
        refuse_unless(permissions.can_view_private(user, organisation))
        context = {
            "org": organisation,
            "representatives": accounts.list_representatives(db, organisation.id),
            "can_manage": permissions.can_manage_representatives(user, organisation),
            "errors": errors or {},
            "form": form or {},
        }
        return page_or_fragment(
            request,
            "organisations/representatives.html",
            "organisations/partials/_representatives.html",
            context,
            headers={"Vary": "HX-Request"},
        )

    # The organisation picker of the user form. The directory's own search and visibility answer it, so it
    # lists exactly what the directory would show this user, as fast.

    @get("/picker", sync_to_thread=True, guards=[requires_staff])
    def picker(
        self, request: Request[Any, Any, Any], db: Db, chosen: FromQuery[int | None] = None
    ) -> Template:
        """The picker again: showing the organisation just chosen, or (without one) an empty search box."""
        organisation = organisation_for(db, request.user, chosen) if chosen else None
        return Template(
            "organisations/partials/_organisation_picker.html",
            context={"chosen": organisation, "errors": {}, "focus": True},
        )

    @get("/picker/results", sync_to_thread=True, guards=[requires_staff])
    def picker_results(
        self, request: Request[Any, Any, Any], db: Db, organisation_query: FromQuery[str] = ""
    ) -> Template:
        query = organisation_query.strip()[:200]
        page = None
        if query_terms(query):
            page = directory.directory_page(
                db, request.user, directory.DirectoryFilters(q=query), 1, PICKER_LIMIT
            )
        language = current_language.get()
        return Template(
            "organisations/partials/_organisation_picker_results.html",
            context={"query": query, "page": page, "country": lambda code: country_name(code, language)},
        )
