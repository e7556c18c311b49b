"""JSON API under /api/v1 for organisations, partner actors and contacts: same permissions as the web UI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.exceptions import HTTPException, NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm.accounts.models import User
from crm.accounts.permissions import found, refuse_unless, requires_login, requires_role
from crm.accounts.roles import Role
from crm.organisations import permissions, service
from crm.organisations.countries import resolve_country
from crm.organisations.models import Contact, Organisation, PartnerActor, PartnerType
from crm.organisations.schemas import (
    UNKNOWN_COUNTRY,
    ContactIn,
    ContactOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationUpdate,
    PartnerIn,
    PartnerOut,
    SortKey,
)
from crm.web.deps import Db
from crm.web.i18n import N_, gettext
from crm.web.pagination import MAX_PER_PAGE, Page

STAFF = (Role.ADMIN, Role.LIAISON_OFFICER)
BEARER = [{"bearer": []}]
# Ids are 32-bit integer columns: a larger number would overflow the database driver, so it names nothing.
MAX_ID = 2**31 - 1

ObjectId = Annotated[int, PathParameter(ge=1, description="The record's id.")]
PageNumber = Annotated[int, QueryParameter(ge=1, le=MAX_ID, description="Page number, from 1.")]
PerPage = Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE, description="Items per page (1-100).")]
Codes = Annotated[
    list[str] | None,
    QueryParameter(max_items=50, description="Repeat the parameter to match any of several."),
]
ApiRequest = Request[User, Any, Any]
"""Guards let only authenticated requests in, so `request.user` is always a User here."""


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


class PartnerPage(BaseModel):
    items: list[PartnerOut]
    page: int
    per_page: int
    total: int


class ContactUpdate(ContactIn):
    version: int


class PartnerUpdate(PartnerIn):
    version: int


class ErrorField(BaseModel):
    key: str | None = None
    message: str
    source: str | None = None


class ErrorDetail(BaseModel):
    status: int
    title: str
    detail: str
    fields: list[ErrorField] | None = None


class ApiError(BaseModel):
    """Every error of the API has this body (written by crm.web.errors)."""

    error: ErrorDetail


ERROR_DESCRIPTIONS = {
    400: "Invalid parameters or body; `fields` names each one",
    401: "No valid API token in `Authorization: Bearer`",
    403: "The token's user may not do this",
    404: "No such record, or the token's user may not see it",
    409: "The record changed since the version sent, or other records still refer to it",
}


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The error responses a handler documents: always 400 and 401, and the ones it adds."""
    return {
        status: ResponseSpec(
            data_container=ApiError, description=ERROR_DESCRIPTIONS[status], generate_examples=False
        )
        for status in (400, 401, *statuses)
    }


def _invalid(errors: dict[str, str], source: str) -> HTTPException:
    """A 400 whose fields read like Litestar's own validation errors: key, message, source."""
    fields = [{"key": key, "message": gettext(message), "source": source} for key, message in errors.items()]
    return HTTPException(
        status_code=HTTP_400_BAD_REQUEST, detail=gettext(N_("Some values are not valid.")), extra=fields
    )


def _conflict() -> HTTPException:
    return HTTPException(status_code=HTTP_409_CONFLICT)


# Access helpers: each returns the record or refuses, the way every handler starts. ------------------------


def _organisation_for(db: Session, user: User, organisation_id: int, full: bool = False) -> Organisation:
    """The organisation if this user may see it; 404 otherwise, so private records do not reveal they exist."""
    organisation = service.get_organisation(db, organisation_id, full) if organisation_id <= MAX_ID else None
    if organisation is None or not permissions.can_view(user, organisation):
        raise NotFoundException()
    return organisation


def _contact_for(db: Session, user: User, contact_id: int, edit: bool = False) -> Contact:
    contact: Contact = found(db.get(Contact, contact_id) if contact_id <= MAX_ID else None)
    if contact.organisation_id is None:
        # A partner actor's contact: personal data of the government's counterparts, for staff only.
        refuse_unless(permissions.is_staff(user), hide=True)
        return contact
    organisation = _organisation_for(db, user, contact.organisation_id)
    allowed = permissions.can_edit if edit else permissions.can_view_private
    refuse_unless(allowed(user, organisation))
    return contact


def _partner_for(db: Session, partner_id: int) -> PartnerActor:
    partner: PartnerActor = found(db.get(PartnerActor, partner_id) if partner_id <= MAX_ID else None)
    return partner


# What the service does not offer: filter checks, a page of contacts, partner writes. ---------------------


def _countries(field: str, values: list[str] | None) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(value.strip().upper() for value in values or ()))
    if any(len(code) != 2 or resolve_country(code) != code for code in codes):
        raise _invalid({field: UNKNOWN_COUNTRY}, "query")
    return codes


def _vocabulary_codes(db: Session, **given: list[str] | None) -> dict[str, tuple[str, ...]]:
    codes = {field: tuple(dict.fromkeys(values or ())) for field, values in given.items()}
    if not any(codes.values()):
        return codes
    vocab = service.vocabularies(db)
    known = {"sector": vocab.sectors, "capital": vocab.capital_kinds, "audience": vocab.audiences}
    errors = {
        field: N_("Choose from the list.")
        for field, values in codes.items()
        if any(code not in known[field] for code in values)
    }
    if errors:
        raise _invalid(errors, "query")
    return codes


def _contacts_page(db: Session, organisation_id: int | None, page: int, per_page: int) -> Page[Contact]:
    query = select(Contact)
    if organisation_id is not None:
        query = query.where(Contact.organisation_id == organisation_id)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(Contact.full_name, Contact.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(items=rows, number=page, per_page=per_page, total=total)


def _save_partner(db: Session, partner: PartnerActor, data: PartnerIn) -> None:
    for key, value in data.model_dump(mode="json", exclude={"version"}).items():
        setattr(partner, key, value)
    db.add(partner)
    db.flush()


def _organisation_out(user: User, organisation: Organisation) -> OrganisationOut:
    return OrganisationOut.for_viewer(organisation, permissions.can_view_private(user, organisation))


def _organisations_out(
    db: Session, user: User, organisations: Sequence[Organisation]
) -> list[OrganisationOut]:
    """The directory loads only sectors; the API shows every vocabulary: one more query per vocabulary."""
    if not organisations:
        return []
    loaded = {
        organisation.id: organisation
        for organisation in db.scalars(
            select(Organisation)
            .where(Organisation.id.in_([organisation.id for organisation in organisations]))
            .options(
                selectinload(Organisation.sector_rows),
                selectinload(Organisation.capital_kind_rows),
                selectinload(Organisation.audience_rows),
            )
        )
    }
    return [_organisation_out(user, loaded[organisation.id]) for organisation in organisations]


# Controllers -------------------------------------------------------------------------------------------


class OrganisationApiController(Controller):
    path = "/api/v1/organisations"
    tags = ["organisations"]
    include_in_schema = True
    security = BEARER
    guards = [requires_login]

    @get("/", summary="Search the directory of organisations", responses=_errors(), sync_to_thread=True)
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
        sort: Annotated[SortKey, QueryParameter()] = "name",
        page: PageNumber = 1,
        per_page: PerPage = 25,
    ) -> OrganisationPage:
        codes = _vocabulary_codes(db, sector=sector, capital=capital, audience=audience)
        filters = service.DirectoryFilters(
            q=q,
            residence=_countries("residence", residence),
            origin=_countries("origin", origin),
            sector=codes["sector"],
            capital=codes["capital"],
            audience=codes["audience"],
            vulnerable=vulnerable,
            consent=consent,
            sort=sort,
        )
        found_page = service.search_directory(db, request.user, filters, page, per_page)
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
        guards=[requires_role(*STAFF)],
        responses=_errors(403),
        sync_to_thread=True,
    )
    def create_organisation(
        self, request: ApiRequest, db: Db, data: JSONBody[OrganisationIn]
    ) -> OrganisationOut:
        try:
            organisation = service.create_organisation(db, data)
        except service.OrganisationError as exc:
            raise _invalid(exc.errors, "body") from None
        return _organisation_out(request.user, organisation)

    @get(
        "/{organisation_id:int}", summary="Read an organisation", responses=_errors(404), sync_to_thread=True
    )
    def read_organisation(self, request: ApiRequest, db: Db, organisation_id: ObjectId) -> OrganisationOut:
        return _organisation_out(request.user, _organisation_for(db, request.user, organisation_id))

    @put(
        "/{organisation_id:int}",
        summary="Update an organisation (send the version you read; 409 if it changed since)",
        responses=_errors(403, 404, 409),
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
        organisation = _organisation_for(db, user, organisation_id)
        refuse_unless(permissions.can_edit(user, organisation))
        try:
            service.update_organisation(db, organisation, data, data.version)
        except service.StaleVersion:
            raise _conflict() from None
        except service.OrganisationError as exc:
            raise _invalid(exc.errors, "body") from None
        return _organisation_out(user, organisation)

    @delete(
        "/{organisation_id:int}",
        summary="Delete an organisation",
        guards=[requires_role(Role.ADMIN)],
        responses=_errors(403, 404),
        sync_to_thread=True,
    )
    def delete_organisation(self, request: ApiRequest, db: Db, organisation_id: ObjectId) -> None:
        organisation = _organisation_for(db, request.user, organisation_id)
        service.delete_organisation(db, organisation)

    @get(
        "/{organisation_id:int}/contacts",
        summary="List an organisation's contacts",
        tags=["contacts"],
        responses=_errors(403, 404),
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
        organisation = _organisation_for(db, user, organisation_id)
        refuse_unless(permissions.can_view_private(user, organisation))
        contacts = _contacts_page(db, organisation.id, page, per_page)
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
        responses=_errors(403, 404),
        sync_to_thread=True,
    )
    def add_contact(
        self, request: ApiRequest, db: Db, organisation_id: ObjectId, data: JSONBody[ContactIn]
    ) -> ContactOut:
        user = request.user
        organisation = _organisation_for(db, user, organisation_id)
        refuse_unless(permissions.can_edit(user, organisation))
        return ContactOut.model_validate(service.add_contact(db, organisation, data))


class ContactApiController(Controller):
    path = "/api/v1/contacts"
    tags = ["contacts"]
    include_in_schema = True
    security = BEARER
    guards = [requires_login]

    @get(
        "/",
        summary="List every contact, or one organisation's (staff only)",
        guards=[requires_role(*STAFF)],
        responses=_errors(403),
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
        contacts = _contacts_page(db, organisation, page, per_page)
        return ContactPage(
            items=[ContactOut.model_validate(c) for c in contacts.items],
            page=contacts.number,
            per_page=contacts.per_page,
            total=contacts.total,
        )

    @get("/{contact_id:int}", summary="Read a contact", responses=_errors(403, 404), sync_to_thread=True)
    def read_contact(self, request: ApiRequest, db: Db, contact_id: ObjectId) -> ContactOut:
        return ContactOut.model_validate(_contact_for(db, request.user, contact_id))

    @put(
        "/{contact_id:int}",
        summary="Update a contact (send the version you read; 409 if it changed since)",
        responses=_errors(403, 404, 409),
        sync_to_thread=True,
    )
    def update_contact(
        self, request: ApiRequest, db: Db, contact_id: ObjectId, data: JSONBody[ContactUpdate]
    ) -> ContactOut:
        contact = _contact_for(db, request.user, contact_id, edit=True)
        changes = ContactIn.model_validate(data.model_dump(exclude={"version"}))
        try:
            service.update_contact(db, contact, changes, data.version)
        except service.StaleVersion:
            raise _conflict() from None
        return ContactOut.model_validate(contact)


class PartnerApiController(Controller):
    path = "/api/v1/partners"
    tags = ["partners"]
    include_in_schema = True
    security = BEARER
    # As the partner pages: the government's counterparts are for the government side.
    guards = [requires_role(*STAFF)]

    @get("/", summary="List partner actors", responses=_errors(), sync_to_thread=True)
    def list_partners(
        self,
        db: Db,
        q: Annotated[str, QueryParameter(max_length=200, description="Part of the name.")] = "",
        # Named as the query parameter, so a validation error names what the client sent.
        type: Annotated[PartnerType | None, QueryParameter(description="Kind of partner actor.")] = None,
        page: PageNumber = 1,
        per_page: PerPage = 25,
    ) -> PartnerPage:
        partners = service.list_partners(db, page, per_page, q=q, type_=type.value if type else "")
        return PartnerPage(
            items=[PartnerOut.model_validate(p) for p in partners.items],
            page=partners.number,
            per_page=partners.per_page,
            total=partners.total,
        )

    @post(
        "/",
        summary="Add a partner actor",
        guards=[requires_role(*STAFF)],
        responses=_errors(403),
        sync_to_thread=True,
    )
    def create_partner(self, db: Db, data: JSONBody[PartnerIn]) -> PartnerOut:
        partner = PartnerActor()
        _save_partner(db, partner, data)
        return PartnerOut.model_validate(partner)

    @get("/{partner_id:int}", summary="Read a partner actor", responses=_errors(404), sync_to_thread=True)
    def read_partner(self, db: Db, partner_id: ObjectId) -> PartnerOut:
        return PartnerOut.model_validate(_partner_for(db, partner_id))

    @put(
        "/{partner_id:int}",
        summary="Update a partner actor (send the version you read; 409 if it changed since)",
        guards=[requires_role(*STAFF)],
        responses=_errors(403, 404, 409),
        sync_to_thread=True,
    )
    def update_partner(self, db: Db, partner_id: ObjectId, data: JSONBody[PartnerUpdate]) -> PartnerOut:
        partner = _partner_for(db, partner_id)
        if data.version != partner.version:
            raise _conflict()
        _save_partner(db, partner, data)
        return PartnerOut.model_validate(partner)


API_HANDLERS: list[ControllerRouterHandler] = [
    OrganisationApiController,
    ContactApiController,
    PartnerApiController,
]
