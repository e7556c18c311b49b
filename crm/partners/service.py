"""Partner actors: listing, adding and changing them (optimistic locking on `version`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.organisations.service import StaleVersion
from crm.partners.models import PartnerActor
from crm.partners.schemas import PartnerIn
from crm.web.pagination import Page


def get_partner(session: Session, partner_id: int) -> PartnerActor | None:
    return session.get(PartnerActor, partner_id)


def list_partners(
    session: Session, page: int, per_page: int, q: str = "", type_: str = ""
) -> Page[PartnerActor]:
    query = select(PartnerActor)
    if q:
        query = query.where(func.lower(PartnerActor.name).contains(q.strip().lower(), autoescape=True))
    if type_:
        query = query.where(PartnerActor.type == type_)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(PartnerActor.name, PartnerActor.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(items=rows, number=page, per_page=per_page, total=total)


def create_partner(session: Session, data: PartnerIn) -> PartnerActor:
    partner = PartnerActor(**data.model_dump(mode="json"))
    session.add(partner)
    session.flush()
    return partner


def update_partner(session: Session, partner: PartnerActor, data: PartnerIn, version: int) -> None:
    if version != partner.version:
        raise StaleVersion()
    for key, value in data.model_dump(mode="json", exclude={"version"}).items():
        setattr(partner, key, value)
    session.flush()
