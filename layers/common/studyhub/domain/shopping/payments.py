"""Alipay payments: the pay URL, the browser return and the asynchronous notification.

A payment is recorded exactly once per Alipay ``trade_no``: the order row is locked first
(``SELECT ... FOR UPDATE``), so duplicate notifications for one order queue behind each other
and find the payment already there, and ``payments.trade_id`` is unique besides. The order
becomes paid only through ``UPDATE ... WHERE status = 1``; a payment for an order that was
cancelled meanwhile (or is already paid by another trade) is kept and the order is flagged for
a refund, its status unchanged; so is the payment (``payments.refund_required``: the operators'
list ``?refund_required=true``, and what the cleanup job refunds, see ``refunds.py``).
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from studyhub.clients import alipay
from studyhub.core import errors
from studyhub.core.config import get_settings
from studyhub.core.db import rows_matched
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller
from studyhub.models.base import utcnow
from studyhub.models.shopping import PAID, UNPAID, Order, Payment

from .orders import get_owned, pay_deadline
from .schemas import MIN_PRICE

log = logging.getLogger("studyhub.shopping.payments")
ORDER_ID_MAX = 32  # orders.order_id
TRADE_ID_MAX = 100  # payments.trade_id


class Rejected(errors.StudyHubError):
    """A notification that must change nothing: Alipay gets ``400 failure`` (plain text)."""

    status = 400
    code = "notification_rejected"
    text = "failure"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def serialize(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "order": payment.order_id,
        "trade_id": payment.trade_id,
        "create_time": isoformat(payment.create_time),
    }


def listing_query(caller: Caller, *, refund_required: bool | None = None) -> Select[Payment]:
    """The caller's payments; a superuser's: everyone's (``refund_required``: only those to give back)."""
    stmt = select(Payment)
    if not caller.is_superuser:
        stmt = stmt.join(Order, Order.order_id == Payment.order_id).where(Order.user_id == caller.id)
    if refund_required is not None:
        stmt = stmt.where(Payment.refund_required.is_(refund_required))
    return stmt.order_by(Payment.update_time.desc(), Payment.id.desc())


def detail(session: Session, caller: Caller, payment_id: int) -> dict[str, Any]:
    """One payment: its order's owner or a superuser; anyone else 404."""
    row = session.execute(
        select(Payment, Order.user_id).join(Order, Order.order_id == Payment.order_id).where(Payment.id == payment_id)
    ).one_or_none()
    if row is None or (row.user_id != caller.id and not caller.is_superuser):
        raise errors.NotFound()
    return serialize(row.Payment)


def pay_url(session: Session, caller: Caller, order_id: str) -> dict[str, str]:
    alipay.get_alipay()  # 503 when Alipay isn't configured
    order = get_owned(session, caller, order_id)
    deadline = pay_deadline(order)
    if order.status != UNPAID or deadline <= utcnow():
        raise errors.NotFound("订单不存在或不是待支付状态", code="not_found")
    if order.total_amount < MIN_PRICE:  # placed before the minimum: Alipay would refuse to take it
        raise errors.Conflict(f"订单金额低于 {MIN_PRICE} 元，无法在线支付", code="order_too_small")
    local_deadline = deadline.astimezone(ZoneInfo(get_settings().time_zone))
    url = alipay.page_pay_url(
        order.order_id, order.total_amount, f"StudyHub 订单 {order.order_id}", time_expire=local_deadline
    )
    return {"pay_url": url}


def _amount(value: str | None) -> Decimal:
    try:
        amount = Decimal(value or "")
    except InvalidOperation:
        raise Rejected("amount is not a number") from None
    if not amount.is_finite():
        raise Rejected("amount is not a number")
    return amount


def record_payment(session: Session, order: Order, trade_id: str, amount: Decimal) -> Payment:
    """Record Alipay trade ``trade_id`` for ``order`` (locked by the caller) exactly once."""
    existing = session.scalar(select(Payment).where(Payment.trade_id == trade_id))
    if existing is not None:
        if existing.order_id != order.order_id:
            raise Rejected("trade_no already recorded for another order")
        return existing  # a redelivery: already handled
    payment = Payment(order_id=order.order_id, trade_id=trade_id, amount=amount)
    session.add(payment)
    session.flush()
    paid = rows_matched(
        session,
        sql_update(Order)
        .where(Order.order_id == order.order_id, Order.status == UNPAID)
        .values(status=PAID, update_time=utcnow())
        .execution_options(synchronize_session=False),
    )
    if not paid:
        payment.refund_required = True
        session.execute(
            sql_update(Order)
            .where(Order.order_id == order.order_id)
            .values(refund_required=True, update_time=utcnow())
            .execution_options(synchronize_session=False)
        )
        log.warning("payment %s for order %s in status %s: flagged for refund", trade_id, order.order_id, order.status)
    return payment


def lock_order(session: Session, order_id: str) -> Order | None:
    if len(order_id) > ORDER_ID_MAX:
        return None
    return session.scalars(
        select(Order).where(Order.order_id == order_id).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()


def handle_notification(session: Session, params: dict[str, str]) -> None:
    """Alipay's asynchronous notification (form fields as sent). Raises ``Rejected`` for what
    must be answered ``failure``; Alipay not configured is 503, so Alipay retries later."""
    alipay.get_alipay()
    try:
        check_signed(params)
        _record_notification(session, params)
    except Rejected as rejected:
        log.warning("alipay notification rejected: %s (order %s)", rejected.reason, params.get("out_trade_no", "")[:32])
        raise


def _record_notification(session: Session, params: dict[str, str]) -> None:
    order_id, trade_id = params["out_trade_no"], params["trade_no"]
    amount = _amount(params.get("total_amount"))
    order = lock_order(session, order_id)
    if order is None:
        raise Rejected("unknown order")
    if amount != order.total_amount:
        raise Rejected("amount differs from the order's")
    if params.get("trade_status") not in alipay.PAID_TRADE_STATUSES:
        return  # WAIT_BUYER_PAY, TRADE_CLOSED: acknowledged, nothing to record
    record_payment(session, order, trade_id, amount)


def check_signed(params: dict[str, str]) -> None:
    """Signature by Alipay's key, our app id, the fields we need: else ``Rejected``."""
    if not alipay.verify_signature(params):
        raise Rejected("bad signature")
    if params.get("app_id") != alipay.app_id():
        raise Rejected("another app_id")
    if not params.get("out_trade_no") or not params.get("trade_no"):
        raise Rejected("out_trade_no or trade_no missing")
    if len(params["trade_no"]) > TRADE_ID_MAX:
        raise Rejected("trade_no too long")


def handle_return(session: Session, caller: Caller, params: dict[str, str]) -> dict[str, str]:
    """The browser's return from Alipay (its signed query string): mark the order paid.

    A missing ``sign`` is 400, a bad signature 403, Alipay not configured 503.
    """
    alipay.get_alipay()
    if not params.get("sign"):
        raise errors.Invalid.field("sign", "缺少签名。", code="signature_required")
    try:
        check_signed(params)
    except Rejected:
        raise errors.Forbidden("签名验证失败", code="invalid_signature") from None
    order = lock_order(session, params["out_trade_no"])
    if order is None or order.user_id != caller.id:
        raise errors.NotFound()
    if "total_amount" in params:
        try:
            amount = _amount(params["total_amount"])
        except Rejected:
            amount = None
        if amount != order.total_amount:
            raise errors.Invalid.field("total_amount", "支付金额与订单金额不符。", code="amount_mismatch")
    try:
        payment = record_payment(session, order, params["trade_no"], order.total_amount)
    except Rejected:
        raise errors.Conflict("该支付宝交易已用于其他订单", code="trade_conflict") from None
    return {"order_id": payment.order_id, "trade_id": payment.trade_id}
