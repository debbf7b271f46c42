"""API.md §6: an operator refunds a paid Alipay order in full through ``alipay.trade.refund``, against
a fake Alipay gateway on loopback that checks our signature and signs its answers: status 7, stock
back, exactly once (retried or raced); refused → 409, unreachable or untrusted → 503; payments:
detail, the operators' list and its ``refund_required`` filter."""

from decimal import Decimal
from urllib.parse import urlencode

from alipay_gateway import FakeAlipay
from shopping_fixtures import (
    FORM,
    alipay_sign,
    bearer,
    buy,
    commodity_state,
    concurrently,
    make_commodity,
    notification,
    order_row,
    post_notify,
)


def paid_order(client, student, gateway: FakeAlipay, keys, *, stock=10, number=2, trade_no=None) -> dict:
    """An Alipay order paid at the fake Alipay and notified to us: status 2."""
    cid = make_commodity(stock=stock)
    order = buy(client.as_user(student), student, cid, number=number)
    trade = gateway.pay(order, trade_no)
    response = post_notify(client, alipay_sign(notification(order, trade_no=trade.trade_no), keys["alipay"][0]))
    assert response.text == "success"
    order["commodity"] = cid
    order["trade_no"] = trade.trade_no
    return order


def refund(api, order):
    return api.post(f"/api/shopping/orders/{order['order_id']}/refund")


def payment_rows():
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.models.shopping import Payment

    with session_scope() as session:
        return list(session.scalars(select(Payment).order_by(Payment.id)))


def test_a_paid_order_is_refunded_in_full_once_and_its_stock_comes_back(
    client, student, superuser, alipay, alipay_gateway
):
    order = paid_order(client, student, alipay_gateway, alipay, stock=10, number=2)
    assert commodity_state(order["commodity"]) == (8, 2)

    response = refund(client.as_user(superuser), order)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == 7
    assert commodity_state(order["commodity"]) == (10, 0)
    ((method, biz),) = [c for c in alipay_gateway.calls if c[0] == "alipay.trade.refund"]
    assert biz["refund_amount"] == order["total_amount"] and biz["trade_no"] == order["trade_no"]
    assert biz["out_request_no"].startswith(order["order_id"])
    assert alipay_gateway.money_refunded() == Decimal(order["total_amount"])
    (payment,) = payment_rows()
    assert payment.refund_no == biz["out_request_no"] and payment.refunded_at is not None

    again = refund(client.as_user(superuser), order)
    assert again.status_code == 200 and again.json()["status"] == 7
    assert alipay_gateway.methods().count("alipay.trade.refund") == 1  # nothing asked twice
    assert commodity_state(order["commodity"]) == (10, 0)
    assert client.as_user(student).get(f"/api/shopping/orders/{order['order_id']}").json()["status"] == 7


def test_two_refunds_at_once_refund_once(client, student, superuser, alipay, alipay_gateway):
    order = paid_order(client, student, alipay_gateway, alipay, stock=10, number=3)
    headers = bearer(__import__("conftest").token_for(superuser))
    url = f"/api/shopping/orders/{order['order_id']}/refund"

    results = concurrently([lambda http: http.post(url, headers=headers) for _ in range(4)])

    assert [r.status_code for r in results] == [200] * 4, [r.text for r in results]
    assert {r.json()["status"] for r in results} == {7}
    assert len(alipay_gateway.refunds) == 1  # one out_request_no: Alipay moved the money once
    assert alipay_gateway.money_refunded() == Decimal(order["total_amount"])
    assert commodity_state(order["commodity"]) == (10, 0)  # stock back once, not four times


def test_only_a_paid_alipay_order_is_refundable(client, student, superuser, alipay, alipay_gateway):
    root = client.as_user(superuser)
    unpaid = buy(client.as_user(student), student, make_commodity())
    cash = buy(client.as_user(student), student, make_commodity(), pay_method=2)
    for order in (unpaid, cash):
        response = refund(root, order)
        assert response.status_code == 409 and response.json()["code"] == "order_not_refundable"
    shipped = paid_order(client, student, alipay_gateway, alipay)
    assert root.post(f"/api/shopping/orders/{shipped['order_id']}/ship").status_code == 200
    assert refund(root, shipped).status_code == 409
    assert refund(client.as_user(student), shipped).status_code == 403
    assert refund(root, {"order_id": "9" * 26}).status_code == 404
    assert "alipay.trade.refund" not in alipay_gateway.methods()


def test_alipay_refusing_is_409_refund_failed_and_the_order_is_unchanged(
    client, student, superuser, alipay, alipay_gateway
):
    order = paid_order(client, student, alipay_gateway, alipay, stock=5, number=1)
    alipay_gateway.refuse_refunds = "ACQ.TRADE_STATUS_ERROR"

    response = refund(client.as_user(superuser), order)

    assert response.status_code == 409 and response.json()["code"] == "refund_failed", response.text
    assert order_row(order["order_id"]).status == 2 and commodity_state(order["commodity"]) == (4, 1)
    (payment,) = payment_rows()
    assert payment.refund_no is None and payment.refunded_at is None
    # nothing under way: it can still be shipped, or refunded once Alipay agrees
    alipay_gateway.refuse_refunds = None
    assert refund(client.as_user(superuser), order).json()["status"] == 7


def test_alipay_unreachable_is_503_and_the_refund_is_finished_later(
    client, student, superuser, alipay, alipay_gateway, short_backend_timeout
):
    from studyhub.domain.shopping.cleanup import run_cleanup

    order = paid_order(client, student, alipay_gateway, alipay, stock=5, number=1)
    alipay_gateway.delay = short_backend_timeout + 1

    response = refund(client.as_user(superuser), order)

    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"
    assert order_row(order["order_id"]).status == 2
    # the refund may have happened at Alipay: it stays under way, so the order can't be shipped
    assert client.as_user(superuser).post(f"/api/shopping/orders/{order['order_id']}/ship").status_code == 409
    alipay_gateway.delay = 0
    assert run_cleanup()["refunded"] == 1  # the job asks again with the same out_request_no
    assert order_row(order["order_id"]).status == 7 and commodity_state(order["commodity"]) == (5, 0)
    assert len(alipay_gateway.refunds) == 1


def test_a_badly_signed_answer_is_not_trusted(client, student, superuser, alipay, alipay_gateway):
    order = paid_order(client, student, alipay_gateway, alipay)
    alipay_gateway.bad_signature = True
    response = refund(client.as_user(superuser), order)
    assert response.status_code == 503, response.text
    assert order_row(order["order_id"]).status == 2
    alipay_gateway.bad_signature, alipay_gateway.unsigned_error = False, True
    assert refund(client.as_user(superuser), order).status_code == 503
    assert order_row(order["order_id"]).status == 2


def test_refund_without_alipay_configured_is_503(client, student, superuser):
    order = buy(client.as_user(student), student, make_commodity(), pay_method=2)
    response = refund(client.as_user(superuser), order)
    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"


# --- a late payment for a cancelled order -------------------------------------------------------------


def late_payment(client, student, gateway, keys) -> dict:
    """The buyer cancels, then Alipay's notification arrives: the payment is flagged for refund."""
    cid = make_commodity(stock=10)
    order = buy(client.as_user(student), student, cid, number=2)
    assert client.as_user(student).post(f"/api/shopping/orders/{order['order_id']}/cancel").status_code == 200
    trade = gateway.pay(order)
    body = urlencode(alipay_sign(notification(order, trade_no=trade.trade_no), keys["alipay"][0]))
    assert client.post("/api/shopping/payments/notify", content=body.encode(), headers=FORM).text == "success"
    order["commodity"] = cid
    return order


def test_a_late_payment_is_flagged_then_refunded_once_by_an_operator(
    client, student, superuser, alipay, alipay_gateway
):
    from studyhub.domain.shopping.cleanup import run_cleanup

    order = late_payment(client, student, alipay_gateway, alipay)
    root = client.as_user(superuser)
    flagged = root.get("/api/shopping/payments?refund_required=true").json()
    assert [p["order"] for p in flagged["results"]] == [order["order_id"]]

    response = refund(root, order)

    assert response.status_code == 200 and response.json()["status"] == 7
    assert commodity_state(order["commodity"]) == (10, 0)  # given back at the cancel, not again
    assert root.get("/api/shopping/payments?refund_required=true").json()["count"] == 0
    assert root.get("/api/shopping/payments?refund_required=false").json()["count"] == 1
    (payment,) = payment_rows()
    assert payment.refund_required is False and payment.refunded_at is not None
    assert order_row(order["order_id"]).refund_required is False
    run_cleanup()  # the job finds nothing left to refund
    assert len(alipay_gateway.refunds) == 1 and alipay_gateway.methods().count("alipay.trade.refund") == 1


def test_a_late_payment_is_refunded_once_by_the_job_even_raced_by_an_operator(
    client, student, superuser, alipay, alipay_gateway
):
    from conftest import token_for

    from studyhub.domain.shopping.refunds import refund_pending

    order = late_payment(client, student, alipay_gateway, alipay)
    headers = bearer(token_for(superuser))
    url = f"/api/shopping/orders/{order['order_id']}/refund"

    results = concurrently([lambda http: refund_pending(), lambda http: http.post(url, headers=headers)])

    assert results[1].status_code == 200, results[1].text
    assert order_row(order["order_id"]).status == 7
    assert len(alipay_gateway.refunds) == 1
    assert alipay_gateway.money_refunded() == Decimal(order["total_amount"])
    assert commodity_state(order["commodity"]) == (10, 0)


def test_a_second_payment_of_a_paid_order_is_refunded_alone_by_the_job(client, student, alipay, alipay_gateway):
    """Paid twice (two trades): the second payment is flagged; the job gives that one back and the
    order goes on (still paid, its stock sold)."""
    from studyhub.domain.shopping.cleanup import run_cleanup

    order = paid_order(client, student, alipay_gateway, alipay, stock=10, number=1, trade_no="2026T1")
    alipay_gateway.pay(order, "2026T2")
    assert (
        post_notify(client, alipay_sign(notification(order, trade_no="2026T2"), alipay["alipay"][0])).text == "success"
    )

    assert run_cleanup()["refunded"] == 1

    assert order_row(order["order_id"]).status == 2 and commodity_state(order["commodity"]) == (9, 1)
    ((_, amount),) = alipay_gateway.refunds.values()
    assert amount == Decimal(order["total_amount"])
    assert [r[0] for r in alipay_gateway.refunds.values()] == ["2026T2"]
    assert run_cleanup()["refunded"] == 0


# --- payments: detail and the operators' list ------------------------------------------------------------


def test_a_payment_is_visible_to_its_owner_and_superusers_only(
    client, student, superuser, make_user, alipay, alipay_gateway
):
    order = paid_order(client, student, alipay_gateway, alipay)
    (mine,) = client.as_user(student).get("/api/shopping/payments").json()["results"]
    url = f"/api/shopping/payments/{mine['id']}"

    own = client.as_user(student).get(url)
    assert own.status_code == 200
    assert own.json() == mine
    assert own.json()["order"] == order["order_id"] and set(own.json()) == {"id", "order", "trade_id", "create_time"}
    assert client.as_user(superuser).get(url).json() == mine
    assert client.as_user(make_user("student")).get(url).status_code == 404
    assert client.get(url).status_code == 401
    assert client.as_user(student).get("/api/shopping/payments/999999").status_code == 404
    assert client.as_user(student).get("/api/shopping/payments/abc").status_code == 404


def test_superusers_list_every_payment_owners_their_own(client, student, superuser, make_user, alipay, alipay_gateway):
    other = make_user("student")
    paid_order(client, student, alipay_gateway, alipay)
    paid_order(client, other, alipay_gateway, alipay)
    assert client.as_user(superuser).get("/api/shopping/payments").json()["count"] == 2
    assert client.as_user(student).get("/api/shopping/payments").json()["count"] == 1
    assert client.as_user(superuser).get("/api/shopping/payments?refund_required=false").json()["count"] == 2
    bad = client.as_user(superuser).get("/api/shopping/payments?refund_required=maybe")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_filter"
