"""Alembic environment: sees every domain's models, runs on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from crm.models import metadata

config = context.config
target_metadata = metadata


def include_name(name: str | None, type_: str, _parent: dict[str, str | None]) -> bool:
    # Engine-specific full-text structures are created by hand in a migration (see 0002), not by the models.
    if name is None:
        return True
    if type_ == "table" and name.startswith("organisations_fts"):
        return False
    return not (type_ == "index" and name == "ix_organisations_search")


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # Plain engine, without the app's PRAGMA foreign_keys=ON: SQLite batch migrations rebuild tables by
    # dropping them, which must not cascade into the rows that refer to them.
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things in place; batch mode rebuilds tables the same way on both engines.
            render_as_batch=True,
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
