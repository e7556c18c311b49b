"""Assessments: frameworks (domains, indicators, level descriptors), rounds, responses, answers, officer
reviews, stored domain scores and the action plan; organisations get a peer-trainer consent and the capacity
band of their latest validated round (for the directory's filter)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 05:14:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "frameworks",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["previous_id"], ["frameworks.id"], name=op.f("fk_frameworks_previous_id_frameworks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frameworks")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_frameworks_key_version")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "framework_domains",
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["frameworks.id"],
            name=op.f("fk_framework_domains_framework_id_frameworks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_framework_domains")),
        sa.UniqueConstraint("framework_id", "code", name=op.f("uq_framework_domains_framework_id_code")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("framework_domains", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_framework_domains_code"), ["code"], unique=False)

    op.create_table(
        "assessment_rounds",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", crm.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("validated_at", crm.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("validated_by_id", sa.Integer(), nullable=True),
        sa.Column("validation_note", sa.Text(), nullable=True),
        sa.Column("self_score", sa.Float(), nullable=True),
        sa.Column("validated_score", sa.Float(), nullable=True),
        sa.Column("validated_band", sa.String(length=20), nullable=True),
        sa.Column("previous_round_id", sa.Integer(), nullable=True),
        sa.Column("change", sa.Float(), nullable=True),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["framework_id"], ["frameworks.id"], name=op.f("fk_assessment_rounds_framework_id_frameworks")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["users.id"],
            name=op.f("fk_assessment_rounds_opened_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_assessment_rounds_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["previous_round_id"],
            ["assessment_rounds.id"],
            name=op.f("fk_assessment_rounds_previous_round_id_assessment_rounds"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["validated_by_id"],
            ["users.id"],
            name=op.f("fk_assessment_rounds_validated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_rounds")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("assessment_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_rounds_framework_id"), ["framework_id"], unique=False)
        batch_op.create_index(
            "ix_assessment_rounds_latest",
            ["organisation_id"],
            unique=False,
            sqlite_where=sa.text("latest"),
            postgresql_where=sa.text("latest"),
        )
        batch_op.create_index(
            "ix_assessment_rounds_organisation", ["organisation_id", "opened_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assessment_rounds_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_assessment_rounds_in_progress",
            ["organisation_id"],
            unique=True,
            sqlite_where=sa.text("status != 'validated'"),
            postgresql_where=sa.text("status != 'validated'"),
        )

    op.create_table(
        "framework_indicators",
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question", sa.JSON(), nullable=False),
        sa.Column("guidance", sa.JSON(), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("mapping_kind", sa.String(length=10), nullable=True),
        sa.Column("maps_from", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["framework_domains.id"],
            name=op.f("fk_framework_indicators_domain_id_framework_domains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["frameworks.id"],
            name=op.f("fk_framework_indicators_framework_id_frameworks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_framework_indicators")),
        sa.UniqueConstraint("framework_id", "code", name=op.f("uq_framework_indicators_framework_id_code")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("framework_indicators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_framework_indicators_domain_id"), ["domain_id"], unique=False)

    op.create_table(
        "assessment_domain_scores",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("domain_code", sa.String(length=60), nullable=False),
        sa.Column("self_score", sa.Float(), nullable=True),
        sa.Column("validated_score", sa.Float(), nullable=True),
        sa.Column("validated_band", sa.String(length=20), nullable=True),
        sa.Column("spread", sa.Float(), nullable=True),
        sa.Column("change", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["framework_domains.id"],
            name=op.f("fk_assessment_domain_scores_domain_id_framework_domains"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_assessment_domain_scores_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["assessment_rounds.id"],
            name=op.f("fk_assessment_domain_scores_round_id_assessment_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", "domain_id", name=op.f("pk_assessment_domain_scores")),
    )
    with op.batch_alter_table("assessment_domain_scores", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assessment_domain_scores_latest",
            ["domain_code", "validated_band", "organisation_id"],
            unique=False,
            sqlite_where=sa.text("latest"),
            postgresql_where=sa.text("latest"),
        )

    op.create_table(
        "assessment_plan_actions",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["framework_domains.id"],
            name=op.f("fk_assessment_plan_actions_domain_id_framework_domains"),
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["framework_indicators.id"],
            name=op.f("fk_assessment_plan_actions_indicator_id_framework_indicators"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["assessment_rounds.id"],
            name=op.f("fk_assessment_plan_actions_round_id_assessment_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_plan_actions")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("assessment_plan_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_plan_actions_round_id"), ["round_id"], unique=False)

    op.create_table(
        "assessment_responses",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("respondent_role", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.Column("submitted_at", crm.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["users.id"],
            name=op.f("fk_assessment_responses_respondent_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["assessment_rounds.id"],
            name=op.f("fk_assessment_responses_round_id_assessment_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_responses")),
        sa.UniqueConstraint(
            "round_id", "respondent_id", name=op.f("uq_assessment_responses_round_id_respondent_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "indicator_reviews",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["framework_indicators.id"],
            name=op.f("fk_indicator_reviews_indicator_id_framework_indicators"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["users.id"],
            name=op.f("fk_indicator_reviews_officer_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["assessment_rounds.id"],
            name=op.f("fk_indicator_reviews_round_id_assessment_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_reviews")),
        sa.UniqueConstraint(
            "round_id", "indicator_id", name=op.f("uq_indicator_reviews_round_id_indicator_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "assessment_answers",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=2), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("updated_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["framework_indicators.id"],
            name=op.f("fk_assessment_answers_indicator_id_framework_indicators"),
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["assessment_responses.id"],
            name=op.f("fk_assessment_answers_response_id_assessment_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_answers")),
        sa.UniqueConstraint(
            "response_id", "indicator_id", name=op.f("uq_assessment_answers_response_id_indicator_id")
        ),
        sqlite_autoincrement=True,
    )
    # Plain ALTER TABLE, not batch mode: on SQLite a batch rebuilds the table and the full-text triggers that
    # hang on it (0002) would go with it.
    op.add_column(
        "organisations",
        sa.Column("peer_trainer_consent", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("organisations", sa.Column("capacity_band", sa.String(length=20), nullable=True))
    op.create_index(
        "ix_organisations_capacity_band",
        "organisations",
        ["capacity_band", "name_key"],
        unique=False,
        sqlite_where=sa.text("merged_into_id IS NULL"),
        postgresql_where=sa.text("merged_into_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_organisations_capacity_band", table_name="organisations")
    # SQLite 3.35+ drops a column in place (no rebuild): the full-text triggers stay.
    op.drop_column("organisations", "capacity_band")
    op.drop_column("organisations", "peer_trainer_consent")

    op.drop_table("assessment_answers")
    op.drop_table("indicator_reviews")
    op.drop_table("assessment_responses")
    with op.batch_alter_table("assessment_plan_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_plan_actions_round_id"))

    op.drop_table("assessment_plan_actions")
    with op.batch_alter_table("assessment_domain_scores", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_assessment_domain_scores_latest",
            sqlite_where=sa.text("latest"),
            postgresql_where=sa.text("latest"),
        )

    op.drop_table("assessment_domain_scores")
    with op.batch_alter_table("framework_indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_framework_indicators_domain_id"))

    op.drop_table("framework_indicators")
    with op.batch_alter_table("assessment_rounds", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_assessment_rounds_in_progress",
            sqlite_where=sa.text("status != 'validated'"),
            postgresql_where=sa.text("status != 'validated'"),
        )
        batch_op.drop_index(batch_op.f("ix_assessment_rounds_status"))
        batch_op.drop_index("ix_assessment_rounds_organisation")
        batch_op.drop_index(
            "ix_assessment_rounds_latest", sqlite_where=sa.text("latest"), postgresql_where=sa.text("latest")
        )
        batch_op.drop_index(batch_op.f("ix_assessment_rounds_framework_id"))

    op.drop_table("assessment_rounds")
    with op.batch_alter_table("framework_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_framework_domains_code"))

    op.drop_table("framework_domains")
    op.drop_table("frameworks")
