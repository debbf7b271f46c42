"""Commodities: anyone reads them, only a superuser writes them; deleting is a soft delete.

The hot reads (the list and one commodity) are SQLAlchemy Core: plain rows of the public
columns, no ORM identity map or attribute instrumentation. The writes stay on the ORM.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, false, func, select
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.db import on_commit
from studyhub.core.prepared import Prepared, paged
from studyhub.core.times import isoformat
from studyhub.core.urls import absolute
from studyhub.domain.access import Caller, require_superuser
from studyhub.models.shopping import Commodity

from .schemas import CommodityIn, CommodityPatch

_commodities = cast(Table, Commodity.__table__)
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


def read(session: Session, commodity_id: int) -> dict[str, Any]:
    """One live commodity (404 for a deleted or unknown one): one SELECT of its public columns."""
    row = _ONE.first(session.connection(), {"commodity_id": commodity_id})
    if row is None:
        raise errors.NotFound()
    return serialize(row)


def get_live(session: Session, commodity_id: int) -> Commodity:
    commodity = session.get(Commodity, commodity_id)
    if commodity is None or commodity.is_delete:
        raise errors.NotFound()
    return commodity


def create(session: Session, caller: Caller, body: CommodityIn) -> dict[str, Any]:
    require_superuser(caller)
    commodity = Commodity(
        name=body.name, price=body.price, stock=body.stock, sales=0, description=body.description, image=body.image
    )
    session.add(commodity)
    session.flush()
    return serialize(commodity)


def update(session: Session, caller: Caller, commodity_id: int, body: CommodityIn | CommodityPatch) -> dict[str, Any]:
    require_superuser(caller)
    commodity = get_live(session, commodity_id)
    for field in ("name", "price", "stock", "description", "image"):
        if field in body.model_fields_set:
            value = getattr(body, field)
            if value is None and field != "image":
                raise errors.Invalid.field(field, "该字段不能为空。")
            if field == "image" and value != commodity.image:
                forget_uploaded(session, commodity)  # an uploaded file replaced by a URL
            setattr(commodity, field, value)
    session.flush()
    session.refresh(commodity)
    return serialize(commodity)


def forget_uploaded(session: Session, commodity: Commodity) -> None:
    """The image is being replaced: its stored file (if it was uploaded) goes once that commits."""
    old_key = commodity.image_key
    if not old_key:
        return
    from studyhub.clients.storage import get_storage

    storage = get_storage()
    commodity.image_key = None
    on_commit(session, lambda: storage.delete(old_key))


def delete(session: Session, caller: Caller, commodity_id: int) -> None:
    require_superuser(caller)
    get_live(session, commodity_id).is_delete = True
