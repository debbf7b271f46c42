"""After payment: an operator ships (2 → 3), the buyer confirms receipt (3 → 4) and finishes (4 → 5).

Each step is one conditional ``UPDATE orders SET status = <next> WHERE order_id = ? AND status =
<expected>``: its row count decides, so two clicks, two operators or the cleanup job racing the
buyer change the order once and the loser gets ``409``. An order with a refund under way (a
payment whose ``refund_no`` is set and not yet refunded, see ``refunds.py``) can't be shipped.
Shipped orders are marked received by the cleanup job ``ORDER_AUTO_RECEIVE_DAYS`` after shipping.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from studyhub.core import errors
from studyhub.core.config import get_settings
from studyhub.core.db import rows_matched
from studyhub.domain.access import Caller, require_superuser
from studyhub.models.base import utcnow
from studyhub.models.shopping import FINISHED, PAID, RECEIVED, SHIPPED, Order, Payment

from .orders import detail, get_visible

log = logging.getLogger("studyhub.shopping.fulfilment")


def refund_under_way() -> ColumnElement[bool]:
    """The order has a payment whose refund was asked of Alipay and isn't recorded yet."""
    return exists().where(
        Payment.order_id == Order.order_id, Payment.refund_no.is_not(None), Payment.refunded_at.is_(None)
    )


def _advance(session: Session, order_id: str, expected: int, values: dict[str, Any]) -> bool:
    condition = [Order.order_id == order_id, Order.status == expected]
    if expected == PAID:
        condition.append(~refund_under_way())
    matched = rows_matched(
        session,
        sql_update(Order)
        .where(*condition)
        .values(update_time=utcnow(), **values)
        .execution_options(synchronize_session=False),
    )
    return matched == 1


def ship(session: Session, caller: Caller, order_id: str) -> dict[str, Any]:
    """An operator ships a paid order: ``2 → 3``."""
    require_superuser(caller)
    order = get_visible(session, caller, order_id)
    if not _advance(session, order.order_id, PAID, {"status": SHIPPED, "shipped_at": utcnow()}):
        raise errors.Conflict("只能发货已支付、待发货的订单", code="order_not_shippable")
    log.info("order %s shipped by user %s", order.order_id, caller.id)
    return detail(session, caller, order.order_id)


def _owned(session: Session, caller: Caller, order_id: str) -> Order:
    order = get_visible(session, caller, order_id)
    if order.user_id != caller.id:  # an operator sees it but can't confirm for the buyer
        raise errors.Forbidden("只能确认自己的订单")
    return order


def receive(session: Session, caller: Caller, order_id: str) -> dict[str, Any]:
    """The buyer confirms receipt of a shipped order: ``3 → 4``."""
    order = _owned(session, caller, order_id)
    if not _advance(session, order.order_id, SHIPPED, {"status": RECEIVED}):
        raise errors.Conflict("只能确认收货已发货的订单", code="order_not_receivable")
    return detail(session, caller, order.order_id)


def finish(session: Session, caller: Caller, order_id: str) -> dict[str, Any]:
    """The buyer finishes a received order: ``4 → 5``."""
    order = _owned(session, caller, order_id)
    if not _advance(session, order.order_id, RECEIVED, {"status": FINISHED}):
        raise errors.Conflict("只能完成已收货的订单", code="order_not_finishable")
    return detail(session, caller, order.order_id)


def receive_overdue(session: Session, *, now: datetime | None = None) -> int:
    """The cleanup job: orders shipped more than ``ORDER_AUTO_RECEIVE_DAYS`` ago become received
    (one conditional UPDATE: a buyer confirming at the same moment changes the order once)."""
    days = get_settings().order_auto_receive_days
    cutoff = (now or utcnow()) - timedelta(days=days)
    received = rows_matched(
        session,
        sql_update(Order)
        .where(Order.status == SHIPPED, Order.shipped_at < cutoff)
        .values(status=RECEIVED, update_time=utcnow())
        .execution_options(synchronize_session=False),
    )
    if received:
        log.info("cleanup marked %d orders received (shipped over %d days ago)", received, days)
    return received
