"""Peer training: programmes (targeted domains, trainers), enrolments and participants, session series (local
wall time plus IANA zone, weekly recurrence) with moved and cancelled occurrences, attendance, feedback, and the
hashed tokens of calendar feeds

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:33:24.576220
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm.db.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feed_tokens",
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=True),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("created_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", crm.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_calendar_feed_tokens_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed_tokens")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("calendar_feed_tokens", schema=None) as batch_op:
        batch_op.create_index(
            "ix_calendar_feed_tokens_owner", ["owner_id", "scope", "scope_id"], unique=False
        )

    op.create_table(
        "training_programmes",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lead_organisation_id", sa.Integer(), nullable=True),
        sa.Column("places", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_training_programmes_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_training_programmes_lead_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_programmes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("training_programmes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_programmes_lead_organisation_id"), ["lead_organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_training_programmes_status"), ["status"], unique=False)

    op.create_table(
        "training_enrolments",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_training_enrolments_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["training_programmes.id"],
            name=op.f("fk_training_enrolments_programme_id_training_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_enrolments")),
        sa.UniqueConstraint(
            "programme_id",
            "organisation_id",
            name=op.f("uq_training_enrolments_programme_id_organisation_id"),
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("training_enrolments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_enrolments_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "training_programme_domains",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("domain_code", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["training_programmes.id"],
            name=op.f("fk_training_programme_domains_programme_id_training_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("programme_id", "domain_code", name=op.f("pk_training_programme_domains")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("training_programme_domains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_programme_domains_domain_code"), ["domain_code"], unique=False
        )

    op.create_table(
        "training_programme_trainers",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["training_programmes.id"],
            name=op.f("fk_training_programme_trainers_programme_id_training_programmes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_training_programme_trainers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("programme_id", "user_id", name=op.f("pk_training_programme_trainers")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("training_programme_trainers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_programme_trainers_user_id"), ["user_id"], unique=False)

    op.create_table(
        "training_series",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("start_local", sa.DateTime(), nullable=False),
        sa.Column("end_local", sa.DateTime(), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("weekdays", sa.String(length=7), nullable=False),
        sa.Column("interval", sa.SmallInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("online_url", sa.String(length=500), nullable=False),
        sa.Column("cancelled_at", crm.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["training_programmes.id"],
            name=op.f("fk_training_series_programme_id_training_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_series")),
        sa.UniqueConstraint("uid", name=op.f("uq_training_series_uid")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("training_series", schema=None) as batch_op:
        batch_op.create_index("ix_training_series_programme", ["programme_id", "start_local"], unique=False)

    op.create_table(
        "training_feedback",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("original_start", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["training_series.id"],
            name=op.f("fk_training_feedback_series_id_training_series"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_training_feedback_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_feedback")),
        sa.UniqueConstraint(
            "series_id",
            "original_start",
            "user_id",
            name=op.f("uq_training_feedback_series_id_original_start_user_id"),
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("training_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_feedback_user_id"), ["user_id"], unique=False)

    op.create_table(
        "training_occurrence_changes",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("original_start", sa.DateTime(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("start_local", sa.DateTime(), nullable=True),
        sa.Column("end_local", sa.DateTime(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("updated_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["training_series.id"],
            name=op.f("fk_training_occurrence_changes_series_id_training_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_occurrence_changes")),
        sa.UniqueConstraint(
            "series_id",
            "original_start",
            name=op.f("uq_training_occurrence_changes_series_id_original_start"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "training_participants",
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["training_enrolments.id"],
            name=op.f("fk_training_participants_enrolment_id_training_enrolments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_training_participants_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_participants")),
        sa.UniqueConstraint(
            "enrolment_id", "user_id", name=op.f("uq_training_participants_enrolment_id_user_id")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("training_participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_participants_user_id"), ["user_id"], unique=False)

    op.create_table(
        "training_attendance",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("original_start", sa.DateTime(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("marked_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", crm.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["marked_by_id"],
            ["users.id"],
            name=op.f("fk_training_attendance_marked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["training_participants.id"],
            name=op.f("fk_training_attendance_participant_id_training_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["training_series.id"],
            name=op.f("fk_training_attendance_series_id_training_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "series_id", "original_start", "participant_id", name=op.f("pk_training_attendance")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("training_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_attendance_participant_id"), ["participant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("training_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_attendance_participant_id"))

    op.drop_table("training_attendance")
    with op.batch_alter_table("training_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_participants_user_id"))

    op.drop_table("training_participants")
    op.drop_table("training_occurrence_changes")
    with op.batch_alter_table("training_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_feedback_user_id"))

    op.drop_table("training_feedback")
    with op.batch_alter_table("training_series", schema=None) as batch_op:
        batch_op.drop_index("ix_training_series_programme")

    op.drop_table("training_series")
    with op.batch_alter_table("training_programme_trainers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_programme_trainers_user_id"))

    op.drop_table("training_programme_trainers")
    with op.batch_alter_table("training_programme_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_programme_domains_domain_code"))

    op.drop_table("training_programme_domains")
    with op.batch_alter_table("training_enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_enrolments_organisation_id"))

    op.drop_table("training_enrolments")
    with op.batch_alter_table("training_programmes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_programmes_status"))
        batch_op.drop_index(batch_op.f("ix_training_programmes_lead_organisation_id"))

    op.drop_table("training_programmes")
    with op.batch_alter_table("calendar_feed_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_calendar_feed_tokens_owner")

    op.drop_table("calendar_feed_tokens")
