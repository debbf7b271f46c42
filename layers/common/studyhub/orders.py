"""Order lifecycle rules shared by the shopping function and the jobs: cancel, expire, restock.

Exactly-once comes from the conditional state change ``UPDATE orders SET status = 6 WHERE
order_id = ? AND status = 1``: only the transaction whose UPDATE hit the row gives the stock
back, so two cleanup runs, a user's cancel and a payment arriving at the same moment can race
safely (the losing UPDATE matches no row: MySQL re-reads the latest committed row for it, and
SQLite serialises writers).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .config import get_settings
from .models.base import utcnow
from .models.shopping import CANCELLED, UNPAID, Commodity, Order, OrderGoods

log = logging.getLogger("studyhub.orders")


def cancel_unpaid(session: Session, order_id: str) -> bool:
    """Cancel ``order_id`` if it is still unpaid and give its stock back; False if it wasn't."""
    result = session.execute(
        update(Order)
        .where(Order.order_id == order_id, Order.status == UNPAID)
        .values(status=CANCELLED, update_time=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    lines = session.execute(
        select(OrderGoods.commodity_id, OrderGoods.number)
        .where(OrderGoods.order_id == order_id)
        .order_by(OrderGoods.commodity_id)  # the same lock order as placing an order
    ).all()
    for commodity_id, number in lines:
        session.execute(
            update(Commodity)
            .where(Commodity.id == commodity_id)
            .values(stock=Commodity.stock + number, sales=Commodity.sales - number)
            .execution_options(synchronize_session=False)
        )
    return True


def expired_order_ids(session: Session, *, now: datetime | None = None, limit: int = 500) -> list[str]:
    cutoff = (now or utcnow()) - timedelta(seconds=get_settings().order_pay_timeout_seconds)
    return list(session.scalars(
        select(Order.order_id)
        .where(Order.status == UNPAID, Order.create_time < cutoff)
        .order_by(Order.create_time)
        .limit(limit)
    ))


def cancel_expired_orders(*, now: datetime | None = None, batch: int = 500) -> int:
    """The cleanup job: cancel every order unpaid for longer than ``ORDER_PAY_TIMEOUT_SECONDS``.

    Each order is cancelled in its own short transaction (retried on deadlock), so one busy
    commodity row never holds the whole run. Returns how many orders this run cancelled.
    """
    from .db import run_in_transaction, session_scope

    cancelled = 0
    seen: set[str] = set()
    while True:
        with session_scope() as session:
            candidates = [i for i in expired_order_ids(session, now=now, limit=batch) if i not in seen]
        if not candidates:
            break
        for order_id in candidates:
            seen.add(order_id)
            if run_in_transaction(lambda s, oid=order_id: cancel_unpaid(s, oid)):
                cancelled += 1
    if cancelled:
        log.info("cleanup cancelled %d expired unpaid orders", cancelled)
    return cancelled
