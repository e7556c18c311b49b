"""Assessment rounds: the latest rounds by change, for the portfolio's largest gains and declines

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:00:00

The portfolio lists the ten organisations whose latest validated round changed most, up and down. Without an
index each list sorted every organisation's latest round: at 10,000 organisations with 3 validated rounds each,
13 to 15 ms per list on SQLite and 15 to 30 ms on PostgreSQL, two lists per page. With this partial index
(latest rounds only, with the organisation for the filters) each list reads about ten entries from one end:
0.1 ms on SQLite, under 1 ms on PostgreSQL; the unfiltered portfolio went from about 54 to 33 ms (SQLite) and
44 to 32 ms (PostgreSQL), fastest of 30 runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain CREATE INDEX, not batch mode: on SQLite a batch could rebuild the table (and drop what hangs on it).
def upgrade() -> None:
    op.create_index(
        "ix_assessment_rounds_latest_change",
        "assessment_rounds",
        ["change", "organisation_id"],
        unique=False,
        sqlite_where=sa.text("latest"),
        postgresql_where=sa.text("latest"),
    )


def downgrade() -> None:
    op.drop_index("ix_assessment_rounds_latest_change", table_name="assessment_rounds")
