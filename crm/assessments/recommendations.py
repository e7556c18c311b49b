"""Who to learn from in an organisation's weakest domains: peer organisations rated mature in that domain by
their latest validated assessment that agreed to be listed as peer trainers, each with the reason it is
recommended. A peer is shown by its name and the domain it is strong in, never by its scores.
(Training programmes that target the domains join here once programmes exist.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ScalarSelect, select, union_all
from sqlalchemy.orm import Session, load_only

from crm.accounts.models import User
from crm.assessments.models import DomainScore, Framework, FrameworkDomain, Text18n, text_in
from crm.assessments.portfolio import LATEST_DOMAIN_SCORE
from crm.assessments.results import DomainResult
from crm.assessments.scoring import Band
from crm.organisations import permissions as organisation_permissions
from crm.organisations.models import Organisation
from crm.web.i18n import gettext

# Peers listed per weak domain: enough to choose from, few enough to read.
PEERS_PER_DOMAIN = 5
WEAK_DOMAINS = 3


@dataclass(frozen=True)
class PeerRecommendation:
    organisation_id: int
    name: str
    domain_code: str
    domain_name: Text18n
    # Whether the reader may open the peer's profile (the directory's own rule).
    profile_visible: bool

    def reason(self, language: str) -> str:
        return gettext(
            "Mature in “%(domain)s” by its latest validated assessment; agreed to train peers."
        ) % {"domain": text_in(self.domain_name, language)}


@dataclass(frozen=True)
class WeakDomain:
    code: str
    name: Text18n
    peers: list[PeerRecommendation]


def weak_domains_to_strengthen(
    scores: Sequence[DomainResult], count: int = WEAK_DOMAINS
) -> list[DomainResult]:
    """The weakest domains by validated score that are not mature yet (a mature domain needs no peer)."""
    scored = [d for d in scores if d.validated_score is not None and d.band != Band.MATURE]
    return sorted(scored, key=lambda d: (d.validated_score, d.code))[:count]


def recommendations(
    session: Session,
    viewer: User,
    organisation_id: int,
    framework: Framework,
    domains: Sequence[FrameworkDomain],
) -> list[WeakDomain]:
    """For each of these domains (the organisation's weakest), the peers to learn from, in one statement.

    A peer qualifies when its latest validated assessment (of the same framework, any version) rates it
    mature in a domain of the same code, it agreed to be listed as a peer trainer, it is not this
    organisation, and it was not merged into another record. Each domain lists the five with the highest
    scores there (equal scores: the most recently created record first), in alphabetical order."""
    if not domains:
        return []
    codes = [d.code for d in domains]

    # The domains of this code in every version of the framework: a few ids, so each part below joins one
    # table and stays cheap to plan.
    def versions_of(code: str) -> ScalarSelect[int]:
        return (
            select(FrameworkDomain.id)
            .join(Framework, Framework.id == FrameworkDomain.framework_id)
            .where(Framework.key == framework.key, FrameworkDomain.code == code)
            .scalar_subquery()
        )

    # Per domain, the highest latest mature scores read from one end of ix_assessment_domain_scores_peers,
    # stopping at the fifth peer that qualifies; one statement for all the domains.
    per_domain = [
        select(DomainScore.domain_code, DomainScore.organisation_id)
        .join(Organisation, Organisation.id == DomainScore.organisation_id)
        .where(
            LATEST_DOMAIN_SCORE,
            DomainScore.domain_code == code,
            DomainScore.validated_band == Band.MATURE.value,
            DomainScore.domain_id.in_(versions_of(code)),
            DomainScore.organisation_id != organisation_id,
            Organisation.peer_trainer_consent.is_(True),
            Organisation.merged_into_id.is_(None),
        )
        .order_by(DomainScore.validated_score.desc(), DomainScore.organisation_id.desc())
        .limit(PEERS_PER_DOMAIN)
        .subquery()
        for code in codes
    ]
    chosen = union_all(
        *(select(part.c.domain_code, part.c.organisation_id) for part in per_domain)
    ).subquery()
    rows = session.execute(
        select(chosen.c.domain_code, Organisation)
        .join(Organisation, Organisation.id == chosen.c.organisation_id)
        # What the card shows and the directory's visibility rule reads, nothing more.
        .options(
            load_only(
                Organisation.name,
                Organisation.name_key,
                Organisation.merged_into_id,
                Organisation.consent_to_share,
            )
        )
        .order_by(chosen.c.domain_code, Organisation.name_key, Organisation.id)
    ).all()
    by_code: dict[str, list[PeerRecommendation]] = {code: [] for code in codes}
    names = {d.code: d.name for d in domains}
    for code, organisation in rows:
        by_code[code].append(
            PeerRecommendation(
                organisation.id,
                organisation.name,
                code,
                names[code],
                organisation_permissions.can_view(viewer, organisation),
            )
        )
    return [WeakDomain(d.code, d.name, by_code[d.code]) for d in domains]
