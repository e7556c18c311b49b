"""Ids are never reused: SQLite tables with an integer key become AUTOINCREMENT

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00

Without AUTOINCREMENT, SQLite gives the highest id again once its row is deleted, so the audit log's entries
about a deleted organisation named the next one created. SQLite cannot add AUTOINCREMENT in place: each table is
rebuilt, and the triggers that die with the old table (the audit log's append-only guard, the full-text sync of
organisations) are created again from their own SQL. PostgreSQL's sequences never go back: nothing to do there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables whose key is a single integer column.
TABLES = (
    "users",
    "user_sessions",
    "login_attempts",
    "api_tokens",
    "audit_log",
    "organisations",
    "partner_actors",
    "contacts",
    "initiatives",
    "activities",
)
# An id the audit log names (of a row deleted before this migration) is skipped as well.
AUDITED_IDS = sa.text(
    "SELECT MAX(CAST(entity_id AS INTEGER)) FROM audit_log "
    "WHERE entity = :table AND entity_id != '' AND entity_id NOT GLOB '*[^0-9]*'"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(autoincrement=True)
        _skip_audited_ids()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(autoincrement=False)


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    find_triggers = sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :tables")
    triggers = list(
        bind.execute(
            find_triggers.bindparams(sa.bindparam("tables", expanding=True)), {"tables": list(TABLES)}
        ).scalars()
    )
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ) as batch_op:
            if not autoincrement:
                # AUTOINCREMENT is written on the column, without the key's name: give it back.
                batch_op.create_primary_key(f"pk_{table}", ["id"])
    for sql in triggers:
        op.execute(sql)


def _skip_audited_ids() -> None:
    """Start each table's ids after the highest the audit log names, if that is above the table's own."""
    bind = op.get_bind()
    for table in TABLES:
        audited = bind.scalar(AUDITED_IDS, {"table": table}) or 0
        current = bind.scalar(
            sa.text("SELECT seq FROM sqlite_sequence WHERE name = :table"), {"table": table}
        )
        if current is None and audited:
            bind.execute(
                sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:table, :seq)"),
                {"table": table, "seq": audited},
            )
        elif current is not None and audited > current:
            bind.execute(
                sa.text("UPDATE sqlite_sequence SET seq = :seq WHERE name = :table"),
                {"table": table, "seq": audited},
            )
