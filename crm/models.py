"""Every domain's models, imported once so that Base.metadata holds the whole schema: Alembic's env, the
`crm` command and the tests import this module. A new domain adds its models here."""

from __future__ import annotations

import crm.accounts.models
import crm.assessments.models
import crm.db.audit
import crm.organisations.models
import crm.partners.models
import crm.training.models
from crm.db.base import Base

metadata = Base.metadata

__all__ = ["crm", "metadata"]
