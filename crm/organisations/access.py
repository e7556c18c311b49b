"""One access helper per resource, called at the top of every page, partial and API handler that takes an id:
it returns the record this user may see, or refuses (404 where even the record's existence is private)."""

from __future__ import annotations

from litestar.exceptions import NotFoundException

from crm.accounts.models import User
from crm.accounts.permissions import refuse_unless
from crm.organisations import permissions, service
from crm.organisations.models import Contact, Organisation
from crm.web.api import MAX_ID


def organisation_for(
    db: service.Session, user: User, organisation_id: int, full: bool = False
) -> Organisation:
    """The organisation if this user may see it (permissions.can_view); 404 otherwise."""
    organisation = (
        service.get_organisation(db, organisation_id, full=full) if organisation_id <= MAX_ID else None
    )
    if organisation is None or not permissions.can_view(user, organisation):
        raise NotFoundException()
    return organisation


def editable_organisation_for(db: service.Session, user: User, organisation_id: int) -> Organisation:
    """The organisation if this user may change it: 404 if they may not see it, 403 if only see it."""
    organisation = organisation_for(db, user, organisation_id)
    refuse_unless(permissions.can_edit(user, organisation))
    return organisation


def contact_for(db: service.Session, user: User, contact_id: int, edit: bool = False) -> Contact:
    """A contact (personal data): its organisation's private data rule, or staff only for a partner's."""
    contact = service.get_contact(db, contact_id) if contact_id <= MAX_ID else None
    if contact is None:
        raise NotFoundException()
    if contact.organisation_id is None:
        # A partner actor's contact: personal data of the government's counterparts, for staff only.
        refuse_unless(permissions.is_staff(user), hide=True)
        return contact
    organisation = organisation_for(db, user, contact.organisation_id)
    allowed = permissions.can_edit if edit else permissions.can_view_private
    refuse_unless(allowed(user, organisation))
    return contact
