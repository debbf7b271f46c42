"""Recording an Alipay payment, called directly (no HTTP), on both stacks: ``record_payment`` for
an order locked by the caller, and ``handle_notification`` for Alipay's signed notification.

A trade is recorded exactly once; a payment for an order that can't take it any more (cancelled,
or paid by another trade) is kept and the order flagged for a refund, its status unchanged.
"""

from decimal import Decimal

import pytest
from shopping_fixtures import alipay_sign, count_rows, make_address, make_cart_row, make_commodity, notification
from sqlalchemy import select

from studyhub.core.db import run_in_transaction, session_scope
from studyhub.domain.shopping.orders import cancel_unpaid, place_order
from studyhub.domain.shopping.payments import Rejected, handle_notification, record_payment
from studyhub.domain.shopping.schemas import OrderIn
from studyhub.models.shopping import ALIPAY, CANCELLED, PAID, UNPAID, Order, Payment

TRADE = "2026112422001400000000000001"


def unpaid_order(user, price: str = "39.90", number: int = 1) -> dict:
    commodity = make_commodity(price=price, stock=10)
    body = OrderIn(cart=[make_cart_row(user, commodity, number)], address=make_address(user), pay_method=ALIPAY)
    return run_in_transaction(lambda session: place_order(session, user, body))


def pay(order_id: str, trade_id: str = TRADE, amount: str = "39.90") -> int:
    """``record_payment`` as its callers run it: the order locked first, in one transaction."""

    def work(session) -> int:
        order = session.scalars(select(Order).where(Order.order_id == order_id).with_for_update()).one()
        return record_payment(session, order, trade_id, Decimal(amount)).id

    return run_in_transaction(work)


def order_state(order_id: str) -> tuple[int, bool]:
    """``(status, refund_required)`` as stored."""
    with session_scope() as session:
        order = session.get(Order, order_id)
        return order.status, order.refund_required


def payments_of(order_id: str) -> list[tuple[str, Decimal]]:
    with session_scope() as session:
        return [(p.trade_id, p.amount) for p in session.scalars(select(Payment).where(Payment.order_id == order_id))]


def notify(params: dict[str, str]) -> None:
    run_in_transaction(lambda session: handle_notification(session, params))


# --- record_payment ---------------------------------------------------------------------------


def test_a_payment_marks_the_unpaid_order_paid_with_one_payment_row(student):
    order = unpaid_order(student)
    pay(order["order_id"])
    assert order_state(order["order_id"]) == (PAID, False)
    assert payments_of(order["order_id"]) == [(TRADE, Decimal("39.90"))]


def test_the_same_trade_recorded_twice_is_one_payment(student):
    # GIVEN a paid order
    order = unpaid_order(student)
    first = pay(order["order_id"])
    # WHEN Alipay's trade is delivered again
    second = pay(order["order_id"])
    # THEN the same payment answers, nothing is added, and no refund is asked
    assert second == first
    assert count_rows(Payment) == 1
    assert order_state(order["order_id"]) == (PAID, False)


def test_a_trade_already_recorded_for_another_order_is_rejected_and_changes_nothing(student):
    paid, other = unpaid_order(student), unpaid_order(student)
    pay(paid["order_id"])
    with pytest.raises(Rejected):
        pay(other["order_id"])
    assert order_state(other["order_id"]) == (UNPAID, False)
    assert payments_of(other["order_id"]) == []
    assert count_rows(Payment) == 1


def test_a_payment_for_a_cancelled_order_is_kept_and_the_order_flagged_for_refund(student):
    # GIVEN an order cancelled before its payment arrived
    order = unpaid_order(student)
    assert run_in_transaction(lambda session: cancel_unpaid(session, order["order_id"]))
    # WHEN the payment is recorded
    pay(order["order_id"])
    # THEN the money is on record, the order stays cancelled and is flagged for a refund
    assert payments_of(order["order_id"]) == [(TRADE, Decimal("39.90"))]
    assert order_state(order["order_id"]) == (CANCELLED, True)


def test_a_second_trade_for_a_paid_order_is_kept_and_flagged_for_refund(student):
    order = unpaid_order(student)
    pay(order["order_id"], trade_id="T-first")
    pay(order["order_id"], trade_id="T-second")
    assert sorted(payments_of(order["order_id"])) == [("T-first", Decimal("39.90")), ("T-second", Decimal("39.90"))]
    assert order_state(order["order_id"]) == (PAID, True)


# --- handle_notification ----------------------------------------------------------------------


def test_a_signed_notification_delivered_twice_records_one_payment(student, alipay):
    order = unpaid_order(student)
    signed = alipay_sign(notification(order), alipay["alipay"][0])
    notify(signed)
    notify(signed)
    assert payments_of(order["order_id"]) == [(TRADE, Decimal("39.90"))]
    assert order_state(order["order_id"]) == (PAID, False)


def test_a_notification_for_a_cancelled_order_flags_it_for_refund(student, alipay):
    order = unpaid_order(student)
    run_in_transaction(lambda session: cancel_unpaid(session, order["order_id"]))
    notify(alipay_sign(notification(order), alipay["alipay"][0]))
    assert order_state(order["order_id"]) == (CANCELLED, True)
    assert len(payments_of(order["order_id"])) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda signed: {**signed, "total_amount": "0.01"}, id="amount-changed-after-signing"),
        pytest.param(lambda signed: {**signed, "sign": signed["sign"][::-1]}, id="bad-signature"),
    ],
)
def test_a_notification_not_signed_by_alipay_is_rejected_and_records_nothing(student, alipay, tamper):
    order = unpaid_order(student)
    signed = alipay_sign(notification(order), alipay["alipay"][0])
    with pytest.raises(Rejected):
        notify(tamper(signed))
    assert count_rows(Payment) == 0
    assert order_state(order["order_id"]) == (UNPAID, False)


def test_a_signed_notification_for_another_amount_is_rejected(student, alipay):
    order = unpaid_order(student)
    with pytest.raises(Rejected, match="amount"):
        notify(alipay_sign(notification(order, amount="0.01"), alipay["alipay"][0]))
    assert count_rows(Payment) == 0
    assert order_state(order["order_id"]) == (UNPAID, False)


def test_a_notification_that_the_buyer_has_not_paid_yet_records_nothing(student, alipay):
    order = unpaid_order(student)
    notify(alipay_sign(notification(order, trade_status="WAIT_BUYER_PAY"), alipay["alipay"][0]))
    assert count_rows(Payment) == 0
    assert order_state(order["order_id"]) == (UNPAID, False)
