"""Request bodies of the community group (pydantic): what may be sent, and its limits."""

from __future__ import annotations

from pydantic import Field

from studyhub.domain.schema import Body, Id

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
