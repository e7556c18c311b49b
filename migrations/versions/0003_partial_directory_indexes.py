"""Partial indexes for the live directory (merged records excluded)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 08:10:00

Measured at 100,000 organisations (bench/): with a plain index on merged_into_id, SQLite judged
`merged_into_id IS NULL` selective and sorted the whole table for every directory page (23-600 ms).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("merged_into_id IS NULL")
LIVE_INDEXES = {
    "ix_organisations_residence": ["residence_country", "name"],
    "ix_organisations_origin": ["origin_country", "name"],
    "ix_organisations_name": ["name"],
    "ix_organisations_completeness": ["completeness"],
    "ix_organisations_created_at": ["created_at"],
}
OLD_ONLY = {"ix_organisations_consent_to_share": ["consent_to_share"]}


def upgrade() -> None:
    for name in [*LIVE_INDEXES, *OLD_ONLY, "ix_organisations_merged_into_id"]:
        op.drop_index(name, table_name="organisations")
    for name, columns in LIVE_INDEXES.items():
        op.create_index(name, "organisations", columns, sqlite_where=LIVE, postgresql_where=LIVE)
    op.create_index(
        "ix_organisations_consent",
        "organisations",
        ["consent_to_share", "name"],
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.create_index(
        "ix_organisations_merged_into_id",
        "organisations",
        ["merged_into_id"],
        sqlite_where=sa.text("merged_into_id IS NOT NULL"),
        postgresql_where=sa.text("merged_into_id IS NOT NULL"),
    )


def downgrade() -> None:
    for name in [*LIVE_INDEXES, "ix_organisations_consent", "ix_organisations_merged_into_id"]:
        op.drop_index(name, table_name="organisations")
    for name, columns in {
        **LIVE_INDEXES,
        **OLD_ONLY,
        "ix_organisations_merged_into_id": ["merged_into_id"],
    }.items():
        op.create_index(name, "organisations", columns)
