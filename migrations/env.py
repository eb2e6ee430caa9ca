"""Alembic environment for newsdesk.

Used both by the ``alembic`` command (config in ``[tool.alembic]`` of pyproject.toml, database from
``$NEWSDESK_DATABASE_URL`` or ``sqlite:///newsdesk.db``) and by ``storage.db.upgrade()``, which passes
an open connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from storage.db import make_engine, resolve_database_url
from storage.models import Base, include_object

config = context.config
target_metadata = Base.metadata

# Serialises concurrent upgrades of one PostgreSQL database (several workers starting at once).
_MIGRATION_LOCK_KEY = 0x6E657773  # "news"


def _database_url() -> str:
    # `alembic -x url=...` wins over $NEWSDESK_DATABASE_URL and the default SQLite file.
    return resolve_database_url(context.get_x_argument(as_dictionary=True).get("url"))


def _configure(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode recreates the table instead.
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,  # full-text search objects are not in the models
    )


def _run(connection: sa.Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_database_url())
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
