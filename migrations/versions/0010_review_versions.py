"""Indicator reviews get a version: two officers reviewing the same indicator at once no longer overwrite each
other silently (the second gets a conflict, as answers and plan actions already do)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 11:00:00

Existing reviews start at version 1. The column is added with a server default for them, which is then dropped
(the model sets versions itself); on SQLite that second step rebuilds indicator_reviews, a table without
triggers or partial indexes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("indicator_reviews", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("indicator_reviews") as batch:
        batch.alter_column("version", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("indicator_reviews") as batch:
        batch.drop_column("version")
