"""Organisations: name_key, the name as the directory sorts it (accents and case ignored), in the sort indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00

Sorting by the stored name put "Étudiants" after "Sénégalais" (and lower case after upper case). The sort key
is computed by crm.organisations.profile.name_key, the function the app uses on every save, and replaces the
name in every index that serves a sort by name.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm.organisations.profile import name_key

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("merged_into_id IS NULL")
BATCH = 5_000
# (index, leading column or None): each ends with the name it sorts by.
INDEXES = (
    ("ix_organisations_residence", "residence_country"),
    ("ix_organisations_origin", "origin_country"),
    ("ix_organisations_consent", "consent_to_share"),
    ("ix_organisations_vulnerable", "serves_vulnerable"),
)


def _backfill() -> None:
    connection = op.get_bind()
    organisations = sa.table("organisations", sa.column("id"), sa.column("name"), sa.column("name_key"))
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(organisations.c.id, organisations.c.name)
            .where(organisations.c.id > last_id)
            .order_by(organisations.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            sa.update(organisations)
            .where(organisations.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("key")),
            [{"row_id": id_, "key": name_key(name)} for id_, name in rows],
        )
        last_id = rows[-1][0]


def _index(name: str, *columns: str) -> None:
    op.create_index(name, "organisations", list(columns), sqlite_where=LIVE, postgresql_where=LIVE)


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch rebuild: SQLite would drop the full-text triggers with the old table.
    op.add_column("organisations", sa.Column("name_key", sa.String(200), nullable=False, server_default=""))
    _backfill()
    op.drop_index("ix_organisations_name", table_name="organisations")
    _index("ix_organisations_name_key", "name_key")
    for index, leading in INDEXES:
        op.drop_index(index, table_name="organisations")
        _index(index, leading, "name_key")


def downgrade() -> None:
    for index, leading in INDEXES:
        op.drop_index(index, table_name="organisations")
        _index(index, leading, "name")
    op.drop_index("ix_organisations_name_key", table_name="organisations")
    _index("ix_organisations_name", "name")
    op.execute("ALTER TABLE organisations DROP COLUMN name_key")
