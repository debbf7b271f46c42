"""API.md §6: placing, reading and cancelling orders; unpaid orders expire (cleanup job, CLI)."""

import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shopping_fixtures import (
    backdate_order,
    bearer,
    buy,
    commodity_state,
    concurrently,
    count_rows,
    make_address,
    make_commodity,
    order_row,
    place_order,
)

ORDER_KEYS = {
    "order_id",
    "user",
    "address",
    "total_count",
    "total_amount",
    "pay_method",
    "status",
    "goods",
    "create_time",
    "update_time",
}


def test_placing_an_order_takes_stock_snapshots_prices_and_empties_those_cart_rows(client, student):
    from studyhub.models.shopping import ShoppingCart

    book, pens, kept = make_commodity("算法导论", "128.50", 5), make_commodity("中性笔", "2.30", 100), make_commodity()
    api = client.as_user(student)
    row1 = api.post("/api/shopping/cart", json={"commodity": book, "number": 2}).json()["id"]
    row2 = api.post("/api/shopping/cart", json={"commodity": pens, "number": 10}).json()["id"]
    api.post("/api/shopping/cart", json={"commodity": kept, "number": 1})
    address = make_address(student, place="天河路 1 号", receiver="张三", mobile="13800138000")
    before = datetime.now(ZoneInfo("Asia/Shanghai"))

    response = place_order(api, [row2, row1], address, pay_method=1)

    assert response.status_code == 201, response.text
    order = response.json()
    assert set(order) == ORDER_KEYS
    assert order["user"] == student.id and order["status"] == 1 and order["pay_method"] == 1
    assert order["total_count"] == 12 and order["total_amount"] == "280.00"
    assert order["address"] == "广东省 广州市 天河区 天河路 1 号 [张三 收] 13800138000"
    assert sorted(order["goods"], key=lambda g: g["commodity"]) == [
        {"commodity": book, "commodity_name": "算法导论", "number": 2, "price": "128.50"},
        {"commodity": pens, "commodity_name": "中性笔", "number": 10, "price": "2.30"},
    ]
    assert re.fullmatch(r"\d{20,32}", order["order_id"])
    stamp = datetime.strptime(order["order_id"][:14], "%Y%m%d%H%M%S").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    assert before - timedelta(seconds=1) <= stamp <= datetime.now(ZoneInfo("Asia/Shanghai"))
    assert commodity_state(book) == (3, 2) and commodity_state(pens) == (90, 10)
    cart = api.get("/api/shopping/cart").json()
    assert [r["commodity"] for r in cart["results"]] == [kept]
    assert count_rows(ShoppingCart) == 1
    # the price is a snapshot: a later change doesn't touch the order
    from sqlalchemy import update

    from studyhub.core.db import session_scope
    from studyhub.models.shopping import Commodity

    with session_scope() as session:
        session.execute(update(Commodity).where(Commodity.id == book).values(price=1))
    again = api.get(f"/api/shopping/orders/{order['order_id']}").json()
    assert again["total_amount"] == "280.00" and {g["price"] for g in again["goods"]} == {"128.50", "2.30"}


def test_cash_on_delivery_orders_start_paid_and_waiting_to_ship(client, student):
    order = buy(client.as_user(student), student, make_commodity(), pay_method=2)
    assert order["status"] == 2 and order["pay_method"] == 2


def test_order_body_is_validated(client, student):
    from studyhub.models.shopping import Order

    api = client.as_user(student)
    row = api.post("/api/shopping/cart", json={"commodity": make_commodity()}).json()["id"]
    address = make_address(student)
    for body, field in [
        ({"cart": [row], "address": address, "pay_method": 3}, "pay_method"),
        ({"cart": [row], "pay_method": 1}, "address"),
        ({"cart": "x", "address": address, "pay_method": 1}, "cart"),
    ]:
        response = api.post("/api/shopping/orders", json=body)
        assert response.status_code == 400 and field in response.json()["errors"], response.text
    assert (
        client.post("/api/shopping/orders", json={"cart": [row], "address": address, "pay_method": 1}).status_code
        == 401
    )
    assert count_rows(Order) == 0


def test_empty_cart_or_another_users_cart_row_or_address_is_400_and_changes_nothing(client, student, make_user):
    from studyhub.models.shopping import Order

    other = make_user("student")
    cid = make_commodity(stock=10)
    api, other_api = client.as_user(student), client.as_user(other)
    mine = api.post("/api/shopping/cart", json={"commodity": cid, "number": 2}).json()["id"]
    theirs = other_api.post("/api/shopping/cart", json={"commodity": cid, "number": 3}).json()["id"]
    my_address, their_address = make_address(student), make_address(other)

    empty = place_order(api, [], my_address)
    assert empty.status_code == 400 and empty.json()["code"] == "empty_cart"
    foreign_row = place_order(api, [mine, theirs], my_address)
    assert foreign_row.status_code == 400 and foreign_row.json()["code"] == "invalid_cart"
    foreign_address = place_order(api, [mine], their_address)
    assert foreign_address.status_code == 400 and foreign_address.json()["code"] == "invalid_address"
    missing = place_order(api, [mine, 999999], my_address)
    assert missing.status_code == 400

    assert count_rows(Order) == 0 and commodity_state(cid) == (10, 0)
    assert api.get("/api/shopping/cart").json()["count"] == 1
    assert other_api.get("/api/shopping/cart").json()["count"] == 1


def test_one_line_short_of_stock_refuses_the_whole_order_and_changes_nothing(client, student):
    from studyhub.models.shopping import Order, OrderGoods

    plenty, scarce = make_commodity("草稿纸", stock=50), make_commodity("限量版", stock=1)
    api = client.as_user(student)
    rows = [
        api.post("/api/shopping/cart", json={"commodity": plenty, "number": 5}).json()["id"],
        api.post("/api/shopping/cart", json={"commodity": scarce, "number": 2}).json()["id"],
    ]

    response = place_order(api, rows, make_address(student))

    assert response.status_code == 400
    assert response.json()["code"] == "insufficient_stock" and response.json()["detail"] == "商品库存不足"
    assert commodity_state(plenty) == (50, 0) and commodity_state(scarce) == (1, 0)
    assert count_rows(Order) == 0 and count_rows(OrderGoods) == 0
    assert api.get("/api/shopping/cart").json()["count"] == 2


def test_a_deleted_commodity_cannot_be_ordered(client, student, superuser):
    cid = make_commodity(stock=5)
    api = client.as_user(student)
    row = api.post("/api/shopping/cart", json={"commodity": cid}).json()["id"]
    client.as_user(superuser).delete(f"/api/shopping/commodities/{cid}")
    response = place_order(api, [row], make_address(student))
    assert response.status_code == 400 and response.json()["code"] == "invalid_cart"  # its row left the cart
    assert commodity_state(cid) == (5, 0)


def test_submitting_the_same_cart_twice_at_once_places_one_order(client, student):
    from conftest import token_for

    cid = make_commodity(stock=10)
    row = client.as_user(student).post("/api/shopping/cart", json={"commodity": cid, "number": 2}).json()["id"]
    address, token = make_address(student), token_for(student)
    results = concurrently(
        [
            lambda http: http.post(
                "/api/shopping/orders", json={"cart": [row], "address": address, "pay_method": 1}, headers=bearer(token)
            )
            for _ in range(4)
        ]
    )
    assert sorted(r.status_code for r in results) == [201, 400, 400, 400], [r.text for r in results]
    assert commodity_state(cid) == (8, 2)


def test_orders_are_private_to_their_owner(client, student, make_user):
    other = make_user("student")
    mine = buy(client.as_user(student), student, make_commodity())
    theirs = buy(client.as_user(other), other, make_commodity())
    listing = client.as_user(student).get("/api/shopping/orders").json()
    assert listing["count"] == 1 and listing["results"][0]["order_id"] == mine["order_id"]
    assert set(listing["results"][0]) == ORDER_KEYS and len(listing["results"][0]["goods"]) == 1
    assert client.as_user(student).get(f"/api/shopping/orders/{theirs['order_id']}").status_code == 404
    assert client.as_user(student).get(f"/api/shopping/orders/{mine['order_id']}/").json() == mine
    assert client.get("/api/shopping/orders").status_code == 401


def test_orders_list_newest_first_paginated(client, student):
    api = client.as_user(student)
    cid = make_commodity(stock=100)
    ids = [buy(api, student, cid)["order_id"] for _ in range(3)]
    page = api.get("/api/shopping/orders?size=2").json()
    assert page["count"] == 3 and [o["order_id"] for o in page["results"]] == ids[::-1][:2]
    assert page["next"] == "/api/shopping/orders?size=2&page=2"


# --- cancel -------------------------------------------------------------------------------------


def test_owner_cancels_an_unpaid_order_and_the_stock_comes_back_once(client, student):
    cid = make_commodity(stock=10)
    api = client.as_user(student)
    order = buy(api, student, cid, number=3)
    assert commodity_state(cid) == (7, 3)
    response = api.post(f"/api/shopping/orders/{order['order_id']}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == 6
    assert commodity_state(cid) == (10, 0)
    again = api.post(f"/api/shopping/orders/{order['order_id']}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "order_not_cancellable"
    assert commodity_state(cid) == (10, 0)


def test_paid_orders_and_other_users_orders_cannot_be_cancelled(client, student, make_user):
    cid = make_commodity(stock=10)
    api = client.as_user(student)
    cod = buy(api, student, cid, pay_method=2)
    assert api.post(f"/api/shopping/orders/{cod['order_id']}/cancel").status_code == 409
    other = make_user("student")
    unpaid = buy(client.as_user(other), other, cid)
    assert api.post(f"/api/shopping/orders/{unpaid['order_id']}/cancel").status_code == 404
    assert client.post(f"/api/shopping/orders/{unpaid['order_id']}/cancel").status_code == 401
    assert commodity_state(cid) == (8, 2)


def test_concurrent_cancels_give_the_stock_back_once(client, student):
    from conftest import token_for

    cid = make_commodity(stock=10)
    order = buy(client.as_user(student), student, cid, number=4)
    token = token_for(student)
    results = concurrently(
        [
            lambda http: http.post(f"/api/shopping/orders/{order['order_id']}/cancel", headers=bearer(token))
            for _ in range(6)
        ]
    )
    assert sorted(r.status_code for r in results) == [200] + [409] * 5
    assert commodity_state(cid) == (10, 0)


# --- expiry: the cleanup job ----------------------------------------------------------------------


def test_cleanup_cancels_unpaid_orders_past_the_timeout_and_gives_stock_back_once(client, student):
    from studyhub.domain.shopping.reconciliation import cancel_expired_orders

    cid = make_commodity(stock=10)
    api = client.as_user(student)
    expired = buy(api, student, cid, number=2)
    fresh = buy(api, student, cid, number=1)
    paid = buy(api, student, cid, number=3, pay_method=2)
    backdate_order(expired["order_id"], 1801)
    backdate_order(paid["order_id"], 7200)
    backdate_order(fresh["order_id"], 1700)
    assert commodity_state(cid) == (4, 6)

    assert cancel_expired_orders() == 1

    assert api.get(f"/api/shopping/orders/{expired['order_id']}").json()["status"] == 6
    assert api.get(f"/api/shopping/orders/{fresh['order_id']}").json()["status"] == 1
    assert api.get(f"/api/shopping/orders/{paid['order_id']}").json()["status"] == 2
    assert commodity_state(cid) == (6, 4)
    assert cancel_expired_orders() == 0
    assert commodity_state(cid) == (6, 4)


def test_the_timeout_comes_from_order_pay_timeout_seconds(client, student, monkeypatch):
    from studyhub.core import config
    from studyhub.domain.shopping.reconciliation import cancel_expired_orders

    cid = make_commodity(stock=10)
    order = buy(client.as_user(student), student, cid)
    backdate_order(order["order_id"], 90)
    assert cancel_expired_orders() == 0
    monkeypatch.setenv("ORDER_PAY_TIMEOUT_SECONDS", "60")
    config.reset()
    try:
        assert cancel_expired_orders() == 1
    finally:
        monkeypatch.delenv("ORDER_PAY_TIMEOUT_SECONDS")
        config.reset()
    assert commodity_state(cid) == (10, 0)


def test_two_cleanup_runs_racing_give_the_stock_back_exactly_once(client, student):
    from studyhub.domain.shopping.reconciliation import cancel_expired_orders

    cid = make_commodity(stock=100)
    api = client.as_user(student)
    orders = [buy(api, student, cid, number=n) for n in (1, 2, 3, 4, 5, 6)]
    for order in orders:
        backdate_order(order["order_id"], 3600)
    assert commodity_state(cid) == (79, 21)

    barrier = threading.Barrier(2)
    counts: list = []

    def run():
        barrier.wait()
        counts.append(cancel_expired_orders())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(counts) == 6, counts
    assert commodity_state(cid) == (100, 0)
    assert {order_row(o["order_id"]).status for o in orders} == {6}


def test_studyhub_cleanup_command_runs_the_job_once(client, student):
    from click.testing import CliRunner

    from studyhub.ops.cli import main

    cid = make_commodity(stock=10)
    order = buy(client.as_user(student), student, cid, number=2)
    backdate_order(order["order_id"], 1900)
    result = CliRunner().invoke(main, ["cleanup"])
    assert result.exit_code == 0, result.output
    assert "cancelled 1 " in result.output
    assert commodity_state(cid) == (10, 0)
    assert "cancelled 0 " in CliRunner().invoke(main, ["cleanup"]).output


def test_cleanup_is_a_scheduled_job_in_routes_yaml():
    from studyhub.core.routing import load_routing

    scheduled = {job.task: job for job in load_routing().jobs}
    assert scheduled["studyhub.shopping.cleanup"].seconds <= 600
    import jobs.tasks.shopping as tasks

    assert tasks.cleanup.name == "studyhub.shopping.cleanup"


def test_the_cleanup_task_runs_on_a_real_celery_worker(client, student, job_worker):
    import time

    from studyhub.clients import queue as jobs

    cid = make_commodity(stock=10)
    order = buy(client.as_user(student), student, cid, number=4)
    backdate_order(order["order_id"], 1801)

    jobs.send("studyhub.shopping.cleanup")

    deadline = time.monotonic() + 20
    while order_row(order["order_id"]).status != 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert order_row(order["order_id"]).status == 6
    assert commodity_state(cid) == (10, 0)


def test_deadlock_retries_used_up_answer_503_and_change_nothing(client, student, monkeypatch):
    """When every attempt of the order transaction dies as a deadlock victim (MySQL 1213), the
    client gets the contract's 503, not a 500, and nothing was written."""
    import pymysql
    from sqlalchemy.exc import OperationalError

    from studyhub.models.shopping import Order

    cid = make_commodity(stock=5)
    api = client.as_user(student)
    row = api.post("/api/shopping/cart", json={"commodity": cid}).json()["id"]
    address = make_address(student)
    from studyhub.core import db

    real = db.run_in_transaction
    attempts = []

    def always_deadlocked(work, **kwargs):
        def victim(session):
            attempts.append(1)
            work(session)  # the real work runs, then the "deadlock" rolls it back
            raise OperationalError(
                "UPDATE commodities ...",
                {},
                pymysql.err.OperationalError(
                    1213, "Deadlock found when trying to get lock; try restarting transaction"
                ),
            )

        return real(victim, **kwargs)

    monkeypatch.setattr(db, "run_in_transaction", always_deadlocked)
    response = place_order(api, [row], address)

    assert response.status_code == 503, response.text
    assert response.json()["code"] == "service_unavailable"
    assert len(attempts) == 5  # the whole transaction was retried
    assert commodity_state(cid) == (5, 0) and count_rows(Order) == 0
    assert api.get("/api/shopping/cart").json()["count"] == 1


def test_an_order_id_collision_is_retried_under_a_new_id(client, student, monkeypatch):

    api = client.as_user(student)
    cid = make_commodity(stock=10)
    first = buy(api, student, cid)
    from studyhub.domain.shopping import orders as rules

    fresh = first["order_id"][:-1] + ("0" if first["order_id"][-1] != "0" else "1")
    ids = iter([first["order_id"], fresh])
    monkeypatch.setattr(rules, "new_order_id", lambda user_id: next(ids))

    second = buy(api, student, cid)

    assert second["order_id"] == fresh
    assert commodity_state(cid) == (8, 2)
    assert api.get("/api/shopping/orders").json()["count"] == 2
