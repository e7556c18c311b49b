"""Who may see or change an organisation and its private data (contacts, activities)."""

from __future__ import annotations

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.organisations.models import Organisation


def is_staff(user: User) -> bool:
    """Government side: sees every organisation, including those that did not consent to share."""
    return user.has_role(Role.ADMIN, Role.LIAISON_OFFICER)


def represents(user: User, organisation: Organisation) -> bool:
    return user.has_role(Role.ORG_REPRESENTATIVE) and user.organisation_id == organisation.id


def can_view(user: User, organisation: Organisation) -> bool:
    if organisation.merged_into_id is not None:
        return is_staff(user)
    return is_staff(user) or organisation.consent_to_share or represents(user, organisation)


def can_edit(user: User, organisation: Organisation) -> bool:
    return organisation.merged_into_id is None and (is_staff(user) or represents(user, organisation))


def can_view_private(user: User, organisation: Organisation) -> bool:
    """Contacts (personal data) and the activity log."""
    return is_staff(user) or represents(user, organisation)


def can_delete(user: User) -> bool:
    return user.has_role(Role.ADMIN)


def can_see_contact_details(user: User) -> bool:
    """In exports across organisations, personal data is for the government side only."""
    return is_staff(user)
