"""school: classes, class members, the credentials-email outbox

Revision ID: 0002_school
Revises: 0001_users
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import studyhub.models.base

revision = "0002_school"
down_revision = "0001_users"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "classes",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("slogan", sa.Text(), nullable=True),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("is_delete", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classes")),
    )
    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_classes_update_time"), ["update_time"], unique=False)

    op.create_table(
        "class_members",
        sa.Column("class_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_class_members_class_id_classes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_class_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("class_id", "user_id", name=op.f("pk_class_members")),
    )
    with op.batch_alter_table("class_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_class_members_user_id"), ["user_id"], unique=False)

    op.create_table(
        "school_credentials_mail",
        sa.Column("id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("class_name", sa.String(length=30), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("claimed_until", studyhub.models.base.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_school_credentials_mail_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_credentials_mail")),
    )
    with op.batch_alter_table("school_credentials_mail", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_school_credentials_mail_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_school_credentials_mail_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("school_credentials_mail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_credentials_mail_user_id"))
        batch_op.drop_index(batch_op.f("ix_school_credentials_mail_next_attempt_at"))
    op.drop_table("school_credentials_mail")
    with op.batch_alter_table("class_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_class_members_user_id"))
    op.drop_table("class_members")
    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classes_update_time"))
    op.drop_table("classes")
