"""Articles and their threaded comments (API.md §5).

A comment either starts a thread (``root_comment_id`` is NULL) or answers another comment of the
same article (``parent_comment_id``); ``root_comment_id`` then points at the thread's top-level
comment, so a reply to a reply hangs under the same top-level comment and a page of threads is
loaded with one query for its replies.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from studyhub.models.base import Base, BigId, SoftDeleteMixin, TimestampMixin

# TEXT is 64 KiB on MySQL: articles may be longer, so MEDIUMTEXT there (16 MiB).
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql")


class Article(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(LongText)
    # Only ever changed by one atomic ``UPDATE ... SET page_view = page_view + 1``.
    page_view: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)


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
