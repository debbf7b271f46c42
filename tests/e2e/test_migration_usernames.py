"""Migration 0006_users_username_canonical on a database that already has users, on SQLite (foreign
keys on, as the platform runs it) and on MariaDB: the canonical form is backfilled, nothing that
references a user is lost, accents stay distinct, and a clash stops the migration with the names."""

import uuid

import pytest
import sqlalchemy as sa
from conftest import MYSQL_URL, require_service

REVISION = "0006_users_username_canonical"


def sqlite_engine(path):
    engine = sa.create_engine(f"sqlite:///{path}")
    sa.event.listen(engine, "connect", lambda conn, _record: conn.execute("PRAGMA foreign_keys=ON"))
    return engine


@pytest.fixture(params=["sqlite", "mysql"])
def fresh_engine(request, tmp_path):
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path / "old.sqlite3")
        yield engine
        engine.dispose()
        return
    require_service("MariaDB", "127.0.0.1", 3306)
    name = f"studyhub_migration_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    engine = sa.create_engine(f"{MYSQL_URL}/{name}?charset=utf8mb4")
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    admin.dispose()


def migrate(engine, revision, direction="upgrade"):
    from alembic import command

    from studyhub.migrations.runner import alembic_config

    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, direction)(cfg, revision)


def add_users(engine, names):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO `groups` (id, name) VALUES (2, '学生')"))
        for number, name in enumerate(names, start=1):
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, username, password, email, first_name, last_name, is_superuser,"
                    " is_active, date_joined) VALUES (:id, :name, 'x', '', '', '', 0, 1, '2026-01-01 00:00:00')"
                ),
                {"id": number, "name": name},
            )
            conn.execute(sa.text("INSERT INTO user_groups (user_id, group_id) VALUES (:id, 2)"), {"id": number})


def test_existing_usernames_are_backfilled_and_nothing_referencing_them_is_lost(fresh_engine):
    migrate(fresh_engine, "0001_users")
    add_users(fresh_engine, ["Alice", "ＢＯＢ", "victor"])
    migrate(fresh_engine, REVISION)
    with fresh_engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT username, username_canonical FROM users ORDER BY id")).all()
        memberships = conn.execute(sa.text("SELECT count(*) FROM user_groups")).scalar()
    assert [tuple(row) for row in rows] == [("Alice", "alice"), ("ＢＯＢ", "bob"), ("victor", "victor")]
    assert memberships == 3  # no cascade from a recreated users table

    with fresh_engine.begin() as conn:  # accents stay distinct, on MariaDB too (binary columns)
        conn.execute(
            sa.text(
                "INSERT INTO users (id, username, username_canonical, password, email, first_name, last_name,"
                " is_superuser, is_active, date_joined)"
                " VALUES (4, 'víctor', 'víctor', 'x', '', '', '', 0, 1, '2026-01-01 00:00:00')"
            )
        )
    with pytest.raises(sa.exc.IntegrityError), fresh_engine.begin() as conn:  # one canonical form, one account
        conn.execute(
            sa.text(
                "INSERT INTO users (id, username, username_canonical, password, email, first_name, last_name,"
                " is_superuser, is_active, date_joined)"
                " VALUES (5, 'ALICE', 'alice', 'x', '', '', '', 0, 1, '2026-01-01 00:00:00')"
            )
        )

    with fresh_engine.begin() as conn:  # the old schema can't hold both (MariaDB's collation)
        conn.execute(sa.text("DELETE FROM users WHERE id = 4"))
    migrate(fresh_engine, "0001_users", "downgrade")  # and back
    with fresh_engine.connect() as conn:
        assert "username_canonical" not in {c["name"] for c in sa.inspect(conn).get_columns("users")}
        assert conn.execute(sa.text("SELECT count(*) FROM user_groups")).scalar() == 3


def test_names_that_clash_once_canonical_stop_the_migration_and_are_named(tmp_path):
    # SQLite only: MariaDB's old case-insensitive unique index never let such names in.
    fresh_engine = sqlite_engine(tmp_path / "clash.sqlite3")
    migrate(fresh_engine, "0001_users")
    add_users(fresh_engine, ["Alice", "alice"])
    with pytest.raises(RuntimeError, match="'Alice', 'alice'"):
        migrate(fresh_engine, REVISION)
    with fresh_engine.connect() as conn:  # refused before any change
        assert "username_canonical" not in {c["name"] for c in sa.inspect(conn).get_columns("users")}
