"""Rules and persistence for one organisation: profile edits, contacts, activities, merge (the directory is
directory.py, the vocabularies vocabularies.py)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session, selectinload

from crm.accounts.models import User
from crm.db.audit import record_event
from crm.db.base import utcnow
from crm.organisations import dedupe
from crm.organisations.models import (
    Activity,
    Contact,
    Initiative,
    Organisation,
    OrganisationAudience,
    OrganisationCapitalKind,
    OrganisationSector,
)
from crm.organisations.profile import (
    PROFILE_COLUMNS,
    Completeness,
    completeness,
    derived_columns,
)
from crm.organisations.schemas import ActivityIn, ContactIn, OrganisationIn
from crm.organisations.vocabularies import vocabularies
from crm.web.i18n import N_
from crm.web.pagination import Page


class OrganisationError(ValueError):
    """A refusal users can act on: field → message (an N_ string, translated where shown)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class StaleVersion(Exception):
    """The record changed since the client read it."""


# One organisation ------------------------------------------------------------------------------------


def get_organisation(session: Session, organisation_id: int, full: bool = False) -> Organisation | None:
    options = [
        selectinload(Organisation.sector_rows),
        selectinload(Organisation.capital_kind_rows),
        selectinload(Organisation.audience_rows),
    ]
    if full:
        options.append(selectinload(Organisation.initiatives))
    return session.scalar(select(Organisation).where(Organisation.id == organisation_id).options(*options))


def _check_codes(session: Session, data: OrganisationIn) -> None:
    vocab = vocabularies(session)
    errors = {}
    for name, known in (
        ("sectors", vocab.sectors),
        ("capital_kinds", vocab.capital_kinds),
        ("audiences", vocab.audiences),
    ):
        if any(code not in known for code in getattr(data, name)):
            errors[name] = N_("Choose from the list.")
    if errors:
        raise OrganisationError(errors)


def _apply(
    organisation: Organisation, data: OrganisationIn, initiatives_count: int, vulnerable: Collection[str]
) -> None:
    values = data.model_dump(exclude={"sectors", "capital_kinds", "audiences", "version"})
    for key, value in values.items():
        setattr(organisation, key, value.value if hasattr(value, "value") else value)
    organisation.contribution_modes = [str(mode) for mode in data.contribution_modes]
    organisation.sector_rows = [OrganisationSector(sector_code=c) for c in dict.fromkeys(data.sectors)]
    organisation.capital_kind_rows = [
        OrganisationCapitalKind(capital_kind_code=c) for c in dict.fromkeys(data.capital_kinds)
    ]
    organisation.audience_rows = [
        OrganisationAudience(audience_code=c) for c in dict.fromkeys(data.audiences)
    ]
    # Touching the row makes every save bump `version`, even one that only changes the linked vocabularies.
    organisation.updated_at = utcnow()
    refresh_derived(organisation, initiatives_count, vulnerable)


def _profile_values(organisation: Organisation, initiatives: Sequence[object]) -> dict[str, Any]:
    values = {column: getattr(organisation, column) for column in PROFILE_COLUMNS}
    values.update(
        sectors=organisation.sectors,
        capital_kinds=organisation.capital_kinds,
        audiences=organisation.audiences,
        initiatives=initiatives,
    )
    return values


def refresh_derived(
    organisation: Organisation, initiatives_count: int, vulnerable_audiences: Collection[str]
) -> None:
    """Recompute what is stored only to be searched, filtered and sorted (profile.derived_columns)."""
    values = _profile_values(organisation, ())
    values["name"] = organisation.name
    for column, value in derived_columns(values, initiatives_count, vulnerable_audiences).items():
        setattr(organisation, column, value)


def create_organisation(session: Session, data: OrganisationIn) -> Organisation:
    _check_codes(session, data)
    organisation = Organisation()
    _apply(organisation, data, 0, vocabularies(session).vulnerable_audiences)
    session.add(organisation)
    session.flush()
    return organisation


def update_organisation(
    session: Session, organisation: Organisation, data: OrganisationIn, version: int
) -> None:
    if version != organisation.version:
        raise StaleVersion()
    _check_codes(session, data)
    count = session.scalar(select(func.count()).where(Initiative.organisation_id == organisation.id)) or 0
    _apply(organisation, data, count, vocabularies(session).vulnerable_audiences)
    session.flush()


def delete_organisation(session: Session, organisation: Organisation) -> None:
    """Delete with everything that hangs on it, including the merged-away records that point to it."""
    session.execute(update(User).where(User.organisation_id == organisation.id).values(organisation_id=None))
    for merged in session.scalars(select(Organisation).where(Organisation.merged_into_id == organisation.id)):
        delete_organisation(session, merged)
    session.delete(organisation)
    session.flush()


def profile_completeness(organisation: Organisation) -> Completeness:
    return completeness(_profile_values(organisation, organisation.initiatives))


# Contacts and activities -----------------------------------------------------------------------------


def list_contacts(session: Session, organisation_id: int) -> list[Contact]:
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.organisation_id == organisation_id)
            .order_by(Contact.full_name, Contact.id)
        )
    )


def get_contact(session: Session, contact_id: int) -> Contact | None:
    return session.get(Contact, contact_id)


def contacts_page(session: Session, organisation_id: int | None, page: int, per_page: int) -> Page[Contact]:
    """A page of contacts by name: one organisation's, or (organisation_id None) everyone's."""
    query = select(Contact)
    if organisation_id is not None:
        query = query.where(Contact.organisation_id == organisation_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Contact.full_name, Contact.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(items=rows, number=page, per_page=per_page, total=total)


def add_contact(session: Session, organisation: Organisation, data: ContactIn) -> Contact:
    contact = Contact(organisation_id=organisation.id, **_plain(data.model_dump()))
    session.add(contact)
    session.flush()
    return contact


def update_contact(session: Session, contact: Contact, data: ContactIn, version: int) -> None:
    if version != contact.version:
        raise StaleVersion()
    for key, value in _plain(data.model_dump()).items():
        setattr(contact, key, value)
    session.flush()


def author_names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    """Who wrote the activities: names only (loading whole users would load their roles too)."""
    wanted = {id_ for id_ in ids if id_}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.full_name, User.email).where(User.id.in_(wanted)))
    return {row.id: row.full_name or row.email for row in rows}


def with_vocabularies(session: Session, organisations: Sequence[Organisation]) -> list[Organisation]:
    """The same organisations, in the same order, with every vocabulary loaded (one query per vocabulary)."""
    if not organisations:
        return []
    loaded = {
        organisation.id: organisation
        for organisation in session.scalars(
            select(Organisation)
            .where(Organisation.id.in_([organisation.id for organisation in organisations]))
            .options(
                selectinload(Organisation.sector_rows),
                selectinload(Organisation.capital_kind_rows),
                selectinload(Organisation.audience_rows),
            )
        )
    }
    return [loaded[organisation.id] for organisation in organisations]


def duplicate_candidates(session: Session, organisation: Organisation, limit: int = 10) -> list[Any]:
    """Live organisations in the same country of residence that look like this one, best match first, as
    (dedupe match, city) pairs."""
    rows = session.execute(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.acronym,
            Organisation.residence_country,
            Organisation.residence_city,
        ).where(
            Organisation.residence_country == organisation.residence_country,
            Organisation.merged_into_id.is_(None),
            Organisation.id != organisation.id,
        )
    ).all()
    index = dedupe.DuplicateIndex(
        (dedupe.Candidate(r.id, r.name, r.acronym, r.residence_country) for r in rows), threshold=70.0
    )
    cities = {r.id: r.residence_city for r in rows}
    matches = index.find(organisation.name, organisation.acronym, organisation.residence_country)
    return [(match, cities.get(match.existing.id)) for match in matches[:limit]]


def list_activities(session: Session, organisation_id: int, limit: int = 50) -> list[Activity]:
    return list(
        session.scalars(
            select(Activity)
            .where(Activity.organisation_id == organisation_id)
            .order_by(Activity.occurred_on.desc(), Activity.id.desc())
            .limit(limit)
        )
    )


def add_activity(
    session: Session, organisation: Organisation, author: User | None, data: ActivityIn
) -> Activity:
    activity = Activity(
        organisation_id=organisation.id,
        author_id=author.id if author else None,
        kind=data.kind.value,
        occurred_on=data.occurred_on,
        summary=data.summary,
    )
    session.add(activity)
    session.flush()
    return activity


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}


# Merge -----------------------------------------------------------------------------------------------


def merge_organisations(session: Session, survivor: Organisation, duplicate: Organisation) -> None:
    """Move everything linked to `duplicate` onto `survivor`; the duplicate stays, marked as merged, so its
    history (audit log, ids in other systems) still resolves."""
    if survivor.id == duplicate.id:
        raise OrganisationError({"duplicate": N_("An organisation cannot be merged into itself.")})
    if duplicate.merged_into_id is not None or survivor.merged_into_id is not None:
        raise OrganisationError({"duplicate": N_("This organisation has already been merged.")})
    moved = {}
    for model in (Contact, Activity, Initiative):
        result = session.execute(
            update(model).where(model.organisation_id == duplicate.id).values(organisation_id=survivor.id)
        )
        moved[model.__tablename__] = result.rowcount
    # Its representatives follow it, and speak for the survivor from now on. Their version moves on too, so
    # a user form opened before the merge cannot put a user back on the merged record.
    representatives = list(session.scalars(select(User.id).where(User.organisation_id == duplicate.id)))
    if representatives:
        session.execute(
            update(User)
            .where(User.id.in_(representatives))
            .values(organisation_id=survivor.id, version=User.version + 1)
            .execution_options(synchronize_session="fetch")
        )
    moved["users"] = len(representatives)
    for link, column in (
        (OrganisationSector, "sector_code"),
        (OrganisationCapitalKind, "capital_kind_code"),
        (OrganisationAudience, "audience_code"),
    ):
        mine = select(getattr(link, column)).where(link.organisation_id == survivor.id)
        session.execute(
            update(link)
            .where(link.organisation_id == duplicate.id, getattr(link, column).not_in(mine))
            .values(organisation_id=survivor.id)
        )
        session.execute(delete(link).where(link.organisation_id == duplicate.id))
    for column in (
        "acronym",
        "description",
        "residence_city",
        "founded_year",
        "legal_status",
        "website",
        "email",
        "phone",
        "members_count",
        "volunteers_count",
        "staff_count",
        "budget_band",
        "contribution_to",
    ):
        if getattr(survivor, column) in (None, "") and getattr(duplicate, column) not in (None, ""):
            setattr(survivor, column, getattr(duplicate, column))
    # The duplicate keeps its import key, so re-importing its source file does not bring it back.
    duplicate.merged_into_id = survivor.id
    session.flush()
    session.expire(survivor)
    fresh = get_organisation(session, survivor.id, full=True)
    assert fresh is not None
    refresh_derived(fresh, len(fresh.initiatives), vocabularies(session).vulnerable_audiences)
    record_event(
        session,
        "merge",
        "organisations",
        survivor.id,
        survivor_id=survivor.id,
        merged_id=duplicate.id,
        moved=moved,
        representatives=representatives,
    )
    session.flush()
