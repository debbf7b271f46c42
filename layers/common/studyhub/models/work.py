"""The question bank (API.md §4): labels and the topics filed under them.

Who sees which topic is a rule of ``studyhub.domain.work.visibility``. Topic text
is also kept in the search index (``studyhub.clients.search``), which index jobs keep in step.
"""

from __future__ import annotations

from sqlalchemy import Double, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from studyhub.models.base import Base, BigId, SoftDeleteMixin, TimestampMixin

TOPIC_TYPES = {0: "单选题", 1: "多选题", 2: "判断题", 3: "填空题", 4: "问答题"}


class Label(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)


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
