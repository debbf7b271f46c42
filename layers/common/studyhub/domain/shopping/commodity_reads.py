"""The commodities list (with its name search) and one commodity (API.md §6): the shop's hot
reads, on Core.

Plain rows of the public columns from statements built and compiled once (``core.prepared``) on
the ``studyhub.tables`` tables: neither the ORM nor the request schemas are imported for them (a
function's first answer doesn't pay for them) and no ORM entity is built per row. ``serialize``
is the one shape of a commodity's JSON, the writes' too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, false, func, select

from studyhub.core import errors
from studyhub.core.prepared import Prepared, paged
from studyhub.core.times import isoformat
from studyhub.core.urls import absolute
from studyhub.tables.shopping import commodities as _commodities

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# what anyone may see of a commodity (never image_key or is_delete)
_PUBLIC = (
    _commodities.c.id,
    _commodities.c.name,
    _commodities.c.price,
    _commodities.c.stock,
    _commodities.c.sales,
    _commodities.c.description,
    _commodities.c.image,
    _commodities.c.create_time,
    _commodities.c.update_time,
)
_LIVE = _commodities.c.is_delete.is_(false())


def serialize(commodity: Any) -> dict[str, Any]:
    """A ``Commodity`` or a row of ``_PUBLIC`` (the same attribute names) as the contract's JSON."""
    return {
        "id": commodity.id,
        "name": commodity.name,
        "price": f"{commodity.price:.2f}",
        "stock": commodity.stock,
        "sales": commodity.sales,
        "description": commodity.description,
        "image": absolute(commodity.image) if commodity.image else commodity.image,  # a path: on PUBLIC_BASE_URL
        "create_time": isoformat(commodity.create_time),
        "update_time": isoformat(commodity.update_time),
    }


def serialize_rows(rows: Any) -> list[dict[str, Any]]:
    return [serialize(row) for row in rows]


_ORDER = (_commodities.c.update_time.desc(), _commodities.c.id.desc())
# Built and compiled once (``core.prepared``): with a search or without, the term a parameter.
# The name contains the term, ``%`` and ``_`` meaning themselves: escaped by ``_like_term``.
_NAMED = _commodities.c.name.contains(bindparam("name_term"), escape="/")
_LIST = paged(select(*_PUBLIC).where(_LIVE).order_by(*_ORDER))
_COUNT = Prepared(select(func.count()).select_from(_commodities).where(_LIVE))
_SEARCH = paged(select(*_PUBLIC).where(_LIVE, _NAMED).order_by(*_ORDER))
_SEARCH_COUNT = Prepared(select(func.count()).select_from(_commodities).where(_LIVE, _NAMED))
_ONE = Prepared(select(*_PUBLIC).where(_commodities.c.id == bindparam("commodity_id"), _LIVE))


def _like_term(term: str) -> str:
    return term.replace("/", "//").replace("%", "/%").replace("_", "/_")


def listing(search: str = "") -> tuple[Prepared, Prepared, dict[str, Any]]:
    """``(page, count, their parameters)``: live commodities whose name contains ``search`` (all
    without one), last changed first (``update_time``'s index, the id breaking ties); the count
    without the derived table of a generic count."""
    term = search.strip()
    if not term:
        return _LIST, _COUNT, {}
    return _SEARCH, _SEARCH_COUNT, {"name_term": _like_term(term)}


def read(conn: Connection, commodity_id: int) -> dict[str, Any]:
    """One live commodity (404 for a deleted or unknown one): one SELECT of its public columns."""
    row = _ONE.first(conn, {"commodity_id": commodity_id})
    if row is None:
        raise errors.NotFound()
    return serialize(row)
