"""work: homework, exams and practice

Revision ID: 0010_work_homework
Revises: 0003_work
Create Date: 2026-11-30

Papers and their items, assignments (to classes), attempts (drafts), submissions and their items,
the mistake book. Only new tables: nothing existing is altered.
"""

import sqlalchemy as sa
from alembic import op

import studyhub.models.base

revision = "0010_work_homework"
down_revision = "0003_work"
branch_labels = None
depends_on = "0002_school"


def upgrade() -> None:
    op.create_table(
        "papers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("total_score", sa.Numeric(precision=8, scale=1), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("is_delete", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_papers_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_papers")),
    )
    with op.batch_alter_table("papers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_papers_update_time"), ["update_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_papers_user_id"), ["user_id"], unique=False)

    op.create_table(
        "assignments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("paper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("start_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("end_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("time_limit_minutes", sa.Integer(), nullable=True),
        sa.Column("reveal", sa.String(length=12), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("is_delete", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], name=op.f("fk_assignments_paper_id_papers")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_assignments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_paper_id"), ["paper_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_update_time"), ["update_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_user_id"), ["user_id"], unique=False)

    op.create_table(
        "assignment_classes",
        sa.Column("assignment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("class_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_assignment_classes_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_assignment_classes_class_id_classes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("assignment_id", "class_id", name=op.f("pk_assignment_classes")),
    )
    with op.batch_alter_table("assignment_classes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_classes_class_id"), ["class_id"], unique=False)

    op.create_table(
        "attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("assignment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("student_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("started_at", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("deadline", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("draft", sa.Text(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_attempts_assignment_id_assignments")
        ),
        sa.ForeignKeyConstraint(["student_id"], ["users.id"], name=op.f("fk_attempts_student_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
        sa.UniqueConstraint("assignment_id", "student_id", name="uq_attempts_assignment_student"),
    )
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.create_index("ix_attempts_status_deadline", ["status", "deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_attempts_student_id"), ["student_id"], unique=False)

    op.create_table(
        "mistakes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("student_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("my_answer", sa.Text(), nullable=True),
        sa.Column("wrong_count", sa.Integer(), nullable=False),
        sa.Column("last_wrong_at", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("next_review_at", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("reveal_at", studyhub.models.base.UTCDateTime(), nullable=True),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["student_id"], ["users.id"], name=op.f("fk_mistakes_student_id_users")),
        sa.ForeignKeyConstraint(["topic_id"], ["topics.id"], name=op.f("fk_mistakes_topic_id_topics")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mistakes")),
        sa.UniqueConstraint("student_id", "topic_id", name="uq_mistakes_student_topic"),
    )
    with op.batch_alter_table("mistakes", schema=None) as batch_op:
        batch_op.create_index("ix_mistakes_student_review", ["student_id", "next_review_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_mistakes_topic_id"), ["topic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mistakes_update_time"), ["update_time"], unique=False)

    op.create_table(
        "paper_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("paper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("score", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_paper_items_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["topic_id"], ["topics.id"], name=op.f("fk_paper_items_topic_id_topics")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_items")),
        sa.UniqueConstraint("paper_id", "topic_id", name="uq_paper_items_paper_topic"),
    )
    with op.batch_alter_table("paper_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_items_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "submissions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("assignment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("student_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("score", sa.Numeric(precision=8, scale=1), nullable=False),
        sa.Column("total_score", sa.Numeric(precision=8, scale=1), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("submitted_at", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_submissions_assignment_id_assignments")
        ),
        sa.ForeignKeyConstraint(["student_id"], ["users.id"], name=op.f("fk_submissions_student_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("assignment_id", "student_id", name="uq_submissions_assignment_student"),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submissions_student_id"), ["student_id"], unique=False)

    op.create_table(
        "submission_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("submission_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("full_score", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("score", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("needs_mark", sa.Boolean(), nullable=False),
        sa.Column("marked", sa.Boolean(), nullable=False),
        sa.Column("in_mistakes", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_items_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["topic_id"], ["topics.id"], name=op.f("fk_submission_items_topic_id_topics")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_items")),
        sa.UniqueConstraint("submission_id", "topic_id", name="uq_submission_items_submission_topic"),
    )
    with op.batch_alter_table("submission_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submission_items_topic_id"), ["topic_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("submission_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_items_topic_id"))

    op.drop_table("submission_items")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_student_id"))

    op.drop_table("submissions")
    with op.batch_alter_table("paper_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_items_topic_id"))

    op.drop_table("paper_items")
    with op.batch_alter_table("mistakes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mistakes_update_time"))
        batch_op.drop_index(batch_op.f("ix_mistakes_topic_id"))
        batch_op.drop_index("ix_mistakes_student_review")

    op.drop_table("mistakes")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempts_student_id"))
        batch_op.drop_index("ix_attempts_status_deadline")

    op.drop_table("attempts")
    with op.batch_alter_table("assignment_classes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_classes_class_id"))

    op.drop_table("assignment_classes")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_user_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_update_time"))
        batch_op.drop_index(batch_op.f("ix_assignments_paper_id"))

    op.drop_table("assignments")
    with op.batch_alter_table("papers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_papers_user_id"))
        batch_op.drop_index(batch_op.f("ix_papers_update_time"))

    op.drop_table("papers")
