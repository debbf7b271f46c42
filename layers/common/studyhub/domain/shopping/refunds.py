"""Refunds through ``alipay.trade.refund``: each payment given back exactly once.

A refund is per payment (an Alipay trade), in full, under an ``out_request_no`` derived from the
order and the payment (``<order_id>R<payment id>``), so every attempt — a retry, a second operator,
the cleanup job, a run after a crash — asks Alipay with the same number, and Alipay refunds one
number once. No database transaction is open while Alipay is asked:

1. **claim** (one short transaction, the order row locked): check the order may be refunded and
   store each payment's ``refund_no`` (``UPDATE ... WHERE refund_no IS NULL``; unique). From then
   on the refund is *under way*: the order can't be shipped (``fulfilment.refund_under_way``);
2. **ask Alipay**. Refused (a verified answer, ``code`` not ``10000``): the claim is released
   (``refund_no`` back to NULL) and the order is unchanged: ``409 refund_failed``. No trustworthy
   answer (down, slow, badly signed): the claim stays, ``503``; the cleanup job asks again;
3. **record** (one short transaction): ``UPDATE payments SET refunded_at = now ... WHERE id = ? AND
   refunded_at IS NULL`` and, for a whole order, ``UPDATE orders SET status = 7 WHERE order_id = ?
   AND status = <as claimed>``: only the transaction whose UPDATE hit the row gives stock back (a
   status-2 order; a cancelled one gave it back when cancelled). Two refunds at once both end here,
   both answer the refunded order, and the stock comes back once.

The cleanup job refunds every payment flagged ``refund_required`` (a payment that arrived for a
cancelled order, or a second payment of a paid one) and finishes refunds left under way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from studyhub.clients import alipay
from studyhub.core import errors
from studyhub.core.db import rows_matched, run_in_transaction, session_scope
from studyhub.domain.access import Caller
from studyhub.models.base import utcnow
from studyhub.models.shopping import ALIPAY, CANCELLED, PAID, REFUNDED, Commodity, Order, OrderGoods, Payment

from .orders import detail

log = logging.getLogger("studyhub.shopping.refunds")


@dataclass(frozen=True)
class PaymentRefund:
    payment_id: int
    order_id: str
    trade_id: str
    amount: Decimal
    request_no: str


@dataclass(frozen=True)
class Claim:
    order_id: str
    refunds: tuple[PaymentRefund, ...]
    # the status the order leaves for REFUNDED once every payment is back; None: it keeps its status
    from_status: int | None


def request_no(payment: Payment) -> str:
    """The refund's ``out_request_no`` (at most 64 characters): the same on every attempt."""
    return f"{payment.order_id}R{payment.id}"


# --- the route -----------------------------------------------------------------------------


def refund_order(caller: Caller, order_id: str) -> dict[str, Any]:
    """An operator refunds a paid Alipay order (status 2, or a cancelled one flagged for refund)
    in full. A refunded order answers as it is: asking again refunds nothing."""
    if not caller.is_superuser:
        raise errors.Forbidden("仅管理员可执行该操作")
    alipay.get_alipay()  # 503 when Alipay isn't configured, before anything is claimed
    claim = run_in_transaction(partial(_claim_order, order_id=order_id))
    if claim is not None:
        _carry_out(claim)
    with session_scope() as session:
        return detail(session, caller, order_id)


def _lock(session: Session, order_id: str) -> Order:
    if len(order_id) > 32:
        raise errors.NotFound()
    order = session.scalars(
        select(Order).where(Order.order_id == order_id).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if order is None:
        raise errors.NotFound()
    return order


def _claim_order(session: Session, order_id: str) -> Claim | None:
    order = _lock(session, order_id)
    if order.status == REFUNDED:
        return None  # already done: nothing to ask Alipay
    unrefunded = list(
        session.scalars(
            select(Payment)
            .where(Payment.order_id == order.order_id, Payment.refunded_at.is_(None))
            .order_by(Payment.id)
        )
    )
    if order.status == CANCELLED:
        unrefunded = [p for p in unrefunded if p.refund_required]
    refundable = order.pay_method == ALIPAY and order.status in (PAID, CANCELLED) and unrefunded
    if not refundable:
        raise errors.Conflict(
            "只能退款已支付（待发货）的支付宝订单，或已取消且待退款的订单", code="order_not_refundable"
        )
    return Claim(order.order_id, tuple(_claim_payment(session, p) for p in unrefunded), order.status)


def _claim_payment(session: Session, payment: Payment) -> PaymentRefund:
    number = request_no(payment)
    session.execute(
        sql_update(Payment)
        .where(Payment.id == payment.id, Payment.refund_no.is_(None))
        .values(refund_no=number)
        .execution_options(synchronize_session=False)
    )
    return PaymentRefund(payment.id, payment.order_id, payment.trade_id, payment.amount, number)


def _carry_out(claim: Claim) -> None:
    """Ask Alipay for each payment, record what it refunded; then the order (see the module doc)."""
    for refund in claim.refunds:
        answer = alipay.trade_refund(refund.order_id, refund.trade_id, refund.amount, refund.request_no)
        if not answer.ok:
            run_in_transaction(partial(_release, refund=refund))
            log.warning(
                "refund %s of order %s refused by Alipay: %s %s",
                refund.request_no,
                refund.order_id,
                answer.code,
                answer.sub_code,
            )
            raise errors.Conflict(
                f"支付宝拒绝退款：{answer.sub_msg or answer.sub_code or answer.code}", code="refund_failed"
            )
        run_in_transaction(partial(_record, refund=refund))
    if claim.from_status is not None:
        run_in_transaction(partial(_refund_order_row, order_id=claim.order_id, from_status=claim.from_status))


def _release(session: Session, refund: PaymentRefund) -> None:
    session.execute(
        sql_update(Payment)
        .where(Payment.id == refund.payment_id, Payment.refund_no == refund.request_no, Payment.refunded_at.is_(None))
        .values(refund_no=None)
        .execution_options(synchronize_session=False)
    )


def _record(session: Session, refund: PaymentRefund) -> None:
    recorded = rows_matched(
        session,
        sql_update(Payment)
        .where(Payment.id == refund.payment_id, Payment.refunded_at.is_(None))
        .values(refunded_at=utcnow(), refund_required=False, refund_no=refund.request_no, update_time=utcnow())
        .execution_options(synchronize_session=False),
    )
    if recorded:
        log.info("payment %s of order %s refunded (%s)", refund.payment_id, refund.order_id, refund.request_no)
        _clear_order_flag(session, refund.order_id)


def _clear_order_flag(session: Session, order_id: str) -> None:
    """The order's flag summarises its payments': cleared once none is left to give back."""
    still_flagged = session.scalar(
        select(Payment.id).where(Payment.order_id == order_id, Payment.refund_required.is_(True)).limit(1)
    )
    if still_flagged is None:
        session.execute(
            sql_update(Order)
            .where(Order.order_id == order_id, Order.refund_required.is_(True))
            .values(refund_required=False)
            .execution_options(synchronize_session=False)
        )


def _refund_order_row(session: Session, order_id: str, from_status: int) -> None:
    moved = rows_matched(
        session,
        sql_update(Order)
        .where(Order.order_id == order_id, Order.status == from_status)
        .values(status=REFUNDED, refund_required=False, update_time=utcnow())
        .execution_options(synchronize_session=False),
    )
    if moved and from_status == PAID:  # a cancelled order's stock came back when it was cancelled
        lines = session.execute(
            select(OrderGoods.commodity_id, OrderGoods.number)
            .where(OrderGoods.order_id == order_id)
            .order_by(OrderGoods.commodity_id)  # the lock order of placing an order
        ).all()
        for commodity_id, number in lines:
            session.execute(
                sql_update(Commodity)
                .where(Commodity.id == commodity_id)
                .values(stock=Commodity.stock + number, sales=Commodity.sales - number)
                .execution_options(synchronize_session=False)
            )
    if moved:
        log.info("order %s refunded (was status %s)", order_id, from_status)


# --- the cleanup job -----------------------------------------------------------------------


@dataclass
class RefundRun:
    refunded: int = 0
    refused: int = 0
    left: int = 0  # Alipay unreachable: asked again on the next run


def refund_pending(*, batch: int = 200) -> RefundRun:
    """Refund every flagged payment and finish every refund left under way."""
    run = RefundRun()
    if not alipay.is_configured():
        return run
    with session_scope() as session:
        pending = session.execute(
            select(Payment.id, Payment.order_id, Payment.refund_required, Order.status)
            .join(Order, Order.order_id == Payment.order_id)
            .where(
                Payment.refunded_at.is_(None),
                or_(Payment.refund_required.is_(True), Payment.refund_no.is_not(None)),
            )
            .order_by(Payment.id)
            .limit(batch)
        ).all()
    done: set[str] = set()
    for payment_id, order_id, flagged, status in pending:
        if order_id in done:
            continue
        try:
            if status == CANCELLED or (status == PAID and not flagged):
                # a late payment for a cancelled order, or an operator's refund left under way
                claim = run_in_transaction(partial(_claim_order, order_id=order_id))
                done.add(order_id)
            else:  # a second payment of an order that goes on: that payment alone
                claim = run_in_transaction(partial(_claim_single, payment_id=payment_id))
            if claim is not None:
                _carry_out(claim)
            run.refunded += 1
        except alipay.AlipayUnreachable as error:
            run.left += 1
            log.warning("refund of order %s left for the next run: %s", order_id, error.reason)
        except errors.Conflict as error:
            run.refused += 1
            log.warning("refund of order %s not done: %s", order_id, error.detail)
    if run.refunded or run.refused or run.left:
        log.info(
            "cleanup refunds: %d refunded, %d refused, %d left for the next run", run.refunded, run.refused, run.left
        )
    return run


def _claim_single(session: Session, payment_id: int) -> Claim | None:
    payment = session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    if payment is None or payment.refunded_at is not None:
        return None
    return Claim(payment.order_id, (_claim_payment(session, payment),), None)
