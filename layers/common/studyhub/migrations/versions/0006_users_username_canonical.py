"""users: the canonical form of each username (NFKC, case-folded), unique, compared binary

Revision ID: 0006_users_username_canonical
Revises: 0001_users
Create Date: 2026-11-25

Every spelling of a name (`Alice`, `ALICE`, full-width `Ａｌｉｃｅ`) is one account: the new
column holds `canonical_username(username)`, backfilled here in Python, and carries the unique
index. On MySQL/MariaDB both name columns become `utf8mb4_bin`: the database's default collation
would call `víctor` and `victor` one name (and refuse the second account).

No step recreates the `users` table (SQLite's batch "move and copy"): with foreign keys on, its
DROP TABLE would cascade into every table that references a user.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from studyhub.core.usernames import MAX_USERNAME_LENGTH, canonical_username

revision = "0006_users_username_canonical"
down_revision = "0001_users"
branch_labels = None
depends_on = None

PLAIN = sa.String(length=MAX_USERNAME_LENGTH)
BINARY = sa.String(length=MAX_USERNAME_LENGTH).with_variant(
    mysql.VARCHAR(MAX_USERNAME_LENGTH, collation="utf8mb4_bin"), "mysql", "mariadb"
)


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def _canonical_forms() -> dict[int, str]:
    """Every user's canonical form, or a clear refusal before any change to the schema (SQLite
    commits DDL at once, so a failure after ADD COLUMN would leave the column behind)."""
    rows = op.get_bind().execute(sa.text("SELECT id, username FROM users")).all()
    forms = {id_: canonical_username(username) for id_, username in rows}
    owners: dict[str, list[str]] = {}
    for id_, username in rows:
        owners.setdefault(forms[id_], []).append(username)
    clashes = [names for names in owners.values() if len(names) > 1]
    too_long = [username for id_, username in rows if len(forms[id_]) > MAX_USERNAME_LENGTH]
    if clashes or too_long:
        # Refuse rather than pick a winner: an operator renames the accounts, then migrates again.
        raise RuntimeError(
            "cannot add users.username_canonical: "
            + (f"these usernames are one name once canonical (NFKC, case-folded): {clashes}; " if clashes else "")
            + (f"these canonical forms exceed {MAX_USERNAME_LENGTH} characters: {too_long}; " if too_long else "")
            + "rename them and run the migration again"
        )
    return forms


def _backfill(forms: dict[int, str]) -> None:
    if forms:
        op.get_bind().execute(
            sa.text("UPDATE users SET username_canonical = :canonical WHERE id = :id"),
            [{"canonical": canonical, "id": id_} for id_, canonical in forms.items()],
        )


def upgrade() -> None:
    forms = _canonical_forms()
    # NOT NULL needs a default to add to existing rows; SQLite can't drop it afterwards without
    # recreating the table, and it does no harm there (the model always sets the column).
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("username_canonical", BINARY, nullable=False, server_default=""))
    _backfill(forms)
    if _is_mysql():
        with op.batch_alter_table("users", recreate="never") as batch_op:
            batch_op.alter_column("username", existing_type=PLAIN, type_=BINARY, existing_nullable=False)
            batch_op.alter_column(
                "username_canonical", existing_type=BINARY, server_default=None, existing_nullable=False
            )
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.create_index(batch_op.f("ix_users_username_canonical"), ["username_canonical"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_username_canonical"))
    if _is_mysql():
        with op.batch_alter_table("users", recreate="never") as batch_op:
            batch_op.alter_column(
                "username", existing_type=BINARY, type_=mysql.VARCHAR(MAX_USERNAME_LENGTH), existing_nullable=False
            )
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.drop_column("username_canonical")
