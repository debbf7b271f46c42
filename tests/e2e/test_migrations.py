"""The Alembic migrations create exactly what the models declare, on SQLite and on MariaDB."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_models_and_migrations_agree(platform):
    from studyhub.core.db import get_engine
    from studyhub.models import load_all

    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, load_all())
    assert diff == [], diff


def test_single_base_and_every_head_applied(platform):
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from studyhub.core.db import get_engine
    from studyhub.migrations.runner import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_bases()) == 1
    with get_engine().connect() as connection:
        applied = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    assert applied == set(script.get_heads())
