"""Articles: everyone signed in reads them, the author or a superuser changes them; reading one
counts exactly one page view."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.db import rows_matched
from studyhub.core.times import isoformat
from studyhub.domain.access import require_owner_or_superuser
from studyhub.models.community import Article
from studyhub.models.users import User

from .schemas import ArticleIn, ArticlePatch


def usernames(session: Session, user_ids: set[int]) -> dict[int, str]:
    """One query for the authors of a whole page (just two columns: no User rows, no groups)."""
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    return {row.id: row.username for row in rows}


def serialize(article: Article, user_name: str | None) -> dict[str, Any]:
    return {
        "id": article.id,
        "title": article.title,
        "content": article.content,
        "user": article.user_id,
        "user_name": user_name,
        "page_view": article.page_view,
        "create_time": isoformat(article.create_time),
        "update_time": isoformat(article.update_time),
    }


def serialize_page(session: Session, articles: list[Article]) -> list[dict[str, Any]]:
    names = usernames(session, {a.user_id for a in articles})
    return [serialize(a, names.get(a.user_id)) for a in articles]


def serialize_one(session: Session, article: Article) -> dict[str, Any]:
    return serialize_page(session, [article])[0]


def list_query() -> Select[Article]:
    return select(Article).where(Article.is_delete.is_(False)).order_by(Article.update_time.desc(), Article.id.desc())


def get_live(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None or article.is_delete:
        raise errors.NotFound()
    return article


def read(session: Session, article_id: int) -> dict[str, Any]:
    """One atomic ``UPDATE ... SET page_view = page_view + 1``, then the row as it now stands.

    The database does the addition under its row lock, so concurrent reads never lose a count
    (the read-modify-write of ``article.page_view += 1`` would). ``update_time`` is set to itself
    so its ``onupdate`` default does not fire: a read is not an edit and must not reorder lists.
    """
    aid = article_id
    counted = rows_matched(
        session,
        update(Article)
        .where(Article.id == aid, Article.is_delete.is_(False))
        .values(page_view=Article.page_view + 1, update_time=Article.update_time)
        .execution_options(synchronize_session=False),
    )
    if counted != 1:
        raise errors.NotFound()
    article = session.scalars(select(Article).where(Article.id == aid).execution_options(populate_existing=True)).one()
    return serialize_one(session, article)


def create(session: Session, caller: User, body: ArticleIn) -> dict[str, Any]:
    article = Article(title=body.title, content=body.content, user_id=caller.id, page_view=0)
    session.add(article)
    session.flush()
    return serialize(article, caller.username)


def update_article(session: Session, caller: User, article_id: int, body: ArticleIn | ArticlePatch) -> dict[str, Any]:
    article = get_live(session, article_id)
    require_owner_or_superuser(caller, article.user_id)
    for field in ("title", "content"):
        value = getattr(body, field)
        if field in body.model_fields_set and value is not None:
            setattr(article, field, value)
    session.flush()
    return serialize_one(session, article)


def delete(session: Session, caller: User, article_id: int) -> None:
    article = get_live(session, article_id)
    require_owner_or_superuser(caller, article.user_id)
    article.is_delete = True
