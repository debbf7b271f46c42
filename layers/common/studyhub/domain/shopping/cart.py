"""The cart: private to its owner (others' rows are 404); one row per commodity, whose number
grows when the same commodity is posted again (one upsert on the unique (user, commodity) key);
rows of a deleted commodity are gone (404)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from studyhub.core import errors
from studyhub.domain.access import Caller
from studyhub.models.base import utcnow
from studyhub.models.shopping import Commodity, ShoppingCart
from studyhub.tables.shopping import commodities as _commodities

from .schemas import MAX_CART_NUMBER, CartIn, CartUpdate


def serialize_page(session: Session, rows: list[ShoppingCart]) -> list[dict[str, Any]]:
    ids = {row.commodity_id for row in rows}
    commodities = {c.id: c for c in session.scalars(select(Commodity).where(Commodity.id.in_(ids)))} if ids else {}
    return [serialize(row, commodities[row.commodity_id]) for row in rows]


def serialize(row: ShoppingCart, commodity: Commodity) -> dict[str, Any]:
    return {
        "id": row.id,
        "commodity": row.commodity_id,
        "commodity_name": commodity.name,
        "price": f"{commodity.price:.2f}",
        "number": row.number,
    }


def live_rows(caller: Caller) -> Select[ShoppingCart]:
    """The caller's cart rows whose commodity is still for sale: a row of a deleted commodity
    has left the cart (listed, read, changed and ordered never again)."""
    return (
        select(ShoppingCart)
        .join(Commodity, Commodity.id == ShoppingCart.commodity_id)
        .where(ShoppingCart.user_id == caller.id, Commodity.is_delete.is_(False))
    )


def owned_query(caller: Caller) -> Select[ShoppingCart]:
    return live_rows(caller).order_by(ShoppingCart.update_time.desc(), ShoppingCart.id.desc())


def get_owned(session: Session, caller: Caller, cart_id: int) -> ShoppingCart:
    row = session.scalar(live_rows(caller).where(ShoppingCart.id == cart_id))
    if row is None:
        raise errors.NotFound()
    return row


_carts = cast(Table, ShoppingCart.__table__)
_LIVE_COMMODITY = select(_commodities.c.name, _commodities.c.price).where(
    _commodities.c.id == bindparam("commodity_id"), _commodities.c.is_delete.is_(False)
)
_ROW = select(_carts.c.id, _carts.c.number).where(
    _carts.c.user_id == bindparam("user_id"), _carts.c.commodity_id == bindparam("commodity_id")
)


def _upsert(dialect: str) -> Executable:
    """``INSERT`` a row, or add to the (user, commodity) row already there, in one statement.

    No gap lock: an ``UPDATE`` that finds no row first (then an ``INSERT``) locks the gap of the
    unique key under REPEATABLE READ, and two buyers doing that in the same gap deadlock on
    each other's insert. One upsert only takes the insert intention lock (compatible), or the
    lock of the row it adds to.
    """
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(_carts)
        return lite.on_conflict_do_update(
            index_elements=[_carts.c.user_id, _carts.c.commodity_id],
            set_={"number": _carts.c.number + lite.excluded.number, "update_time": lite.excluded.update_time},
        )
    from sqlalchemy.dialects.mysql import insert as mysql_insert

    my = mysql_insert(_carts)
    return my.on_duplicate_key_update(number=_carts.c.number + my.inserted.number, update_time=my.inserted.update_time)


_UPSERTS: dict[str, Executable] = {}


def add(session: Session, caller: Caller, body: CartIn) -> dict[str, Any]:
    """Post a commodity: a new row, or more of it in the row already there (one upsert)."""
    conn = session.connection()
    commodity = conn.execute(_LIVE_COMMODITY, {"commodity_id": body.commodity}).first()  # a plain read: no lock
    if commodity is None:
        raise errors.Invalid.field("commodity", "商品不存在或已下架。", code="invalid_commodity")
    dialect = conn.dialect.name
    upsert = _UPSERTS.get(dialect)
    if upsert is None:
        upsert = _UPSERTS[dialect] = _upsert(dialect)
    now = utcnow()
    values = {"user_id": caller.id, "commodity_id": body.commodity, "number": body.number}
    conn.execute(upsert, {**values, "create_time": now, "update_time": now})
    row = conn.execute(_ROW, values).one()
    if row.number > MAX_CART_NUMBER:  # rolled back with the request
        raise errors.Invalid.field("number", f"数量不能超过 {MAX_CART_NUMBER}。", code="invalid_number")
    return {
        "id": row.id,
        "commodity": body.commodity,
        "commodity_name": commodity.name,
        "price": f"{commodity.price:.2f}",
        "number": row.number,
    }


def update(session: Session, caller: Caller, cart_id: int, body: CartUpdate) -> dict[str, Any]:
    row = get_owned(session, caller, cart_id)
    row.number = body.number
    session.flush()
    return serialize(row, session.get_one(Commodity, row.commodity_id))


def detail(session: Session, caller: Caller, cart_id: int) -> dict[str, Any]:
    row = get_owned(session, caller, cart_id)
    return serialize(row, session.get_one(Commodity, row.commodity_id))


def delete(session: Session, caller: Caller, cart_id: int) -> None:
    session.delete(get_owned(session, caller, cart_id))
