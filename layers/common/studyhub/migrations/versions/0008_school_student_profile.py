"""school: a student's age and sex (the original's profile fields) on users

Revision ID: 0008_school_student_profile
Revises: 0002_school
Create Date: 2026-11-26

Two nullable columns (age 1-120, sex 0 女 / 1 男, checked by the rules), added in place: never by
recreating `users`, which every group's tables reference.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_school_student_profile"
down_revision = "0002_school"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("age", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("sex", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.drop_column("sex")
        batch_op.drop_column("age")
