"""The roles a user may hold, and what each one is called in the UI."""

from __future__ import annotations

import enum

from crm.web.i18n import N_


class Role(enum.StrEnum):
    ADMIN = "admin"
    LIAISON_OFFICER = "liaison_officer"
    ORG_REPRESENTATIVE = "org_representative"
    TRAINER = "trainer"


ROLE_LABELS = {
    Role.ADMIN: N_("Administrator"),
    Role.LIAISON_OFFICER: N_("Liaison officer"),
    Role.ORG_REPRESENTATIVE: N_("Organisation representative"),
    Role.TRAINER: N_("Trainer"),
}


# The government side: sees every organisation, partnership and assessment, including those that did not
# consent to share. Every guard, rule and template asks `is_staff`, never the two roles again.
STAFF_ROLES = (Role.ADMIN, Role.LIAISON_OFFICER)
