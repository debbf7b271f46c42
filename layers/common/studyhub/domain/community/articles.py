"""Articles: everyone signed in reads them, the author or a superuser changes them; reading one
counts exactly one page view.

The hot reads (the list and one article) are SQLAlchemy Core: a page's rows come back as plain
tuples with their author's name joined in, with no ORM identity map, attribute instrumentation
or flush on the way. The writes stay on the ORM.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, false, func, select, update
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.prepared import Prepared, paged
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller, require_owner_or_superuser
from studyhub.models.community import Article
from studyhub.models.users import User

from .schemas import ArticleIn, ArticlePatch

_articles = cast(Table, Article.__table__)
_users = cast(Table, User.__table__)
# what a reader sees (never is_delete), the author's name joined by primary key
_PUBLIC = (
    _articles.c.id,
    _articles.c.title,
    _articles.c.content,
    _articles.c.user_id,
    _articles.c.page_view,
    _articles.c.create_time,
    _articles.c.update_time,
    _users.c.username.label("user_name"),
)
_LIVE = _articles.c.is_delete.is_(false())


def usernames(session: Session, user_ids: set[int]) -> dict[int, str]:
    """One query for the authors of a whole page (just two columns: no User rows, no groups)."""
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    return {row.id: row.username for row in rows}


def serialize(article: Any, user_name: str | None) -> dict[str, Any]:
    """An ``Article`` or a row of ``_PUBLIC`` (the same attribute names) as the contract's JSON."""
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


def serialize_rows(rows: Any) -> list[dict[str, Any]]:
    """A page of ``_PUBLIC`` rows (the author's name is already in each)."""
    return [serialize(row, row.user_name) for row in rows]


def serialize_one(session: Session, article: Article) -> dict[str, Any]:
    names = usernames(session, {article.user_id})
    return serialize(article, names.get(article.user_id))


def _public_select() -> Select[Any]:
    # outer join: an article whose author row is missing still lists, with user_name null
    return select(*_PUBLIC).select_from(_articles.outerjoin(_users, _users.c.id == _articles.c.user_id))


# Built and compiled once (``core.prepared``): each request only runs them.
_LIST = paged(_public_select().where(_LIVE).order_by(_articles.c.update_time.desc(), _articles.c.id.desc()))
_COUNT = Prepared(select(func.count()).select_from(_articles).where(_LIVE))
_ONE = Prepared(_public_select().where(_articles.c.id == bindparam("article_id")))
_COUNT_VIEW = Prepared(
    update(_articles)
    .where(_articles.c.id == bindparam("article_id"), _LIVE)
    .values(page_view=_articles.c.page_view + 1, update_time=_articles.c.update_time)
)


def list_query() -> Prepared:
    """Live articles, last changed first (``update_time``'s index, the id breaking ties)."""
    return _LIST


def count_query() -> Prepared:
    """How many ``list_query`` lists: the same filter, without the join or a derived table."""
    return _COUNT


def get_live(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None or article.is_delete:
        raise errors.NotFound()
    return article


def read(session: Session, article_id: int) -> dict[str, Any]:
    """One atomic ``UPDATE ... SET page_view = page_view + 1``, then one SELECT of the row as it
    now stands, with its author's name.

    The database does the addition under its row lock, so concurrent reads never lose a count
    (the read-modify-write of ``article.page_view += 1`` would). ``update_time`` is set to itself
    so its ``onupdate`` default does not fire: a read is not an edit and must not reorder lists.
    Both run on the session's connection (its transaction), past the ORM: nothing to flush, no
    identity map to refresh.
    """
    conn = session.connection()
    if _COUNT_VIEW.rowcount(conn, {"article_id": article_id}) != 1:
        raise errors.NotFound()
    row = _ONE.first(conn, {"article_id": article_id})
    return serialize(row, row.user_name)


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
