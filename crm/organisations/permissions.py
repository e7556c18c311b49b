"""Who may see or change an organisation and its private data (contacts, activities): each rule once, in
both of its forms, the check on one organisation and the SQL condition for lists, counts, maps and exports."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, bindparam, or_

from crm.accounts.models import User
from crm.organisations.models import Organisation

# How a viewer's rows are chosen: staff see every live row, a representative the consenting ones and its own,
# anyone else the consenting ones. The SQL forms are built once per kind (the viewer's organisation is a bound
# parameter, OWN), so the directory's statements can be cached per kind.
STAFF, MEMBER, OUTSIDER = "staff", "member", "outsider"
OWN = "own_organisation"


def is_staff(user: User) -> bool:
    return user.is_staff


def reads_directory(user: User) -> bool:
    """Every role reads the directory (its public part at least); an account left with no role reads
    nothing."""
    return bool(user.role_rows)


def viewer_kind(user: User) -> str:
    if user.is_staff:
        return STAFF
    return MEMBER if user.represented_organisation_id is not None else OUTSIDER


def viewer_params(user: User) -> dict[str, int]:
    own = user.represented_organisation_id
    return {OWN: own} if viewer_kind(user) == MEMBER and own is not None else {}


def represents(user: User, organisation: Organisation) -> bool:
    return user.represented_organisation_id == organisation.id


def can_view(user: User, organisation: Organisation) -> bool:
    """The check on one organisation; `visible` below is the same rule as SQL."""
    kind = viewer_kind(user)
    if kind == STAFF:
        return True
    if organisation.merged_into_id is not None:
        return False
    return organisation.consent_to_share or (kind == MEMBER and represents(user, organisation))


def live() -> ColumnElement[bool]:
    return Organisation.merged_into_id.is_(None)


def consenting() -> ColumnElement[bool]:
    return Organisation.consent_to_share.is_(True)


def own_organisation() -> ColumnElement[bool]:
    return Organisation.id == bindparam(OWN)


def visible(kind: str) -> ColumnElement[bool]:
    """The live rows a viewer of this kind may see (bind OWN with viewer_params): the SQL form of can_view,
    for the directory, its counts, the map and the exports. Merged records are reached only by id (staff)."""
    if kind == STAFF:
        return live()
    if kind == MEMBER:
        return and_(live(), or_(consenting(), own_organisation()))
    return and_(live(), consenting())


def filters_by_capacity(kind: str) -> bool:
    """An organisation's capacity band is the result of its assessments, which only the organisation and the
    government side may see (crm.assessments.permissions): only staff select organisations by it. The
    directory's statements, built per kind of viewer, leave the filter out for anyone else."""
    return kind == STAFF


def can_filter_by_capacity(user: User) -> bool:
    return filters_by_capacity(viewer_kind(user))


def can_edit(user: User, organisation: Organisation) -> bool:
    return organisation.merged_into_id is None and (user.is_staff or represents(user, organisation))


def can_manage_representatives(user: User, organisation: Organisation) -> bool:
    """Who speaks for an organisation is the government side's to decide."""
    return user.is_staff and can_edit(user, organisation)


def can_view_private(user: User, organisation: Organisation) -> bool:
    """Contacts (personal data), the organisation's own email and phone, and the activity log."""
    return user.is_staff or represents(user, organisation)


def can_delete(user: User) -> bool:
    return user.is_admin


def can_see_contact_details(user: User) -> bool:
    """In exports across organisations, personal data is for the government side only."""
    return user.is_staff
