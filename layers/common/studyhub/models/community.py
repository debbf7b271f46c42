"""Articles and their threaded comments (API.md §5).

A comment either starts a thread (``root_comment_id`` is NULL) or answers another comment of the
same article (``parent_comment_id``); ``root_comment_id`` then points at the thread's top-level
comment, so a reply to a reply hangs under the same top-level comment and a page of threads is
loaded with one query for its replies.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from studyhub.models.base import Base, BigId, SoftDeleteMixin, TimestampMixin
from studyhub.tables import community as tables
from studyhub.tables.community import LongText  # noqa: F401 - where the rest of the code imports it from


class Article(Base):
    # The table is Core's (studyhub.tables.community): the list and one article are read without
    # the ORM. These annotations type the mapped columns.
    __table__ = tables.articles

    id: Mapped[int]
    title: Mapped[str]
    content: Mapped[str]
    page_view: Mapped[int]
    user_id: Mapped[int]
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]
    is_delete: Mapped[bool]


class Comment(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    # The comment answered (a top-level comment or another reply); NULL for a top-level comment.
    parent_comment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("comments.id"), index=True, default=None)
    # The top-level comment of the thread; NULL for a top-level comment itself.
    root_comment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("comments.id"), index=True, default=None)
