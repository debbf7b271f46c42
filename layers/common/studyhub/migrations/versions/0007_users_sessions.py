"""users: tokens_valid_after, the time before which a user's tokens are refused

Revision ID: 0007_users_sessions
Revises: 0006_users_username_canonical
Create Date: 2026-11-26

Set when the password is changed or reset (and by `studyhub set-password`): every token whose
`iat` is earlier is `401`. Microseconds on MySQL/MariaDB too (`DATETIME(6)`), so a login a moment
after the change, in the same second, is not refused with the tokens before it. Nullable: no
existing row needs a value (NULL refuses nothing). Added in place, never by recreating `users`.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0007_users_sessions"
down_revision = "0006_users_username_canonical"
branch_labels = None
depends_on = None

PRECISE_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("tokens_valid_after", PRECISE_DATETIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.drop_column("tokens_valid_after")
