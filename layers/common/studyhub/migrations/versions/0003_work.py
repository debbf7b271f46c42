"""work: labels, topics

Revision ID: 0003_work
Revises: 0001_users
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import studyhub.models.base

revision = "0003_work"
down_revision = "0001_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("is_delete", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_labels_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
    )
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_labels_update_time"), ["update_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_labels_user_id"), ["user_id"], unique=False)

    op.create_table(
        "topics",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("type", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("label_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("is_delete", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["label_id"], ["labels.id"], name=op.f("fk_topics_label_id_labels")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_topics_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
    )
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_topics_label_id"), ["label_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_topics_update_time"), ["update_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_topics_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_topics_user_id"))
        batch_op.drop_index(batch_op.f("ix_topics_update_time"))
        batch_op.drop_index(batch_op.f("ix_topics_label_id"))

    op.drop_table("topics")
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_labels_user_id"))
        batch_op.drop_index(batch_op.f("ix_labels_update_time"))

    op.drop_table("labels")
