"""Orders: placing one from cart rows without ever overselling, reading, cancelling and expiring.

Placing an order is one transaction (its route is registered with ``retry=True``: the binder
retries the whole of it on deadlock / Galera certification conflict):

1. lock the caller's cart rows (``SELECT ... FOR UPDATE``: a double submit waits, then finds
   them gone);
2. for each line, in commodity-id order (every transaction locks rows in the same order, so
   multi-line orders can't deadlock each other), one conditional
   ``UPDATE commodities SET stock = stock - n, sales = sales + n WHERE id = ? AND stock >= n``
   whose row count says whether the stock covered it: no read-then-write, nothing to spin on;
3. snapshot prices and the address text, insert the order and its goods, delete the cart rows.

Any line short of stock raises ``insufficient_stock`` and the whole transaction rolls back.

Cancelling (the owner, or the cleanup job for orders unpaid after ``ORDER_PAY_TIMEOUT_SECONDS``)
is exactly once through the conditional state change ``UPDATE orders SET status = 6 WHERE
order_id = ? AND status = 1``: only the transaction whose UPDATE hit the row gives the stock back,
so two cleanup runs, a user's cancel and a payment arriving at the same moment can race safely
(the losing UPDATE matches no row: MySQL re-reads the latest committed row for it, and SQLite
serialises writers).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.config import get_settings
from studyhub.core.db import rows_matched
from studyhub.core.times import isoformat
from studyhub.models.base import utcnow
from studyhub.models.shopping import ALIPAY, CANCELLED, PAID, UNPAID, Commodity, Order, OrderGoods, ShoppingCart
from studyhub.models.users import Address, User

from .schemas import MAX_PRICE, MIN_PRICE, OrderIn

ORDER_ID_ATTEMPTS = 5
log = logging.getLogger("studyhub.orders")


# --- reading ------------------------------------------------------------------------------


def serialize_page(session: Session, orders: list[Order]) -> list[dict[str, Any]]:
    ids = [o.order_id for o in orders]
    goods: dict[str, list[OrderGoods]] = {i: [] for i in ids}
    if ids:
        for line in session.scalars(select(OrderGoods).where(OrderGoods.order_id.in_(ids)).order_by(OrderGoods.id)):
            goods[line.order_id].append(line)
    return [serialize(o, goods[o.order_id]) for o in orders]


def serialize(order: Order, goods: list[OrderGoods]) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "user": order.user_id,
        "address": order.address,
        "total_count": order.total_count,
        "total_amount": f"{order.total_amount:.2f}",
        "pay_method": order.pay_method,
        "status": order.status,
        "goods": [
            {
                "commodity": g.commodity_id,
                "commodity_name": g.commodity_name,
                "number": g.number,
                "price": f"{g.price:.2f}",
            }
            for g in goods
        ],
        "create_time": isoformat(order.create_time),
        "update_time": isoformat(order.update_time),
    }


def owned_query(caller: User) -> Select[Order]:
    return listing_query(caller)


def listing_query(caller: User, *, status: int | None = None, user_id: int | None = None) -> Select[Order]:
    """The caller's orders; an operator's (superuser): everyone's. Filters ``status`` and ``user``."""
    stmt = select(Order)
    if not caller.is_superuser:
        stmt = stmt.where(Order.user_id == caller.id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    if user_id is not None:
        stmt = stmt.where(Order.user_id == user_id)
    return stmt.order_by(Order.update_time.desc(), Order.order_id.desc())


def get_owned(session: Session, caller: User, order_id: str, *, lock: bool = False) -> Order:
    if len(order_id) > 32:
        raise errors.NotFound()
    stmt = select(Order).where(Order.order_id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    order = session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()
    if order is None or order.user_id != caller.id:
        raise errors.NotFound()
    return order


def get_visible(session: Session, caller: User, order_id: str) -> Order:
    """The order if the caller owns it or is an operator (superuser); else 404."""
    if len(order_id) > 32:
        raise errors.NotFound()
    order = session.scalars(
        select(Order).where(Order.order_id == order_id).execution_options(populate_existing=True)
    ).one_or_none()
    if order is None or (order.user_id != caller.id and not caller.is_superuser):
        raise errors.NotFound()
    return order


def detail(session: Session, caller: User, order_id: str) -> dict[str, Any]:
    return serialize_page(session, [get_visible(session, caller, order_id)])[0]


def pay_deadline(order: Order) -> datetime:
    """When an unpaid order expires (the cleanup job cancels it after that)."""
    return order.create_time + timedelta(seconds=get_settings().order_pay_timeout_seconds)


# --- placing ------------------------------------------------------------------------------


def address_text(address: Address) -> str:
    return (
        f"{address.province.name} {address.city.name} {address.district.name} {address.place} "
        f"[{address.receiver} 收] {address.mobile}"
    )


def new_order_id(user_id: int) -> str:
    """Local time ``yyyyMMddHHmmss``, its microseconds, the user id (4 digits) and 2 random
    digits: 26 digits that sort like the orders were placed (MySQL keeps whole seconds only)."""
    now = utcnow().astimezone(ZoneInfo(get_settings().time_zone))
    return f"{now:%Y%m%d%H%M%S%f}{user_id % 10_000:04d}{secrets.randbelow(100):02d}"


def _take_stock(session: Session, commodity_id: int, number: int) -> bool:
    matched = rows_matched(
        session,
        sql_update(Commodity)
        .where(Commodity.id == commodity_id, Commodity.stock >= number, Commodity.is_delete.is_(False))
        .values(stock=Commodity.stock - number, sales=Commodity.sales + number)
        .execution_options(synchronize_session=False),
    )
    return matched == 1


def place_order(session: Session, caller: User, body: OrderIn) -> dict[str, Any]:
    cart_ids = sorted(set(body.cart))
    if not cart_ids:
        raise errors.Invalid.field("cart", "请选择要结算的购物车商品。", code="empty_cart")
    address = session.get(Address, body.address)
    if address is None or address.user_id != caller.id or address.is_delete:
        raise errors.Invalid.field("address", "收货地址不存在。", code="invalid_address")
    lines = session.execute(
        select(ShoppingCart.id, ShoppingCart.commodity_id, ShoppingCart.number)
        .where(ShoppingCart.id.in_(cart_ids), ShoppingCart.user_id == caller.id)
        .order_by(ShoppingCart.id)
        .with_for_update()
    ).all()
    if len(lines) != len(cart_ids):
        raise errors.Invalid.field("cart", "购物车中没有这些商品。", code="invalid_cart")

    lines = sorted(lines, key=lambda line: line.commodity_id)  # one lock order for everyone
    for line in lines:
        if not _take_stock(session, line.commodity_id, line.number):
            name, deleted = session.execute(
                select(Commodity.name, Commodity.is_delete).where(Commodity.id == line.commodity_id)
            ).one()
            if deleted:  # its cart row has left the cart, as if it were never there
                raise errors.Invalid.field("cart", "购物车中没有这些商品。", code="invalid_cart")
            raise errors.Invalid("商品库存不足", code="insufficient_stock", errors={"cart": [f"「{name}」库存不足。"]})

    # Our own UPDATEs made these rows current in this transaction: the prices read are the
    # ones the stock was taken at.
    commodities = {
        c.id: (c.name, c.price)
        for c in session.execute(
            select(Commodity.id, Commodity.name, Commodity.price).where(
                Commodity.id.in_([line.commodity_id for line in lines])
            )
        )
    }
    total_count = sum(line.number for line in lines)
    total_amount = sum((commodities[line.commodity_id][1] * line.number for line in lines), Decimal("0.00"))
    if total_amount > MAX_PRICE:
        raise errors.Invalid.field("cart", "订单金额超出上限。", code="order_too_large")
    if total_amount < MIN_PRICE:  # a commodity priced 0.00 before prices had a minimum
        raise errors.Invalid.field("cart", f"订单金额不能低于 {MIN_PRICE} 元。", code="order_too_small")

    order = _insert_order(session, caller, address_text(address), total_count, total_amount, body.pay_method)
    goods = [
        OrderGoods(
            order_id=order.order_id,
            commodity_id=line.commodity_id,
            commodity_name=commodities[line.commodity_id][0],
            number=line.number,
            price=commodities[line.commodity_id][1],
        )
        for line in lines
    ]
    session.add_all(goods)
    session.execute(
        sql_delete(ShoppingCart).where(ShoppingCart.id.in_(cart_ids)).execution_options(synchronize_session=False)
    )
    session.flush()
    return serialize(order, goods)


def _insert_order(
    session: Session, caller: User, address: str, total_count: int, total_amount: Decimal, pay_method: int
) -> Order:
    """Insert the order under a fresh id; on the (rare) collision try another id."""
    for attempt in range(1, ORDER_ID_ATTEMPTS + 1):
        order = Order(
            order_id=new_order_id(caller.id),
            user_id=caller.id,
            address=address,
            total_count=total_count,
            total_amount=total_amount.quantize(Decimal("0.01")),
            pay_method=pay_method,
            status=UNPAID if pay_method == ALIPAY else PAID,
            refund_required=False,
        )
        try:
            with session.begin_nested():
                session.add(order)
                session.flush()
            return order
        except IntegrityError:
            if attempt == ORDER_ID_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


# --- cancelling ---------------------------------------------------------------------------


def cancel(session: Session, caller: User, order_id: str) -> dict[str, Any]:
    order = get_owned(session, caller, order_id)
    if not cancel_unpaid(session, order.order_id):
        raise errors.Conflict("只能取消未支付的订单", code="order_not_cancellable")
    session.refresh(order)
    return detail(session, caller, order.order_id)


# --- cancelling and expiring ---------------------------------------------------------------


def cancel_unpaid(session: Session, order_id: str) -> bool:
    """Cancel ``order_id`` if it is still unpaid and give its stock back; False if it wasn't."""
    cancelled = rows_matched(
        session,
        sql_update(Order)
        .where(Order.order_id == order_id, Order.status == UNPAID)
        .values(status=CANCELLED, update_time=utcnow())
        .execution_options(synchronize_session=False),
    )
    if cancelled != 1:
        return False
    lines = session.execute(
        select(OrderGoods.commodity_id, OrderGoods.number)
        .where(OrderGoods.order_id == order_id)
        .order_by(OrderGoods.commodity_id)  # the same lock order as placing an order
    ).all()
    for commodity_id, number in lines:
        session.execute(
            sql_update(Commodity)
            .where(Commodity.id == commodity_id)
            .values(stock=Commodity.stock + number, sales=Commodity.sales - number)
            .execution_options(synchronize_session=False)
        )
    return True


def expired_orders(session: Session, *, now: datetime | None = None, limit: int = 500) -> list[tuple[str, int]]:
    """``(order_id, pay_method)`` of orders unpaid for longer than ``ORDER_PAY_TIMEOUT_SECONDS``."""
    cutoff = (now or utcnow()) - timedelta(seconds=get_settings().order_pay_timeout_seconds)
    rows = session.execute(
        select(Order.order_id, Order.pay_method)
        .where(Order.status == UNPAID, Order.create_time < cutoff)
        .order_by(Order.create_time)
        .limit(limit)
    )
    return [(order_id, pay_method) for order_id, pay_method in rows]
