"""The order rules called directly (no HTTP), on both stacks: placing an order from cart rows,
cancelling an unpaid one, and the cleanup job that expires them.

Each rule runs as the binder runs it: in its own transaction (``run_in_transaction``), which rolls
back whole when the rule raises. Rows are arranged and read back in separate transactions.
"""

from decimal import Decimal

import pytest
from shopping_fixtures import backdate_order, commodity_state, count_rows, make_address, make_cart_row, make_commodity

from studyhub.core import errors
from studyhub.core.config import get_settings
from studyhub.core.db import run_in_transaction, session_scope
from studyhub.domain.shopping.orders import cancel_unpaid, place_order
from studyhub.domain.shopping.reconciliation import cancel_expired_orders
from studyhub.domain.shopping.schemas import OrderIn
from studyhub.models.shopping import (
    ALIPAY,
    CANCELLED,
    CASH_ON_DELIVERY,
    PAID,
    UNPAID,
    Commodity,
    Order,
    OrderGoods,
    ShoppingCart,
)


def place(user, cart_ids: list[int], address_id: int, pay_method: int = ALIPAY) -> dict:
    body = OrderIn(cart=cart_ids, address=address_id, pay_method=pay_method)
    return run_in_transaction(lambda session: place_order(session, user, body))


def cancel(order_id: str) -> bool:
    return run_in_transaction(lambda session: cancel_unpaid(session, order_id))


def cart_ids_of(user) -> list[int]:
    from sqlalchemy import select

    with session_scope() as session:
        return list(session.scalars(select(ShoppingCart.id).where(ShoppingCart.user_id == user.id)))


def goods_of(order_id: str) -> list[tuple[int, str, int, Decimal]]:
    from sqlalchemy import select

    with session_scope() as session:
        lines = session.scalars(select(OrderGoods).where(OrderGoods.order_id == order_id).order_by(OrderGoods.id))
        return [(g.commodity_id, g.commodity_name, g.number, g.price) for g in lines]


def status_of(order_id: str) -> int:
    with session_scope() as session:
        return session.get(Order, order_id).status


# --- placing ----------------------------------------------------------------------------------


def test_placing_an_order_takes_each_lines_stock_and_counts_it_as_sales(student):
    # GIVEN two commodities in the student's cart
    book = make_commodity("Python 编程", price="39.90", stock=10)
    pen = make_commodity("钢笔", price="5.00", stock=3)
    carts = [make_cart_row(student, book, 2), make_cart_row(student, pen, 3)]
    # WHEN the student orders them
    order = place(student, carts, make_address(student))
    # THEN the stock of each is taken and counted as sales, and the totals add up
    assert commodity_state(book) == (8, 2)
    assert commodity_state(pen) == (0, 3)
    assert order["total_count"] == 5
    assert order["total_amount"] == "94.80"
    assert order["status"] == UNPAID


def test_cash_on_delivery_is_paid_at_once_and_alipay_waits_for_the_payment(student):
    book = make_commodity(stock=10)
    address = make_address(student)
    by_alipay = place(student, [make_cart_row(student, book)], address, ALIPAY)
    on_delivery = place(student, [make_cart_row(student, book)], address, CASH_ON_DELIVERY)
    assert status_of(by_alipay["order_id"]) == UNPAID
    assert status_of(on_delivery["order_id"]) == PAID


def test_an_order_keeps_the_name_price_and_address_it_was_placed_with(student):
    # GIVEN an order for a commodity at 39.90
    book = make_commodity("Python 编程", price="39.90", stock=10)
    order = place(student, [make_cart_row(student, book, 2)], make_address(student, receiver="张三"))
    # WHEN the shop renames and reprices it afterwards
    with session_scope() as session:
        commodity = session.get(Commodity, book)
        commodity.name, commodity.price = "Python 编程（第二版）", Decimal("99.00")
    # THEN the order's goods keep the snapshot, and so does its address text
    assert goods_of(order["order_id"]) == [(book, "Python 编程", 2, Decimal("39.90"))]
    assert order["goods"][0]["price"] == "39.90"
    assert "[张三 收]" in order["address"] and "天河路 1 号" in order["address"]


def test_placing_an_order_deletes_exactly_the_cart_rows_it_used(student):
    book, pen = make_commodity(stock=10), make_commodity("钢笔", stock=10)
    ordered, kept = make_cart_row(student, book), make_cart_row(student, pen)
    place(student, [ordered], make_address(student))
    assert cart_ids_of(student) == [kept]


def test_a_line_short_of_stock_refuses_the_whole_order_and_changes_nothing(student):
    # GIVEN a cart whose first line is in stock and whose last line (the higher commodity id,
    # so the first line's stock was already taken when it fails) is not
    book = make_commodity("Python 编程", stock=10)
    pen = make_commodity("钢笔", stock=1)
    carts = [make_cart_row(student, book, 2), make_cart_row(student, pen, 2)]
    # WHEN the student orders it
    with pytest.raises(errors.Invalid) as refused:
        place(student, carts, make_address(student))
    # THEN it is refused naming the commodity short of stock, and no row changed
    assert refused.value.code == "insufficient_stock"
    assert refused.value.errors == {"cart": ["「钢笔」库存不足。"]}
    assert commodity_state(book) == (10, 0)
    assert commodity_state(pen) == (1, 0)
    assert sorted(cart_ids_of(student)) == sorted(carts)
    assert count_rows(Order) == 0 and count_rows(OrderGoods) == 0


def test_another_users_cart_row_is_refused_and_stays_in_their_cart(student, make_user):
    other = make_user("student")
    book = make_commodity(stock=10)
    theirs = make_cart_row(other, book, 4)
    with pytest.raises(errors.Invalid) as refused:
        place(student, [theirs], make_address(student))
    assert refused.value.code == "invalid_cart"
    assert cart_ids_of(other) == [theirs]
    assert commodity_state(book) == (10, 0)
    assert count_rows(Order) == 0


def test_another_users_address_is_refused(student, make_user):
    book = make_commodity(stock=10)
    mine = make_cart_row(student, book)
    with pytest.raises(errors.Invalid) as refused:
        place(student, [mine], make_address(make_user("student")))
    assert refused.value.code == "invalid_address"
    assert cart_ids_of(student) == [mine]
    assert commodity_state(book) == (10, 0)
    assert count_rows(Order) == 0


# --- cancelling and expiring ------------------------------------------------------------------


def test_an_unpaid_order_is_cancelled_exactly_once_and_its_stock_given_back_once(student):
    # GIVEN an unpaid order for 3 of 10
    book = make_commodity(stock=10)
    order = place(student, [make_cart_row(student, book, 3)], make_address(student))
    # WHEN it is cancelled twice
    first, second = cancel(order["order_id"]), cancel(order["order_id"])
    # THEN only the first cancel did it, and the 3 came back once
    assert (first, second) == (True, False)
    assert status_of(order["order_id"]) == CANCELLED
    assert commodity_state(book) == (10, 0)


def test_a_paid_order_is_not_cancelled_and_keeps_its_stock_taken(student):
    book = make_commodity(stock=10)
    order = place(student, [make_cart_row(student, book, 3)], make_address(student), CASH_ON_DELIVERY)
    assert cancel(order["order_id"]) is False
    assert status_of(order["order_id"]) == PAID
    assert commodity_state(book) == (7, 3)


def test_cleanup_cancels_only_orders_unpaid_past_the_timeout_and_gives_their_stock_back_once(student):
    # GIVEN an unpaid order older than the pay timeout, a recent unpaid one and an old paid one
    book = make_commodity(stock=10)
    address = make_address(student)
    expired = place(student, [make_cart_row(student, book, 2)], address)
    recent = place(student, [make_cart_row(student, book, 1)], address)
    paid = place(student, [make_cart_row(student, book, 4)], address, CASH_ON_DELIVERY)
    timeout = get_settings().order_pay_timeout_seconds
    backdate_order(expired["order_id"], timeout + 60)
    backdate_order(paid["order_id"], timeout + 60)
    # WHEN the cleanup job runs twice
    first_run, second_run = cancel_expired_orders(), cancel_expired_orders()
    # THEN the expired order alone was cancelled, by the first run, and its 2 came back once
    assert (first_run, second_run) == (1, 0)
    assert status_of(expired["order_id"]) == CANCELLED
    assert status_of(recent["order_id"]) == UNPAID
    assert status_of(paid["order_id"]) == PAID
    assert commodity_state(book) == (10 - 1 - 4, 1 + 4)


def test_cleanup_skips_an_order_the_user_cancelled_already(student):
    book = make_commodity(stock=10)
    order = place(student, [make_cart_row(student, book, 2)], make_address(student))
    assert cancel(order["order_id"])
    backdate_order(order["order_id"], get_settings().order_pay_timeout_seconds + 60)
    assert cancel_expired_orders() == 0
    assert commodity_state(book) == (10, 0)
