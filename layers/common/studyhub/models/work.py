"""The question bank (API.md §4): labels and the topics filed under them.

A label whose name contains ``考试`` is an exam label: students never see its topics. Topic text
is also kept in the search index (``studyhub.search``), which index jobs keep in step.
"""
from __future__ import annotations

from sqlalchemy import Double, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, SoftDeleteMixin, TimestampMixin

EXAM_MARK = "考试"
TOPIC_TYPES = {0: "单选题", 1: "多选题", 2: "判断题", 3: "填空题", 4: "问答题"}


def is_exam_label_name(name: str) -> bool:
    return EXAM_MARK in name


class Label(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)

    @property
    def is_exam(self) -> bool:
        return is_exam_label_name(self.name)


class Topic(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    type: Mapped[int] = mapped_column(SmallInteger)
    score: Mapped[float | None] = mapped_column(Double, default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    answer: Mapped[str | None] = mapped_column(Text, default=None)
    label_id: Mapped[int] = mapped_column(BigId, ForeignKey("labels.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
