"""Assessment domain scores: the previous score kept with the change, and an index for peer recommendations

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:30:00

A validated round's results page compared it with the previous round by scoring that round's answers again
(and, across framework versions, loading the older framework): 5 to 6 ms per view. The comparison is found
once, when the round is validated; `previous_score` keeps what it found per domain next to the change it
already kept. Rows stored before this column existed keep NULL and are compared afresh when shown.

The results page also recommends, for each of the three weakest domains, five consenting peers mature in that
domain. Ranking every mature latest score in those domains took 20 to 30 ms at 10,000 organisations with 3
validated rounds each; with this partial index (latest rows only) each domain reads its highest scores from
one end of the index and stops after five qualifying peers (under 1 ms on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD COLUMN and CREATE INDEX, not batch mode: on SQLite a batch could rebuild the table.
def upgrade() -> None:
    op.add_column("assessment_domain_scores", sa.Column("previous_score", sa.Float(), nullable=True))
    op.create_index(
        "ix_assessment_domain_scores_peers",
        "assessment_domain_scores",
        ["domain_code", "validated_band", "validated_score", "organisation_id"],
        unique=False,
        sqlite_where=sa.text("latest"),
        postgresql_where=sa.text("latest"),
    )


def downgrade() -> None:
    op.drop_index("ix_assessment_domain_scores_peers", table_name="assessment_domain_scores")
    with op.batch_alter_table("assessment_domain_scores") as batch:
        batch.drop_column("previous_score")
