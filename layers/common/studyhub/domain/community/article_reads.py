"""The articles list and one article (API.md §5): the community's hot reads, on Core.

A page's rows come back as plain tuples with their author's name joined in, from statements built
and compiled once (``core.prepared``) on the ``studyhub.tables`` tables: neither the ORM nor the
request schemas are imported for them (a function's first answer doesn't pay for them) and no ORM
entity is built per row. ``serialize`` is the one shape of an article's JSON, the writes' too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, bindparam, false, func, select, update

from studyhub.core import errors
from studyhub.core.prepared import Prepared, paged
from studyhub.core.times import isoformat
from studyhub.tables.community import articles as _articles
from studyhub.tables.users import users as _users

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

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


def read(conn: Connection, article_id: int) -> dict[str, Any]:
    """One atomic ``UPDATE ... SET page_view = page_view + 1``, then one SELECT of the row as it
    now stands, with its author's name.

    The database does the addition under its row lock, so concurrent reads never lose a count
    (the read-modify-write of ``article.page_view += 1`` would). ``update_time`` is set to itself
    so its ``onupdate`` default does not fire: a read is not an edit and must not reorder lists.
    Both run on the request's connection (its transaction), without the ORM: nothing to flush, no
    identity map to refresh.
    """
    if _COUNT_VIEW.rowcount(conn, {"article_id": article_id}) != 1:
        raise errors.NotFound()
    row = _ONE.first(conn, {"article_id": article_id})
    return serialize(row, row.user_name)
