"""Homework, exams and practice (API.md §9): papers built from topics, assignments of a paper to
classes, each student's attempt (its draft) and submission (graded items), and the mistake book.

Exactly once: one attempt and one submission per (assignment, student), both UNIQUE; an attempt
leaves ``in_progress`` by one conditional UPDATE, so a double submit, two tabs or the closing job
racing a student record one submission. Scores are decimals with one place.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from studyhub.models.base import Base, BigId, SoftDeleteMixin, TimestampMixin, UTCDateTime, utcnow

ItemScore = Numeric(5, 1)  # one item: up to 9999.9
TotalScore = Numeric(8, 1)  # a paper of 200 items


class Paper(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    total_score: Mapped[Decimal] = mapped_column(TotalScore, default=Decimal("0.0"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)


class PaperItem(Base):
    __tablename__ = "paper_items"
    __table_args__ = (UniqueConstraint("paper_id", "topic_id", name="uq_paper_items_paper_topic"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    paper_id: Mapped[int] = mapped_column(BigId, ForeignKey("papers.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(BigId, ForeignKey("topics.id"), index=True)
    score: Mapped[Decimal] = mapped_column(ItemScore)
    position: Mapped[int] = mapped_column(Integer)


class Assignment(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    paper_id: Mapped[int] = mapped_column(BigId, ForeignKey("papers.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # homework | exam
    start_time: Mapped[datetime] = mapped_column(UTCDateTime())
    end_time: Mapped[datetime] = mapped_column(UTCDateTime())
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    reveal: Mapped[str] = mapped_column(String(12))  # after_submit | after_end | never
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)


assignment_classes = Table(
    "assignment_classes",
    Base.metadata,
    Column("assignment_id", BigId, ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True),
    Column("class_id", BigId, ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Attempt(Base):
    """A student's work on an assignment until it is handed in; ``draft`` is JSON
    ``{"<topic id>": "<answer>"}``."""

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("assignment_id", "student_id", name="uq_attempts_assignment_student"),
        Index("ix_attempts_status_deadline", "status", "deadline"),  # the closing job's scan
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(BigId, ForeignKey("assignments.id"))
    student_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default="in_progress")  # in_progress | submitted
    draft: Mapped[str] = mapped_column(Text, default="{}")
    update_time: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("assignment_id", "student_id", name="uq_submissions_assignment_student"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(BigId, ForeignKey("assignments.id"))
    student_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # submitted | graded
    score: Mapped[Decimal] = mapped_column(TotalScore, default=Decimal("0.0"))
    total_score: Mapped[Decimal] = mapped_column(TotalScore)
    pending: Mapped[int] = mapped_column(Integer, default=0)  # items waiting for the teacher's mark
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SubmissionItem(Base):
    __tablename__ = "submission_items"
    __table_args__ = (UniqueConstraint("submission_id", "topic_id", name="uq_submission_items_submission_topic"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    submission_id: Mapped[int] = mapped_column(BigId, ForeignKey("submissions.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(BigId, ForeignKey("topics.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str | None] = mapped_column(Text, default=None)
    full_score: Mapped[Decimal] = mapped_column(ItemScore)
    score: Mapped[Decimal] = mapped_column(ItemScore, default=Decimal("0.0"))
    correct: Mapped[bool | None] = mapped_column(Boolean, default=None)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    needs_mark: Mapped[bool] = mapped_column(Boolean, default=False)  # answered and not auto-gradable
    marked: Mapped[bool] = mapped_column(Boolean, default=False)
    in_mistakes: Mapped[bool] = mapped_column(Boolean, default=False)  # already counted in the mistake book


class Mistake(Base):
    """A topic in a student's mistake book. The review schedule is ``stage`` (0..3: 1/3/7/14 days)
    and ``next_review_at``; what is due is decided when it is read (no job)."""

    __tablename__ = "mistakes"
    __table_args__ = (
        UniqueConstraint("student_id", "topic_id", name="uq_mistakes_student_topic"),
        Index("ix_mistakes_student_review", "student_id", "next_review_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    student_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    topic_id: Mapped[int] = mapped_column(BigId, ForeignKey("topics.id"), index=True)
    my_answer: Mapped[str | None] = mapped_column(Text, default=None)
    wrong_count: Mapped[int] = mapped_column(Integer, default=1)
    last_wrong_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stage: Mapped[int] = mapped_column(Integer, default=0)
    next_review_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # from when the key may be shown to the student (null: not yet / never)
    reveal_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, index=True)
