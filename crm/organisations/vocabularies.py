"""The reference vocabularies (sectors, kinds of diaspora capital, audiences): read through a per-process
cache, loaded from seeds/ by `crm seed reference`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from crm.db.reference_cache import ReferenceCache
from crm.organisations.models import Audience, CapitalKind, Organisation, OrganisationAudience, Sector


@dataclass(frozen=True, slots=True)
class Term:
    """One entry of a reference vocabulary, detached from any session (shared by every request)."""

    code: str
    label_en: str
    label_fr: str
    vulnerable: bool = False

    def label(self, language: str) -> str:
        return self.label_fr if language == "fr" else self.label_en


@dataclass(frozen=True)
class Vocabularies:
    sectors: dict[str, Term] = field(default_factory=dict)
    capital_kinds: dict[str, Term] = field(default_factory=dict)
    audiences: dict[str, Term] = field(default_factory=dict)

    @property
    def vulnerable_audiences(self) -> tuple[str, ...]:
        return tuple(code for code, term in self.audiences.items() if term.vulnerable)


def _load_vocabularies(session: Session) -> Vocabularies:
    def terms(model: Any) -> dict[str, Term]:
        columns = [model.code, model.label_en, model.label_fr]
        if model is Audience:
            columns.append(Audience.vulnerable)
        return {row[0]: Term(*row) for row in session.execute(select(*columns).order_by(model.position))}

    return Vocabularies(sectors=terms(Sector), capital_kinds=terms(CapitalKind), audiences=terms(Audience))


_vocabularies = ReferenceCache(_load_vocabularies, models=(Sector, CapitalKind, Audience))


def vocabularies(session: Session) -> Vocabularies:
    """Sectors, capital kinds and audiences in their configured order (cached per process, see
    crm.db.reference_cache)."""
    return _vocabularies.get(session)


def load_reference(
    session: Session,
    sectors: list[dict[str, Any]],
    capital_kinds: list[dict[str, Any]],
    audiences: list[dict[str, Any]],
) -> None:
    """Insert or update the reference vocabularies (idempotent)."""
    flags_changed = False
    for model, entries in ((Sector, sectors), (CapitalKind, capital_kinds), (Audience, audiences)):
        for position, entry in enumerate(entries):
            row = session.get(model, entry["code"]) or model(code=entry["code"])
            row.label_en = entry["en"]
            row.label_fr = entry["fr"]
            row.position = position
            if model is Audience:
                vulnerable = bool(entry.get("vulnerable", False))
                flags_changed |= row.vulnerable is not None and row.vulnerable != vulnerable
                row.vulnerable = vulnerable
            session.add(row)
    session.flush()
    if flags_changed:
        refresh_serves_vulnerable(session)


def refresh_serves_vulnerable(session: Session) -> None:
    """Recompute serves_vulnerable for every organisation, after the audiences' vulnerable flags changed."""
    vulnerable_link = (
        select(OrganisationAudience.organisation_id)
        .join(Audience, Audience.code == OrganisationAudience.audience_code)
        .where(OrganisationAudience.organisation_id == Organisation.id, Audience.vulnerable.is_(True))
    )
    session.execute(
        update(Organisation).values(serves_vulnerable=exists(vulnerable_link)),
        execution_options={"synchronize_session": False},
    )
    session.expire_all()
