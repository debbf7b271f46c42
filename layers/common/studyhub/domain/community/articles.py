"""Articles: everyone signed in reads them, the author or a superuser changes them; reading one
counts exactly one page view. The hot reads (the list and one article) are on Core, without the
ORM: ``article_reads``. The writes stay on the ORM.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.domain.access import Caller, require_owner_or_superuser
from studyhub.domain.community.article_reads import serialize
from studyhub.models.community import Article
from studyhub.tables.users import users as _users

from .schemas import ArticleIn, ArticlePatch


def usernames(session: Session, user_ids: set[int]) -> dict[int, str]:
    """One query for the authors of a whole page (just two columns: no User rows, no groups)."""
    if not user_ids:
        return {}
    rows = session.execute(select(_users.c.id, _users.c.username).where(_users.c.id.in_(user_ids)))
    return {row.id: row.username for row in rows}


def serialize_one(session: Session, article: Article) -> dict[str, Any]:
    names = usernames(session, {article.user_id})
    return serialize(article, names.get(article.user_id))


def get_live(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None or article.is_delete:
        raise errors.NotFound()
    return article


def create(session: Session, caller: Caller, body: ArticleIn) -> dict[str, Any]:
    article = Article(title=body.title, content=body.content, user_id=caller.id, page_view=0)
    session.add(article)
    session.flush()
    return serialize(article, caller.username)


def update_article(session: Session, caller: Caller, article_id: int, body: ArticleIn | ArticlePatch) -> dict[str, Any]:
    article = get_live(session, article_id)
    require_owner_or_superuser(caller, article.user_id)
    for field in ("title", "content"):
        value = getattr(body, field)
        if field in body.model_fields_set and value is not None:
            setattr(article, field, value)
    session.flush()
    return serialize_one(session, article)


def delete(session: Session, caller: Caller, article_id: int) -> None:
    article = get_live(session, article_id)
    require_owner_or_superuser(caller, article.user_id)
    article.is_delete = True
