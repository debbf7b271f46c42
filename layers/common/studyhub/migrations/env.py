"""Alembic environment: the URL comes from StudyHub's settings, the metadata from its models."""

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from studyhub.core.db import get_engine
from studyhub.models import load_all

config = context.config
if config.config_file_name is not None:  # the `alembic` command (alembic.ini): its progress lines
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = load_all()


def run_migrations_offline() -> None:
    context.configure(
        url=str(get_engine().url), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with get_engine().connect() as connection:
        _run(connection)


def _run(connection: Connection) -> None:
    # render_as_batch: SQLite can't ALTER most things; batch mode recreates tables there.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
