"""community: articles, threaded comments

Revision ID: 0004_community
Revises: 0001_users
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import studyhub.models.base

revision = "0004_community"
down_revision = "0001_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql"), nullable=False),
        sa.Column("page_view", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("is_delete", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_articles_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_articles_update_time"), ["update_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_articles_user_id"), ["user_id"], unique=False)

    op.create_table(
        "comments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("parent_comment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("root_comment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("is_delete", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name=op.f("fk_comments_article_id_articles")),
        sa.ForeignKeyConstraint(
            ["parent_comment_id"], ["comments.id"], name=op.f("fk_comments_parent_comment_id_comments")
        ),
        sa.ForeignKeyConstraint(
            ["root_comment_id"], ["comments.id"], name=op.f("fk_comments_root_comment_id_comments")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_comments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comments_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comments_parent_comment_id"), ["parent_comment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comments_root_comment_id"), ["root_comment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comments_update_time"), ["update_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_comments_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_user_id"))
        batch_op.drop_index(batch_op.f("ix_comments_update_time"))
        batch_op.drop_index(batch_op.f("ix_comments_root_comment_id"))
        batch_op.drop_index(batch_op.f("ix_comments_parent_comment_id"))
        batch_op.drop_index(batch_op.f("ix_comments_article_id"))

    op.drop_table("comments")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_user_id"))
        batch_op.drop_index(batch_op.f("ix_articles_update_time"))

    op.drop_table("articles")
