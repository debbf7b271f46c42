"""The question bank (API.md §4): labels and the topics filed under them.

Who sees which topic is a rule of ``studyhub.domain.work.visibility``. Topic text
is also kept in the search index (``studyhub.clients.search``), which index jobs keep in step.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from studyhub.models.base import Base
from studyhub.tables import work as tables

TOPIC_TYPES = {0: "单选题", 1: "多选题", 2: "判断题", 3: "填空题", 4: "问答题"}


# The tables are Core's (studyhub.tables.work): the topics list and detail read them without the
# ORM. These annotations type the mapped columns.
class Label(Base):
    __table__ = tables.labels

    id: Mapped[int]
    name: Mapped[str]
    user_id: Mapped[int]
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]
    is_delete: Mapped[bool]


class Topic(Base):
    __table__ = tables.topics

    id: Mapped[int]
    subject: Mapped[str]
    type: Mapped[int]
    score: Mapped[float | None]
    description: Mapped[str | None]
    answer: Mapped[str | None]
    label_id: Mapped[int]
    user_id: Mapped[int]
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]
    is_delete: Mapped[bool]
