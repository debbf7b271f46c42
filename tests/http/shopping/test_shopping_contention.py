"""Issue 15 on MariaDB: adding to the cart takes no gap lock (buyers adding the same commodity at
once never deadlock), and placing an order costs a pinned number of statements (five), the
contended stock row locked last."""

from collections import Counter
from contextlib import contextmanager

import pytest
from shopping_fixtures import (
    bearer,
    commodity_state,
    concurrently,
    count_rows,
    make_address,
    make_cart_row,
    make_commodity,
)

pytestmark = pytest.mark.mysql_only

BUYERS = 24


@contextmanager
def counting_lock_errors():
    """Every deadlock (1213) and lock wait timeout (1205) the driver reports, retried or not."""
    from sqlalchemy import event

    from studyhub.core.db import RETRYABLE_MYSQL_CODES, get_engine, mysql_error_code

    seen: list[int] = []

    def on_error(context) -> None:
        code = mysql_error_code(context.sqlalchemy_exception) if context.sqlalchemy_exception else None
        if code in RETRYABLE_MYSQL_CODES:
            seen.append(code)

    engine = get_engine()
    event.listen(engine, "handle_error", on_error)
    try:
        yield seen
    finally:
        event.remove(engine, "handle_error", on_error)


@contextmanager
def statements():
    """The SQL statements the engine sends (one round trip each)."""
    from sqlalchemy import event

    from studyhub.core.db import get_engine

    sent: list[str] = []

    def on_execute(_conn, _cursor, statement, _parameters, _context, _many) -> None:
        sent.append(" ".join(statement.split()))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def add_to_cart(token: str, commodity: int, number: int):
    return lambda http: http.post(
        "/api/shopping/cart", json={"commodity": commodity, "number": number}, headers=bearer(token)
    )


# --- the cart ---------------------------------------------------------------------------------


def test_buyers_adding_the_same_commodity_at_once_never_deadlock(client, make_user):
    from conftest import token_for

    from studyhub.models.shopping import ShoppingCart

    # GIVEN buyers created one after the other (their (user, commodity) keys share one gap of
    # the unique index) and a commodity nobody has in the cart yet
    tokens = [token_for(make_user("student")) for _ in range(BUYERS)]
    commodity = make_commodity(stock=100)
    # WHEN they all add it at once, each a different number
    with counting_lock_errors() as lock_errors:
        results = concurrently([add_to_cart(token, commodity, 1 + i % 3) for i, token in enumerate(tokens)])
    # THEN every add is 201 with its own number, and no transaction was a deadlock victim
    assert all(not isinstance(r, BaseException) for r in results), results
    assert Counter(r.status_code for r in results) == {201: BUYERS}, [r.text for r in results]
    assert sorted(r.json()["number"] for r in results) == sorted(1 + i % 3 for i in range(BUYERS))
    assert lock_errors == []
    assert count_rows(ShoppingCart) == BUYERS


def test_one_buyer_adding_the_same_commodity_from_many_tabs_gets_the_sum(client, student):
    from conftest import token_for

    token, commodity = token_for(student), make_commodity(stock=100)
    with counting_lock_errors() as lock_errors:
        results = concurrently([add_to_cart(token, commodity, 2) for _ in range(BUYERS)])
    assert all(not isinstance(r, BaseException) and r.status_code == 201 for r in results), results
    assert len({r.json()["id"] for r in results}) == 1  # one row, grown
    assert max(r.json()["number"] for r in results) == 2 * BUYERS
    assert lock_errors == []
    rows = client.as_user(student).get("/api/shopping/cart").json()["results"]
    assert [(row["commodity"], row["number"]) for row in rows] == [(commodity, 2 * BUYERS)]


def test_adding_past_the_cart_limit_is_400_and_leaves_the_row_as_it_was(client, student):
    api = client.as_user(student)
    commodity = make_commodity(stock=100)
    row = api.post("/api/shopping/cart", json={"commodity": commodity, "number": 9000}).json()
    refused = api.post("/api/shopping/cart", json={"commodity": commodity, "number": 1000})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_number"
    assert api.get(f"/api/shopping/cart/{row['id']}").json()["number"] == 9000


# --- placing an order -------------------------------------------------------------------------


def place_directly(user, cart_ids, address):
    """The rule as the binder runs it (its own transaction), the caller already loaded."""
    from studyhub.core.db import run_in_transaction
    from studyhub.domain.shopping.orders import place_order
    from studyhub.domain.shopping.schemas import OrderIn

    body = OrderIn(cart=cart_ids, address=address, pay_method=1)
    return run_in_transaction(lambda session: place_order(session, user, body))


def test_an_order_is_five_statements_and_the_stock_row_is_locked_last(student):
    from studyhub.core import errors

    book, pen = make_commodity("书", stock=5), make_commodity("笔", stock=5)
    address = make_address(student)

    one_line = [make_cart_row(student, book)]
    with statements() as sent:
        place_directly(student, one_line, address)
    # address and lines in one read, claim the cart rows, the order, the stock, the goods (then COMMIT)
    assert [s.split(" ")[0] for s in sent] == ["SELECT", "DELETE", "INSERT", "UPDATE", "INSERT"], sent
    assert sent[3].startswith("UPDATE commodities") and sent[4].startswith("INSERT INTO order_goods")

    two_lines = [make_cart_row(student, pen, 2), make_cart_row(student, book, 2)]
    with statements() as sent:
        place_directly(student, two_lines, address)
    updates = [s for s in sent if s.startswith("UPDATE commodities")]
    assert len(sent) == 6 and len(updates) == 2  # one more UPDATE per line, nothing else
    assert sent.index(updates[0]) == 3 and sent[-1].startswith("INSERT INTO order_goods")
    assert commodity_state(book) == (2, 3) and commodity_state(pen) == (3, 2)

    # short of stock as read: refused after the one read, nothing written or locked
    short = [make_cart_row(student, pen, 4)]
    with statements() as sent, pytest.raises(errors.Invalid) as refused:
        place_directly(student, short, address)
    assert refused.value.code == "insufficient_stock"
    assert [s.split(" ")[0] for s in sent] == ["SELECT"], sent
    assert commodity_state(pen) == (3, 2)


def test_a_request_placing_an_order_adds_five_statements_to_the_callers_lookup(client, student):
    """Through the front door: the rule's five statements beside what every authenticated call
    costs (all an empty cart's refusal issues: nothing once the process has read its caller)."""
    api = client.as_user(student)
    address = make_address(student)
    api.post("/api/shopping/orders", json={"cart": [], "address": address, "pay_method": 1})  # the caller, read once
    with statements() as baseline:
        empty = api.post("/api/shopping/orders", json={"cart": [], "address": address, "pay_method": 1})
    assert empty.status_code == 400 and empty.json()["code"] == "empty_cart"
    row = make_cart_row(student, make_commodity(stock=5))
    with statements() as sent:
        response = api.post("/api/shopping/orders", json={"cart": [row], "address": address, "pay_method": 1})
    assert response.status_code == 201, response.text
    assert len(sent) == len(baseline) + 5, sent
