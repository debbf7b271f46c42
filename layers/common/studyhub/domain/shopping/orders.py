"""Orders: placing one from cart rows without ever overselling, reading, cancelling and expiring.

Placing an order is one transaction (its route is registered with ``retry=True``: the binder
retries the whole of it on deadlock / Galera certification conflict), on SQLAlchemy Core (see
``place_order``): every check first on plain reads (a refusal writes and locks nothing), then the
cart rows claimed (a double submit waits there, then finds them gone), the order inserted, and the
contended stock rows locked last, by one conditional
``UPDATE commodities SET stock = stock - n, sales = sales + n WHERE id = ? AND stock >= n`` per
line in commodity-id order (every transaction locks them in the same order, so multi-line orders
can't deadlock each other) whose row count says whether the stock covered it: no read-then-write,
nothing to spin on. Any line short of stock raises ``insufficient_stock`` and the whole
transaction rolls back.

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
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, Table, and_, bindparam, insert, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.config import get_settings
from studyhub.core.db import rows_matched
from studyhub.core.prepared import Prepared
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller
from studyhub.models.base import utcnow
from studyhub.models.shopping import ALIPAY, CANCELLED, PAID, UNPAID, Commodity, Order, OrderGoods, ShoppingCart
from studyhub.models.users import Address, Area
from studyhub.tables.shopping import commodities as _commodities

from .schemas import MAX_ORDER_LINES, MAX_PRICE, MIN_PRICE, OrderIn

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


def serialize(order: Order | PlacedOrder, goods: Sequence[OrderGoods | GoodsLine]) -> dict[str, Any]:
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


def owned_query(caller: Caller) -> Select[Order]:
    return listing_query(caller)


def listing_query(caller: Caller, *, status: int | None = None, user_id: int | None = None) -> Select[Order]:
    """The caller's orders; an operator's (superuser): everyone's. Filters ``status`` and ``user``."""
    stmt = select(Order)
    if not caller.is_superuser:
        stmt = stmt.where(Order.user_id == caller.id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    if user_id is not None:
        stmt = stmt.where(Order.user_id == user_id)
    return stmt.order_by(Order.update_time.desc(), Order.order_id.desc())


def get_owned(session: Session, caller: Caller, order_id: str, *, lock: bool = False) -> Order:
    if len(order_id) > 32:
        raise errors.NotFound()
    stmt = select(Order).where(Order.order_id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    order = session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()
    if order is None or order.user_id != caller.id:
        raise errors.NotFound()
    return order


def get_visible(session: Session, caller: Caller, order_id: str) -> Order:
    """The order if the caller owns it or is an operator (superuser); else 404."""
    if len(order_id) > 32:
        raise errors.NotFound()
    order = session.scalars(
        select(Order).where(Order.order_id == order_id).execution_options(populate_existing=True)
    ).one_or_none()
    if order is None or (order.user_id != caller.id and not caller.is_superuser):
        raise errors.NotFound()
    return order


def detail(session: Session, caller: Caller, order_id: str) -> dict[str, Any]:
    return serialize_page(session, [get_visible(session, caller, order_id)])[0]


def pay_deadline(order: Order) -> datetime:
    """When an unpaid order expires (the cleanup job cancels it after that)."""
    return order.create_time + timedelta(seconds=get_settings().order_pay_timeout_seconds)


# --- placing ------------------------------------------------------------------------------
# SQLAlchemy Core on the session's connection: no identity map, no flush, statements compiled once.

_addresses = cast(Table, Address.__table__)
_areas = cast(Table, Area.__table__)
_carts = cast(Table, ShoppingCart.__table__)
_orders = cast(Table, Order.__table__)
_goods = cast(Table, OrderGoods.__table__)
_province, _city, _district = _areas.alias("province"), _areas.alias("city"), _areas.alias("district")


# One read for every check: the address (its area names joined) and, outer-joined to it, the
# caller's cart rows with their commodities. No row: not the caller's address; one row of NULL
# lines: no cart row. (Sorted here, not by an ORDER BY: MariaDB would sort in a temporary table.)
# Each statement is built and compiled once (``core.prepared``): those over cart rows once per
# number of lines (at most ``MAX_ORDER_LINES``), their ids ``cart_0``, ``cart_1``...
@lru_cache(maxsize=MAX_ORDER_LINES)
def _address_and_lines(lines: int) -> Prepared:
    return Prepared(
        select(
            _province.c.name.label("province"),
            _city.c.name.label("city"),
            _district.c.name.label("district"),
            _addresses.c.place,
            _addresses.c.receiver,
            _addresses.c.mobile,
            _carts.c.commodity_id,
            _commodities.c.name,
            _carts.c.number,
            _commodities.c.price,
            _commodities.c.stock,
            _commodities.c.is_delete,
        )
        .select_from(
            _addresses.join(_province, _province.c.id == _addresses.c.province_id)
            .join(_city, _city.c.id == _addresses.c.city_id)
            .join(_district, _district.c.id == _addresses.c.district_id)
            .outerjoin(
                _carts.join(_commodities, _commodities.c.id == _carts.c.commodity_id),
                and_(_carts.c.id.in_(_cart_ids(lines)), _carts.c.user_id == _addresses.c.user_id),
            )
        )
        .where(
            _addresses.c.id == bindparam("address_id"),
            _addresses.c.user_id == bindparam("user_id"),
            _addresses.c.is_delete.is_(False),
        )
    )


@lru_cache(maxsize=MAX_ORDER_LINES)
def _claim_cart(lines: int) -> Prepared:
    return Prepared(
        sql_delete(_carts).where(_carts.c.id.in_(_cart_ids(lines)), _carts.c.user_id == bindparam("user_id"))
    )


def _cart_ids(lines: int) -> list[Any]:
    return [bindparam(f"cart_{i}") for i in range(lines)]


def _cart_params(cart_ids: list[int]) -> dict[str, int]:
    return {f"cart_{i}": cart_id for i, cart_id in enumerate(cart_ids)}


class GoodsLine(NamedTuple):
    """One line of an order being placed, as its goods row will hold it."""

    commodity_id: int
    commodity_name: str
    number: int
    price: Decimal


class PlacedOrder(NamedTuple):
    order_id: str
    user_id: int
    address: str
    total_count: int
    total_amount: Decimal
    pay_method: int
    status: int
    create_time: datetime
    update_time: datetime


def _inserting(table: Table, names: Sequence[str]) -> Prepared:
    return Prepared(insert(table).values({name: bindparam(name) for name in names}))


_INSERT_ORDER = _inserting(_orders, (*PlacedOrder._fields, "refund_required"))
_INSERT_GOODS = _inserting(_goods, (*GoodsLine._fields, "order_id", "create_time", "update_time"))
_TAKE_STOCK = Prepared(
    sql_update(_commodities)
    .where(
        _commodities.c.id == bindparam("take_id"),
        _commodities.c.stock >= bindparam("take_n"),
        _commodities.c.is_delete.is_(False),
    )
    .values(
        stock=_commodities.c.stock - bindparam("take_n"),
        sales=_commodities.c.sales + bindparam("take_n"),
        update_time=bindparam("now"),  # as the column's onupdate would
    )
)
_NAME_AND_DELETED = Prepared(
    select(_commodities.c.name, _commodities.c.is_delete).where(_commodities.c.id == bindparam("commodity_id"))
)


def address_text(province: str, city: str, district: str, place: str, receiver: str, mobile: str) -> str:
    return f"{province} {city} {district} {place} [{receiver} 收] {mobile}"


def new_order_id(user_id: int) -> str:
    """Local time ``yyyyMMddHHmmss``, its microseconds, the user id (4 digits) and 2 random
    digits: 26 digits that sort like the orders were placed (MySQL keeps whole seconds only)."""
    now = utcnow().astimezone(ZoneInfo(get_settings().time_zone))
    return f"{now:%Y%m%d%H%M%S%f}{user_id % 10_000:04d}{secrets.randbelow(100):02d}"


def _no_such_cart() -> errors.Invalid:
    return errors.Invalid.field("cart", "购物车中没有这些商品。", code="invalid_cart")


def _short_of_stock(name: str) -> errors.Invalid:
    return errors.Invalid("商品库存不足", code="insufficient_stock", errors={"cart": [f"「{name}」库存不足。"]})


def place_order(session: Session, caller: Caller, body: OrderIn) -> dict[str, Any]:
    """Place an order from cart rows (API.md §6): every check first, without a lock; the
    contended stock rows are locked last, and held only through the goods' insert and COMMIT.

    1. one read (the address, its area names, the cart rows joined with their commodities), then
       every check: ownership, deleted commodities, the stock as read, the totals; a refusal here
       wrote and locked nothing;
    2. delete the cart rows: a double submit waits on them here, then finds them gone (400);
    3. insert the order (a fresh id on a collision: a duplicate key aborts only that statement);
    4. per line, in commodity-id order (every transaction locks the stock rows in the same order:
       no deadlock between multi-line orders), one conditional ``UPDATE ... SET stock = stock - n
       WHERE id = ? AND stock >= n``: its row count is the only word on the stock (the read of
       step 1 was a snapshot), so it is never oversold; a line short of stock rolls all back;
    5. insert the goods (one multi-row INSERT). The order of 4 and 5 matters on MySQL: the goods'
       foreign key takes a shared lock on the commodity row, which two orders holding it would
       then both wait to upgrade (a deadlock); after step 4 the exclusive lock already covers it.
    """
    cart_ids = sorted(set(body.cart))
    if not cart_ids:
        raise errors.Invalid.field("cart", "请选择要结算的购物车商品。", code="empty_cart")
    conn = session.connection()
    user_id = caller.id
    rows = _address_and_lines(len(cart_ids)).all(
        conn, {"address_id": body.address, "user_id": user_id, **_cart_params(cart_ids)}
    )
    if not rows:
        raise errors.Invalid.field("address", "收货地址不存在。", code="invalid_address")
    address = address_text(rows[0].province, rows[0].city, rows[0].district, *rows[0][3:6])
    lines = _checked_lines(rows, len(cart_ids))
    total_count = sum(line.number for line in lines)
    total_amount = sum((line.price * line.number for line in lines), Decimal("0.00")).quantize(Decimal("0.01"))
    if total_amount > MAX_PRICE:
        raise errors.Invalid.field("cart", "订单金额超出上限。", code="order_too_large")
    if total_amount < MIN_PRICE:  # a commodity priced 0.00 before prices had a minimum
        raise errors.Invalid.field("cart", f"订单金额不能低于 {MIN_PRICE} 元。", code="order_too_small")

    if _claim_cart(len(cart_ids)).rowcount(conn, {"user_id": user_id, **_cart_params(cart_ids)}) != len(cart_ids):
        raise _no_such_cart()  # a concurrent submit of the same rows got there first
    order = _insert_order(conn, user_id, address, total_count, total_amount, body.pay_method)
    _take_stock(conn, lines, order.create_time)
    _INSERT_GOODS.insert_many(
        conn,
        [
            {
                **line._asdict(),
                "order_id": order.order_id,
                "create_time": order.create_time,
                "update_time": order.create_time,
            }
            for line in lines
        ],
    )
    return serialize(order, lines)


def _checked_lines(rows: Sequence[Row[*tuple[Any, ...]]], wanted: int) -> list[GoodsLine]:
    """The cart rows read as order lines; 400 unless all ``wanted`` rows are the caller's, of a
    commodity still for sale, and covered by its stock as read."""
    if rows[0].commodity_id is None or len(rows) != wanted or any(row.is_delete for row in rows):
        raise _no_such_cart()  # none, some missing, or a deleted commodity's row (it left the cart)
    ordered = sorted(rows, key=lambda row: row.commodity_id)  # the order every transaction locks stock in
    for row in ordered:
        if row.stock < row.number:  # short as read: refused before any write or lock
            raise _short_of_stock(row.name)
    return [GoodsLine(row.commodity_id, row.name, row.number, row.price) for row in ordered]


def _take_stock(conn: Connection, lines: list[GoodsLine], now: datetime) -> None:
    """The conditional UPDATE per line (``lines`` are in commodity-id order); 400 if one fails."""
    for line in lines:
        taken = {"take_id": line.commodity_id, "take_n": line.number, "now": now}
        if _TAKE_STOCK.rowcount(conn, taken) != 1:
            name, deleted = _NAME_AND_DELETED.first(conn, {"commodity_id": line.commodity_id})
            raise _no_such_cart() if deleted else _short_of_stock(name)


def _insert_order(
    conn: Connection, user_id: int, address: str, total_count: int, total_amount: Decimal, pay_method: int
) -> PlacedOrder:
    """Insert the order under a fresh id; on the (rare) collision try another id."""
    now = utcnow()
    for attempt in range(1, ORDER_ID_ATTEMPTS + 1):
        order = PlacedOrder(
            order_id=new_order_id(user_id),
            user_id=user_id,
            address=address,
            total_count=total_count,
            total_amount=total_amount,
            pay_method=pay_method,
            status=UNPAID if pay_method == ALIPAY else PAID,
            create_time=now,
            update_time=now,
        )
        try:
            # MySQL and SQLite undo just the failed statement: no SAVEPOINT round trips needed
            _INSERT_ORDER.rowcount(conn, {**order._asdict(), "refund_required": False})
            return order
        except IntegrityError:
            if attempt == ORDER_ID_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


# --- cancelling ---------------------------------------------------------------------------


def cancel(session: Session, caller: Caller, order_id: str) -> dict[str, Any]:
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
