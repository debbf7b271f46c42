"""API.md §6 Reconciliation: before the cleanup job cancels an expired unpaid Alipay order it asks
Alipay (``alipay.trade.query``, against a fake gateway on loopback): a paid trade is recorded as the
webhook would, otherwise the trade is closed and the order cancelled; an unreachable or untrusted
Alipay leaves the order for the next run. Flagged payments are refunded by the job. §7: the pay
URL's gateway is ``ALIPAY_GATEWAY`` and its ``timestamp`` is in ``TIME_ZONE``."""

from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from shopping_fixtures import (
    alipay_sign,
    backdate_order,
    buy,
    commodity_state,
    count_rows,
    make_commodity,
    notification,
    order_row,
    post_notify,
)


def expired_order(client, student, *, stock=10, number=2, pay_method=1) -> dict:
    cid = make_commodity(stock=stock)
    order = buy(client.as_user(student), student, cid, number=number, pay_method=pay_method)
    backdate_order(order["order_id"], 3600)
    order["commodity"] = cid
    return order


def cleanup() -> dict:
    from studyhub.domain.shopping.cleanup import run_cleanup

    return run_cleanup()


def queried(gateway, method="alipay.trade.query") -> list[str]:
    return [biz.get("out_trade_no") for m, biz in gateway.calls if m == method]


def test_a_paid_trade_whose_notification_was_missed_is_recorded_not_cancelled(client, student, alipay, alipay_gateway):
    from studyhub.models.shopping import Payment

    order = expired_order(client, student, number=2)
    cash = expired_order(client, student, pay_method=2)  # cash on delivery: never asked about
    trade = alipay_gateway.pay(order)

    assert cleanup()["cancelled"] == 0

    row = order_row(order["order_id"])
    assert (row.status, row.refund_required) == (2, False)
    assert commodity_state(order["commodity"]) == (8, 2)
    (payment,) = client.as_user(student).get("/api/shopping/payments").json()["results"]
    assert payment["order"] == order["order_id"] and payment["trade_id"] == trade.trade_no
    assert queried(alipay_gateway) == [order["order_id"]] and cash["order_id"] not in str(alipay_gateway.calls)
    assert "alipay.trade.close" not in alipay_gateway.methods()
    assert alipay_gateway.rejected_requests == 0  # our requests were signed with the app key

    # the notification arrives after all: the same payment, once
    assert (
        post_notify(client, alipay_sign(notification(order, trade_no=trade.trade_no), alipay["alipay"][0])).text
        == "success"
    )
    assert count_rows(Payment) == 1


def test_a_trade_waiting_for_the_buyer_is_closed_then_the_order_cancelled(client, student, alipay, alipay_gateway):
    order = expired_order(client, student, number=3)
    trade = alipay_gateway.open_trade(order)

    assert cleanup()["cancelled"] == 1

    assert alipay_gateway.methods() == ["alipay.trade.query", "alipay.trade.close"]
    assert trade.status == "TRADE_CLOSED"  # nobody can pay it any more
    assert order_row(order["order_id"]).status == 6 and commodity_state(order["commodity"]) == (10, 0)
    assert cleanup()["cancelled"] == 0


def test_a_trade_never_created_or_closed_at_alipay_is_cancelled(client, student, alipay, alipay_gateway):
    never = expired_order(client, student)
    closed = expired_order(client, student)
    alipay_gateway.open_trade(closed).status = "TRADE_CLOSED"

    assert cleanup()["cancelled"] == 2

    assert order_row(never["order_id"]).status == 6 and order_row(closed["order_id"]).status == 6
    assert sorted(queried(alipay_gateway)) == sorted([never["order_id"], closed["order_id"]])
    assert commodity_state(never["commodity"]) == (10, 0)


def test_an_unreachable_alipay_leaves_the_order_for_the_next_run(
    client, student, alipay, alipay_gateway, short_backend_timeout
):
    order = expired_order(client, student, number=2)
    alipay_gateway.open_trade(order)
    alipay_gateway.delay = short_backend_timeout + 1

    assert cleanup()["cancelled"] == 0
    assert order_row(order["order_id"]).status == 1 and commodity_state(order["commodity"]) == (8, 2)

    alipay_gateway.delay = 0
    assert cleanup()["cancelled"] == 1
    assert order_row(order["order_id"]).status == 6


def test_alipay_down_leaves_the_order_too(client, student, alipay, alipay_gateway):
    order = expired_order(client, student)
    alipay_gateway.stop()  # nothing listens on the gateway's port any more

    assert cleanup()["cancelled"] == 0
    assert order_row(order["order_id"]).status == 1


def test_a_badly_signed_answer_is_not_acted_on(client, student, alipay, alipay_gateway):
    order = expired_order(client, student)
    alipay_gateway.bad_signature = True  # says "no such trade", signed by someone else

    assert cleanup()["cancelled"] == 0
    assert order_row(order["order_id"]).status == 1
    alipay_gateway.bad_signature, alipay_gateway.unsigned_error = False, True
    assert cleanup()["cancelled"] == 0
    assert order_row(order["order_id"]).status == 1

    alipay_gateway.unsigned_error = False
    assert cleanup()["cancelled"] == 1


def test_a_paid_trade_of_another_amount_is_left_for_an_operator(client, student, alipay, alipay_gateway):
    order = expired_order(client, student)
    alipay_gateway.pay(order).total_amount = Decimal("0.01")

    assert cleanup()["cancelled"] == 0
    assert order_row(order["order_id"]).status == 1


def test_a_payment_arriving_after_the_job_cancelled_is_refunded_by_the_next_run_once(
    client, student, alipay, alipay_gateway
):
    order = expired_order(client, student, number=2)
    assert cleanup()["cancelled"] == 1  # no trade yet at Alipay
    trade = alipay_gateway.pay(order)  # ... then the buyer paid on a page opened earlier
    assert (
        post_notify(client, alipay_sign(notification(order, trade_no=trade.trade_no), alipay["alipay"][0])).text
        == "success"
    )
    assert (order_row(order["order_id"]).status, order_row(order["order_id"]).refund_required) == (6, True)

    assert cleanup()["refunded"] == 1
    assert cleanup()["refunded"] == 0

    assert order_row(order["order_id"]).status == 7
    assert alipay_gateway.money_refunded() == Decimal(order["total_amount"])
    assert commodity_state(order["commodity"]) == (10, 0)


def test_without_alipay_keys_expired_orders_are_cancelled_without_asking(client, student):
    order = expired_order(client, student)
    assert cleanup() == {"cancelled": 1, "received": 0, "refunded": 0, "refunds_refused": 0, "refunds_left": 0}
    assert order_row(order["order_id"]).status == 6


def test_the_cleanup_job_reconciles_and_refunds_on_a_real_worker(client, student, alipay, alipay_gateway, job_worker):
    import time

    from studyhub.clients import queue as jobs

    missed = expired_order(client, student)
    alipay_gateway.pay(missed)
    late = expired_order(client, student)
    assert client.as_user(student).post(f"/api/shopping/orders/{late['order_id']}/cancel").status_code == 200
    trade = alipay_gateway.pay(late)
    assert (
        post_notify(client, alipay_sign(notification(late, trade_no=trade.trade_no), alipay["alipay"][0])).text
        == "success"
    )

    jobs.send("studyhub.shopping.cleanup")

    deadline = time.monotonic() + 20
    while (order_row(missed["order_id"]).status, order_row(late["order_id"]).status) != (2, 7):
        assert time.monotonic() < deadline, (order_row(missed["order_id"]).status, order_row(late["order_id"]).status)
        time.sleep(0.1)
    assert len(alipay_gateway.refunds) == 1


# --- the pay URL (§7) -------------------------------------------------------------------------------------


def test_the_pay_url_is_on_alipay_gateway_and_stamped_in_time_zone(client, student, alipay, alipay_gateway):
    order = buy(client.as_user(student), student, make_commodity())
    url = client.as_user(student).get(f"/api/shopping/payments/{order['order_id']}/pay").json()["pay_url"]
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == alipay_gateway.url
    params = dict(parse_qsl(parts.query))
    stamped = datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    assert abs((datetime.now(ZoneInfo("Asia/Shanghai")) - stamped).total_seconds()) < 120  # not the host's UTC
    expire = datetime.strptime(
        __import__("json").loads(params["biz_content"])["time_expire"], "%Y-%m-%d %H:%M:%S"
    ).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    assert 0 < (expire - stamped).total_seconds() <= 1800 + 120  # both on the same clock
