"""What the framework pages read: every framework version with its size and its use, one version's questions
with the versions of the same framework, and how each indicator maps to the previous version, in words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.assessments.models import (
    AssessmentRound,
    Framework,
    FrameworkDomain,
    FrameworkIndicator,
    MappingKind,
    Text18n,
)
from crm.web.i18n import gettext as _


@dataclass(frozen=True)
class VersionSummary:
    id: int
    key: str
    version: int
    title: Text18n
    loaded_at: datetime
    domains: int
    indicators: int
    assessments: int


@dataclass(frozen=True)
class FrameworkFamily:
    """The versions of one framework (one key), newest first."""

    key: str
    versions: list[VersionSummary]

    @property
    def newest(self) -> VersionSummary:
        return self.versions[0]


def _count(model: type[FrameworkDomain] | type[FrameworkIndicator] | type[AssessmentRound]) -> object:
    return select(func.count()).where(model.framework_id == Framework.id).scalar_subquery()


def framework_families(session: Session) -> list[FrameworkFamily]:
    """Every framework by key, each version with its counts, in one statement."""
    rows = session.execute(
        select(
            Framework.id,
            Framework.key,
            Framework.version,
            Framework.title,
            Framework.loaded_at,
            _count(FrameworkDomain),
            _count(FrameworkIndicator),
            _count(AssessmentRound),
        ).order_by(Framework.key, Framework.version.desc())
    )
    families: dict[str, list[VersionSummary]] = {}
    for row in rows:
        summary = VersionSummary(*row)
        families.setdefault(summary.key, []).append(summary)
    return [FrameworkFamily(key, versions) for key, versions in families.items()]


@dataclass(frozen=True)
class VersionLink:
    id: int
    version: int


def versions_of(session: Session, framework: Framework) -> list[VersionLink]:
    """The versions of the same framework, newest first."""
    return [
        VersionLink(*row)
        for row in session.execute(
            select(Framework.id, Framework.version)
            .where(Framework.key == framework.key)
            .order_by(Framework.version.desc())
        )
    ]


def assessments_using(session: Session, framework_id: int) -> int:
    return session.scalar(select(func.count()).where(AssessmentRound.framework_id == framework_id)) or 0


def mapping_in_words(
    kind: str | None, sources: list[str], previous_version: int | None, href: Callable[[str], str]
) -> Markup:
    """How an indicator relates to the previous version, as the framework page says it, each earlier indicator
    a link (`href(code)`); empty for a first version, which maps to nothing."""
    if previous_version is None or kind is None:
        return Markup("")
    codes = Markup(", ").join(Markup('<a href="{}">{}</a>').format(href(code), code) for code in sources)
    words = {
        MappingKind.SAME.value: _("Same as %(codes)s in version %(version)d"),
        MappingKind.SPLIT.value: _("Split from %(codes)s in version %(version)d"),
        MappingKind.MERGED.value: _("Merged from %(codes)s in version %(version)d"),
        MappingKind.NEW.value: _("New in this version: compared with nothing in version %(version)d"),
    }
    sentence = words.get(kind)
    if sentence is None:
        return Markup("")
    return Markup(escape(sentence)) % {"codes": codes, "version": previous_version}
