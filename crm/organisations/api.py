"""JSON API under /api/v1 for organisations, partner actors and contacts: same permissions as the web UI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.params import JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.accounts.permissions import ApiRequest, refuse_unless, requires, requires_role, requires_staff
from crm.accounts.roles import Role
from crm.organisations import access, directory, permissions, service, vocabularies
from crm.organisations.countries import resolve_country
from crm.organisations.models import Organisation
from crm.organisations.schemas import (
    UNKNOWN_COUNTRY,
    CapacityBandKey,
    ContactIn,
    ContactOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationUpdate,
    SortKey,
)
from crm.web.api import BEARER, MAX_ID, ObjectId, PageNumber, PerPage, conflict, errors, invalid
from crm.web.deps import Db
from crm.web.i18n import N_

Codes = Annotated[
    list[str] | None,
    QueryParameter(max_items=50, description="Repeat the parameter to match any of several."),
]


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    page: int
    per_page: int
    total: int
    total_is_lower_bound: bool = Field(
        default=False, description="True when counting stopped at `total` (10,000): narrow the filters."
    )


class ContactPage(BaseModel):
    items: list[ContactOut]
    page: int
    per_page: int
    total: int


class ContactUpdate(ContactIn):
    version: int


# Checks of the query parameters the service does not know. ---------------------------------------------


def _countries(field: str, values: list[str] | None) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(value.strip().upper() for value in values or ()))
    if any(len(code) != 2 or resolve_country(code) != code for code in codes):
        raise invalid({field: UNKNOWN_COUNTRY}, "query")
    return codes


def _vocabulary_codes(db: Session, **given: list[str] | None) -> dict[str, tuple[str, ...]]:
    codes = {field: tuple(dict.fromkeys(values or ())) for field, values in given.items()}
    if not any(codes.values()):
        return codes
    vocab = vocabularies.vocabularies(db)
    known = {"sector": vocab.sectors, "capital": vocab.capital_kinds, "audience": vocab.audiences}
    errors = {
        field: N_("Choose from the list.")
        for field, values in codes.items()
        if any(code not in known[field] for code in values)
    }
    if errors:
        raise invalid(errors, "query")
    return codes


def _organisation_out(user: User, organisation: Organisation) -> OrganisationOut:
    return OrganisationOut.for_viewer(organisation, permissions.can_view_private(user, organisation))


def _organisations_out(
    db: Session, user: User, organisations: Sequence[Organisation]
) -> list[OrganisationOut]:
    """The directory loads only sectors; the API shows every vocabulary."""
    return [
        _organisation_out(user, organisation) for organisation in service.with_vocabularies(db, organisations)
    ]


# Controllers -------------------------------------------------------------------------------------------


class OrganisationApiController(Controller):
    path = "/api/v1/organisations"
    tags = ["organisations"]
    include_in_schema = True
    security = BEARER
    guards = [requires(permissions.reads_directory)]

    @get("/", summary="Search the directory of organisations", responses=errors(), sync_to_thread=True)
    def list_organisations(
        self,
        request: ApiRequest,
        db: Db,
        q: Annotated[str, QueryParameter(max_length=200, description="Words of the name, city...")] = "",
        residence: Codes = None,
        origin: Codes = None,
        sector: Codes = None,
        capital: Codes = None,
        audience: Codes = None,
        vulnerable: Annotated[bool, QueryParameter(description="Serving vulnerable groups")] = False,
        consent: Annotated[bool, QueryParameter(description="Consented to share their data")] = False,
        capacity_band: Annotated[
            list[CapacityBandKey] | None,
            QueryParameter(
                max_items=5,
                description="Band of the latest validated assessment (`not_assessed` for none); repeat the "
                "parameter to match any of several. Government side only (403 otherwise).",
            ),
        ] = None,
        sort: Annotated[SortKey, QueryParameter()] = "name",
        page: PageNumber = 1,
        per_page: PerPage = 25,
    ) -> OrganisationPage:
        codes = _vocabulary_codes(db, sector=sector, capital=capital, audience=audience)
        if capacity_band:
            refuse_unless(permissions.can_filter_by_capacity(request.user))
        filters = directory.DirectoryFilters(
            q=q,
            residence=_countries("residence", residence),
            origin=_countries("origin", origin),
            sector=codes["sector"],
            capital=codes["capital"],
            audience=codes["audience"],
            vulnerable=vulnerable,
            consent=consent,
            capacity_band=tuple(dict.fromkeys(capacity_band or ())),
            sort=sort,
        )
        found_page = directory.search_directory(db, request.user, filters, page, per_page)
        return OrganisationPage(
            items=_organisations_out(db, request.user, found_page.items),
            page=found_page.number,
            per_page=found_page.per_page,
            total=found_page.total,
            total_is_lower_bound=found_page.more,
        )

    @post(
        "/",
        summary="Add an organisation",
        guards=[requires_staff],
        responses=errors(403),
        sync_to_thread=True,
    )
    def create_organisation(
        self, request: ApiRequest, db: Db, data: JSONBody[OrganisationIn]
    ) -> OrganisationOut:
        try:
            organisation = service.create_organisation(db, data)
        except service.OrganisationError as exc:
            raise invalid(exc.errors, "body") from None
        return _organisation_out(request.user, organisation)

    @get("/{organisation_id:int}", summary="Read an organisation", responses=errors(404), sync_to_thread=True)
    def read_organisation(self, request: ApiRequest, db: Db, organisation_id: ObjectId) -> OrganisationOut:
        return _organisation_out(request.user, access.organisation_for(db, request.user, organisation_id))

    @put(
        "/{organisation_id:int}",
        summary="Update an organisation (send the version you read; 409 if it changed since)",
        responses=errors(403, 404, 409),
        sync_to_thread=True,
    )
    def update_organisation(
        self,
        request: ApiRequest,
        db: Db,
        organisation_id: ObjectId,
        data: JSONBody[OrganisationUpdate],
    ) -> OrganisationOut:
        user = request.user
        organisation = access.editable_organisation_for(db, user, organisation_id)
        try:
            service.update_organisation(db, organisation, data, data.version)
        except service.StaleVersion:
            raise conflict() from None
        except service.OrganisationError as exc:
            raise invalid(exc.errors, "body") from None
        return _organisation_out(user, organisation)

    @delete(
        "/{organisation_id:int}",
        summary="Delete an organisation",
        guards=[requires_role(Role.ADMIN)],
        responses=errors(403, 404),
        sync_to_thread=True,
    )
    def delete_organisation(self, request: ApiRequest, db: Db, organisation_id: ObjectId) -> None:
        organisation = access.organisation_for(db, request.user, organisation_id)
        service.delete_organisation(db, organisation)

    @get(
        "/{organisation_id:int}/contacts",
        summary="List an organisation's contacts",
        tags=["contacts"],
        responses=errors(403, 404),
        sync_to_thread=True,
    )
    def list_organisation_contacts(
        self,
        request: ApiRequest,
        db: Db,
        organisation_id: ObjectId,
        page: PageNumber = 1,
        per_page: PerPage = 25,
    ) -> ContactPage:
        user = request.user
        organisation = access.organisation_for(db, user, organisation_id)
        refuse_unless(permissions.can_view_private(user, organisation))
        contacts = service.contacts_page(db, organisation.id, page, per_page)
        return ContactPage(
            items=[ContactOut.model_validate(c) for c in contacts.items],
            page=contacts.number,
            per_page=contacts.per_page,
            total=contacts.total,
        )

    @post(
        "/{organisation_id:int}/contacts",
        summary="Add a contact to an organisation",
        tags=["contacts"],
        responses=errors(403, 404),
        sync_to_thread=True,
    )
    def add_contact(
        self, request: ApiRequest, db: Db, organisation_id: ObjectId, data: JSONBody[ContactIn]
    ) -> ContactOut:
        user = request.user
        organisation = access.editable_organisation_for(db, user, organisation_id)
        return ContactOut.model_validate(service.add_contact(db, organisation, data))


class ContactApiController(Controller):
    path = "/api/v1/contacts"
    tags = ["contacts"]
    include_in_schema = True
    security = BEARER
    guards = [requires(permissions.reads_directory)]

    @get(
        "/",
        summary="List every contact, or one organisation's (staff only)",
        guards=[requires_staff],
        responses=errors(403),
        sync_to_thread=True,
    )
    def list_contacts(
        self,
        db: Db,
        organisation: Annotated[
            int | None, QueryParameter(ge=1, le=MAX_ID, description="Only this organisation's contacts.")
        ] = None,
        page: PageNumber = 1,
        per_page: PerPage = 25,
    ) -> ContactPage:
        contacts = service.contacts_page(db, organisation, page, per_page)
        return ContactPage(
            items=[ContactOut.model_validate(c) for c in contacts.items],
            page=contacts.number,
            per_page=contacts.per_page,
            total=contacts.total,
        )

    @get("/{contact_id:int}", summary="Read a contact", responses=errors(403, 404), sync_to_thread=True)
    def read_contact(self, request: ApiRequest, db: Db, contact_id: ObjectId) -> ContactOut:
        return ContactOut.model_validate(access.contact_for(db, request.user, contact_id))

    @put(
        "/{contact_id:int}",
        summary="Update a contact (send the version you read; 409 if it changed since)",
        responses=errors(403, 404, 409),
        sync_to_thread=True,
    )
    def update_contact(
        self, request: ApiRequest, db: Db, contact_id: ObjectId, data: JSONBody[ContactUpdate]
    ) -> ContactOut:
        contact = access.contact_for(db, request.user, contact_id, edit=True)
        changes = ContactIn.model_validate(data.model_dump(exclude={"version"}))
        try:
            service.update_contact(db, contact, changes, data.version)
        except service.StaleVersion:
            raise conflict() from None
        return ContactOut.model_validate(contact)


API_HANDLERS: list[ControllerRouterHandler] = [
    OrganisationApiController,
    ContactApiController,
]
