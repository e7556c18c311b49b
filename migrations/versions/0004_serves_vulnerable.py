"""Organisations: serves_vulnerable, kept from their audiences, with a partial index for the directory filter

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:30:00

"Serves vulnerable groups" was a test on the audience links (any audience flagged vulnerable): at 100,000
organisations a count or a deep page with it took 15-45 ms. Stored on the row, like completeness, it is an index
range. The service keeps it up to date when audiences or the vulnerable flags change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("merged_into_id IS NULL")
BACKFILL = """
UPDATE organisations SET serves_vulnerable = EXISTS (
    SELECT 1 FROM organisation_audiences
    JOIN audiences ON audiences.code = organisation_audiences.audience_code
    WHERE organisation_audiences.organisation_id = organisations.id AND audiences.vulnerable
)
"""


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch rebuild: SQLite would drop the full-text triggers with the old table.
    op.add_column(
        "organisations",
        sa.Column("serves_vulnerable", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(BACKFILL)
    op.create_index(
        "ix_organisations_vulnerable",
        "organisations",
        ["serves_vulnerable", "name"],
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_organisations_vulnerable", table_name="organisations")
    op.execute("ALTER TABLE organisations DROP COLUMN serves_vulnerable")
