"""The access helper of partner actors, called at the top of every page and API handler that takes an id."""

from __future__ import annotations

from litestar.exceptions import NotFoundException
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.partners import permissions, service
from crm.partners.models import PartnerActor
from crm.web.api import MAX_ID


def partner_for(db: Session, user: User, partner_id: int) -> PartnerActor:
    """A partner actor this user may see; 404 otherwise."""
    partner = service.get_partner(db, partner_id) if partner_id <= MAX_ID else None
    if partner is None or not permissions.can_view(user):
        raise NotFoundException()
    return partner
