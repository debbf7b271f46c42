"""Request bodies of the community group (pydantic): what may be sent, and its limits."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from studyhub.domain.schema import Body, Id, Public, not_null

TITLE_MAX = 200
ARTICLE_MAX = 100_000  # characters; MEDIUMTEXT on MySQL holds far more
COMMENT_MAX = 5_000  # characters; 4 bytes each still fits MySQL's 64 KiB TEXT


class ArticleIn(Body):
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    content: str = Field(min_length=1, max_length=ARTICLE_MAX)


class ArticlePatch(Body):
    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    content: str | None = Field(default=None, min_length=1, max_length=ARTICLE_MAX)


class CommentIn(Body):
    article: Id
    content: str = Field(min_length=1, max_length=COMMENT_MAX)
    parent_comment: Id | None = None


class CommentEdit(Body):
    """PUT: the comment's text, its only editable field (its article and place stay)."""

    content: str = Field(min_length=1, max_length=COMMENT_MAX)


class CommentPatch(Body):
    content: str | None = Field(default=None, min_length=1, max_length=COMMENT_MAX, json_schema_extra=not_null)


# --- responses (API.md §5; what articles/comments serialize) ---------------------------------


class ArticlePublic(Public):
    id: int
    title: str
    content: str
    user: int
    user_name: str | None
    page_view: int = Field(ge=0)
    create_time: datetime
    update_time: datetime


class ReplyPublic(Public):
    id: int
    article: int
    content: str
    user: int
    user_name: str | None
    user_avatar: str | None
    parent_comment: int | None
    create_time: datetime
    reply_username: str | None = Field(description="被回复的评论的作者")


class CommentPublic(Public):
    id: int
    article: int
    content: str
    user: int
    user_name: str | None
    user_avatar: str | None
    parent_comment: int | None
    create_time: datetime
    sonComments: list[ReplyPublic]  # noqa: N815 - the original's field name


class CommentFilters(Body):
    article: Id = Field(description="文章 id（必填）")
