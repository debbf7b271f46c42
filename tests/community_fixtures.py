"""Factories for the community tests: articles and comments written straight to the database
(the behaviour under test goes through HTTP; arranging dozens of rows need not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import store


@pytest.fixture
def make_article(platform):
    """``make_article(user, title=..., content=..., age=timedelta)``: ``age`` dates it in the past."""
    from studyhub.models.community import Article

    def factory(
        user,
        *,
        title: str = "Python 学习笔记",
        content: str = "列表推导式很好用。",
        age: timedelta | None = None,
        page_view: int = 0,
    ):
        kwargs = {}
        if age is not None:
            when = datetime.now(UTC) - age
            kwargs = {"create_time": when, "update_time": when}
        return store(Article(title=title, content=content, user_id=user.id, page_view=page_view, **kwargs))

    return factory


@pytest.fixture
def make_comment(platform):
    """``make_comment(user, article, parent=None, content=...)``: a top-level comment or a reply."""
    from studyhub.models.community import Comment

    def factory(user, article, parent=None, *, content: str = "写得好！"):
        root = None if parent is None else (parent.root_comment_id or parent.id)
        return store(
            Comment(
                article_id=article.id,
                user_id=user.id,
                content=content,
                parent_comment_id=parent.id if parent is not None else None,
                root_comment_id=root,
            )
        )

    return factory
