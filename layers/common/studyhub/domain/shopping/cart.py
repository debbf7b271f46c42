"""The cart: private to its owner (others' rows are 404); one row per commodity, whose number
grows when the same commodity is posted again; rows of a deleted commodity are gone (404)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.db import rows_matched
from studyhub.models.base import utcnow
from studyhub.models.shopping import Commodity, ShoppingCart
from studyhub.models.users import User

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


def live_rows(caller: User) -> Select[ShoppingCart]:
    """The caller's cart rows whose commodity is still for sale: a row of a deleted commodity
    has left the cart (listed, read, changed and ordered never again)."""
    return (
        select(ShoppingCart)
        .join(Commodity, Commodity.id == ShoppingCart.commodity_id)
        .where(ShoppingCart.user_id == caller.id, Commodity.is_delete.is_(False))
    )


def owned_query(caller: User) -> Select[ShoppingCart]:
    return live_rows(caller).order_by(ShoppingCart.update_time.desc(), ShoppingCart.id.desc())


def get_owned(session: Session, caller: User, cart_id: int) -> ShoppingCart:
    row = session.scalar(live_rows(caller).where(ShoppingCart.id == cart_id))
    if row is None:
        raise errors.NotFound()
    return row


def _live_commodity(session: Session, commodity_id: int) -> Commodity:
    commodity = session.get(Commodity, commodity_id)
    if commodity is None or commodity.is_delete:
        raise errors.Invalid.field("commodity", "商品不存在或已下架。", code="invalid_commodity")
    return commodity


def _add_to_existing(session: Session, caller: User, commodity_id: int, number: int) -> int:
    return rows_matched(
        session,
        sql_update(ShoppingCart)
        .where(ShoppingCart.user_id == caller.id, ShoppingCart.commodity_id == commodity_id)
        .values(number=ShoppingCart.number + number, update_time=utcnow())
        .execution_options(synchronize_session=False),
    )


def add(session: Session, caller: User, body: CartIn) -> dict[str, Any]:
    """Post a commodity: a new row, or more of it in the row already there.

    Two posts racing for the same (user, commodity) collide on the unique key (or deadlock on
    its gap lock, on MySQL): the route runs this in a retried transaction and runs it once more
    after a duplicate-key error, when the UPDATE finds the winner's row.
    """
    commodity = _live_commodity(session, body.commodity)
    if not _add_to_existing(session, caller, commodity.id, body.number):
        session.add(ShoppingCart(user_id=caller.id, commodity_id=commodity.id, number=body.number))
        session.flush()
    row = session.scalars(
        select(ShoppingCart)
        .where(ShoppingCart.user_id == caller.id, ShoppingCart.commodity_id == commodity.id)
        .execution_options(populate_existing=True)
    ).one()
    if row.number > MAX_CART_NUMBER:
        raise errors.Invalid.field("number", f"数量不能超过 {MAX_CART_NUMBER}。", code="invalid_number")
    return serialize(row, commodity)


def update(session: Session, caller: User, cart_id: int, body: CartUpdate) -> dict[str, Any]:
    row = get_owned(session, caller, cart_id)
    row.number = body.number
    session.flush()
    return serialize(row, session.get_one(Commodity, row.commodity_id))


def detail(session: Session, caller: User, cart_id: int) -> dict[str, Any]:
    row = get_owned(session, caller, cart_id)
    return serialize(row, session.get_one(Commodity, row.commodity_id))


def delete(session: Session, caller: User, cart_id: int) -> None:
    session.delete(get_owned(session, caller, cart_id))
