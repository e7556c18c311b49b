"""The partner actors' JSON API: the government side's counterparts, for the government side."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post, put
from litestar.params import JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from crm.accounts.permissions import ApiRequest, requires_staff
from crm.organisations.service import StaleVersion
from crm.partners import access, service
from crm.partners.models import PartnerType
from crm.partners.schemas import PartnerIn, PartnerOut, PartnerPage, PartnerUpdate
from crm.web.api import BEARER, ObjectId, PageNumber, PerPage, conflict, errors
from crm.web.deps import Db


class PartnerApiController(Controller):
    path = "/api/v1/partners"
    tags = ["partners"]
    include_in_schema = True
    security = BEARER
    # As the partner pages: the government's counterparts are for the government side.
    guards = [requires_staff]

    @get("/", summary="List partner actors", responses=errors(), sync_to_thread=True)
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
        guards=[requires_staff],
        responses=errors(403),
        sync_to_thread=True,
    )
    def create_partner(self, db: Db, data: JSONBody[PartnerIn]) -> PartnerOut:
        return PartnerOut.model_validate(service.create_partner(db, data))

    @get("/{partner_id:int}", summary="Read a partner actor", responses=errors(404), sync_to_thread=True)
    def read_partner(self, request: ApiRequest, db: Db, partner_id: ObjectId) -> PartnerOut:
        return PartnerOut.model_validate(access.partner_for(db, request.user, partner_id))

    @put(
        "/{partner_id:int}",
        summary="Update a partner actor (send the version you read; 409 if it changed since)",
        guards=[requires_staff],
        responses=errors(403, 404, 409),
        sync_to_thread=True,
    )
    def update_partner(
        self, request: ApiRequest, db: Db, partner_id: ObjectId, data: JSONBody[PartnerUpdate]
    ) -> PartnerOut:
        partner = access.partner_for(db, request.user, partner_id)
        try:
            service.update_partner(db, partner, data, data.version)
        except StaleVersion:
            raise conflict() from None
        return PartnerOut.model_validate(partner)


API_HANDLERS: list[ControllerRouterHandler] = [PartnerApiController]
