"""Before the cleanup job cancels an expired unpaid Alipay order, it asks Alipay what became of it.

A notification can be lost (our server down, a network fault): the buyer paid, we never heard.
So for each expired unpaid Alipay order, ``alipay.trade.query``:

- paid (``TRADE_SUCCESS``/``TRADE_FINISHED``, the order's amount): recorded exactly as the webhook
  records it (``payments.record_payment``, the order row locked), the order becomes paid;
- waiting for the buyer (``WAIT_BUYER_PAY``): ``alipay.trade.close`` first, so nobody can pay it
  any more, then the order is cancelled (stock back);
- closed, or never created (``ACQ.TRADE_NOT_EXIST``: the pay page was never opened): cancelled;
- no trustworthy answer (Alipay down or slow, a signature that doesn't verify) or any other
  answer: the order is left as it is, and the next run asks again. Never cancelled blind.

Every answer was verified with ``ALIPAY_PUBLIC_KEY`` (``clients/alipay.py``). Cancelling is the
conditional ``orders.cancel_unpaid``: a notification arriving meanwhile wins or loses cleanly (a
payment after the cancel is flagged for refund, and the job refunds it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import partial

from sqlalchemy.orm import Session

from studyhub.clients import alipay
from studyhub.core.db import run_in_transaction, session_scope
from studyhub.models.shopping import ALIPAY

from .orders import cancel_unpaid, expired_orders
from .payments import Rejected, lock_order, record_payment

log = logging.getLogger("studyhub.shopping.reconciliation")

PAY = "paid"
CANCEL = "cancel"
LEAVE = "leave"


@dataclass
class Reconciled:
    paid: int = 0  # a payment we had missed, now recorded
    cancelled: int = 0
    left: int = 0  # no answer we could act on: asked again next run


def settle_expired_alipay_order(order_id: str, run: Reconciled) -> bool:
    """Ask Alipay about one expired unpaid order and act on the answer; True if it was cancelled."""
    try:
        verdict, answer = _verdict(order_id)
    except alipay.AlipayUnreachable as error:
        run.left += 1
        log.warning("reconciliation: order %s left for the next run (%s)", order_id, error.reason)
        return False
    if verdict == PAY:
        if run_in_transaction(partial(_record_missed_payment, order_id=order_id, fields=answer.fields)):
            run.paid += 1
            log.warning(
                "reconciliation: order %s was paid (trade %s) and its notification missed: recorded",
                order_id,
                answer.fields.get("trade_no"),
            )
        else:
            run.left += 1
        return False
    if verdict == LEAVE:
        run.left += 1
        log.warning(
            "reconciliation: order %s left for the next run (Alipay: %s %s)", order_id, answer.code, answer.sub_code
        )
        return False
    if run_in_transaction(partial(cancel_unpaid, order_id=order_id)):
        run.cancelled += 1
        return True
    return False


def _verdict(order_id: str) -> tuple[str, alipay.Answer]:
    answer = alipay.trade_query(order_id)
    if not answer.ok:
        return (CANCEL if answer.sub_code == alipay.TRADE_NOT_EXIST else LEAVE), answer
    status = answer.fields.get("trade_status")
    if status in alipay.PAID_TRADE_STATUSES:
        return PAY, answer
    if status == "TRADE_CLOSED":
        return CANCEL, answer
    if status == "WAIT_BUYER_PAY":
        closed = alipay.trade_close(order_id)
        if closed.ok or closed.sub_code == alipay.TRADE_NOT_EXIST:
            return CANCEL, closed
        return LEAVE, closed  # e.g. paid a moment ago: the next query will say so
    return LEAVE, answer


def _record_missed_payment(session: Session, order_id: str, fields: dict[str, object]) -> bool:
    order = lock_order(session, order_id)
    trade_id = str(fields.get("trade_no") or "")
    try:
        amount = Decimal(str(fields.get("total_amount")))
    except InvalidOperation:
        amount = Decimal("NaN")
    if order is None or not trade_id or len(trade_id) > 100:
        return False
    if not amount.is_finite() or amount != order.total_amount:
        log.error("reconciliation: order %s paid %s at Alipay, not its amount: left for an operator", order_id, amount)
        return False
    try:
        record_payment(session, order, trade_id, amount)
    except Rejected as rejected:
        log.error("reconciliation: order %s trade %s not recorded: %s", order_id, trade_id, rejected.reason)
        return False
    return True


def cancel_expired_orders(*, now: datetime | None = None, batch: int = 500) -> int:
    """The cleanup job: cancel every order unpaid for longer than ``ORDER_PAY_TIMEOUT_SECONDS``,
    an Alipay order only after asking Alipay (``reconciliation.py``: a missed payment is recorded,
    an unanswered question leaves the order for the next run).

    Each order is settled in its own short transaction (retried on deadlock), so one busy
    commodity row never holds the whole run. Returns how many orders this run cancelled.
    """
    ask_alipay = alipay.is_configured()
    reconciled = Reconciled()
    cancelled = 0
    seen: set[str] = set()
    while True:
        with session_scope() as session:
            candidates = [c for c in expired_orders(session, now=now, limit=batch) if c[0] not in seen]
        if not candidates:
            break
        for order_id, pay_method in candidates:
            seen.add(order_id)
            if pay_method == ALIPAY and ask_alipay:
                cancelled += settle_expired_alipay_order(order_id, reconciled)
            elif run_in_transaction(partial(cancel_unpaid, order_id=order_id)):
                # no Alipay keys: no pay URL could be issued (a payment arriving later is refunded)
                cancelled += 1
    if cancelled or reconciled.paid or reconciled.left:
        log.info(
            "cleanup: %d expired unpaid orders cancelled, %d found paid at Alipay, %d left for the next run",
            cancelled,
            reconciled.paid,
            reconciled.left,
        )
    return cancelled
