"""An operator's orders in the console (issue 16): student1 places a cash-on-delivery order and
two Alipay orders through the API, the Alipay ones paid by a correctly signed notification (and
known as paid trades to the fake Alipay gateway the served platform calls). admin signs in, lands
on its users page, filters the orders by status and user, ships the cash order, refunds one
Alipay order through the gateway (one refund of the full amount, status 7), and sees Alipay's
refusal of the other (409 refund_failed) on that order's row, the order unchanged.
Screenshots at desktop and phone widths."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from shopping_fixtures import FORM, alipay_sign, notification

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SERVED_APP_ID = "2021000000000000"  # tests/served_platform.py's throwaway Alipay app


def _client(platform, username: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {platform.token(username)}"}
    return httpx.Client(base_url=platform.api, headers=headers, timeout=30)


def _address(student: httpx.Client) -> int:
    mine = student.get("/users/address").json()["results"]
    if mine:
        return mine[0]["id"]
    province = student.get("/users/area").json()[0]["id"]
    city = student.get(f"/users/area/{province}").json()["subs"][0]["id"]
    district = student.get(f"/users/area/{city}").json()["subs"][0]["id"]
    body = {"province": province, "city": city, "district": district, "place": "学府路 2 号", "receiver": "学生一"}
    made = student.post("/users/address", json={**body, "mobile": "13800000002"})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _order(student: httpx.Client, address: int, pay_method: int) -> dict:
    commodity = student.get("/shopping/commodities", params={"search": "错题本"}).json()["results"][0]
    row = student.post("/shopping/cart", json={"commodity": commodity["id"], "number": 1})
    assert row.status_code == 201, row.text
    order = student.post(
        "/shopping/orders", json={"cart": [row.json()["id"]], "address": address, "pay_method": pay_method}
    )
    assert order.status_code == 201, order.text
    return order.json()


def _pay(platform, order: dict) -> None:
    """Alipay's notification of the payment, signed with the served platform's 'Alipay' key; the
    fake gateway knows the trade too, so a refund of it can go through."""
    trade_no = f"2026{uuid.uuid4().int % 10**24:024d}"
    key = serialization.load_pem_private_key((platform.base / "alipay.key").read_bytes(), None)
    signed = alipay_sign(notification(order, trade_no=trade_no, app_id=SERVED_APP_ID), key)
    answer = httpx.post(f"{platform.api}/shopping/payments/notify", content=urlencode(signed).encode(), headers=FORM)
    assert (answer.status_code, answer.text) == (200, "success"), answer.text
    platform.alipay.pay(order, trade_no)


def test_operator_ships_an_order_and_refunds_a_paid_alipay_order(console_server, desktop, login, shot):
    url, page, gateway = console_server.url, desktop, console_server.alipay
    with _client(console_server, "student1") as student:
        address = _address(student)
        cash = _order(student, address, pay_method=2)
        refunded, refused = _order(student, address, pay_method=1), _order(student, address, pay_method=1)
        for order in (refunded, refused):
            _pay(console_server, order)
        student_id = cash["user"]

    login(page, "admin")
    page.wait_for_url(re.compile(r"/operator/users$"))
    page.get_by_test_id("user-list").wait_for()
    page.goto(f"{url}/operator/orders")
    page.get_by_label("状态").select_option(label="待发货")
    page.get_by_label("用户 ID").fill(str(student_id))
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(rf"status=2.*user={student_id}|user={student_id}.*status=2"))

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'[data-order="{cash["order_id"]}"]').get_by_role("button", name="发货").click()
    page.get_by_test_id("notice").filter(has_text=f"订单 {cash['order_id']} 已发货").wait_for()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'[data-order="{refunded["order_id"]}"]').get_by_role("button", name="退款").click()
    page.get_by_test_id("notice").filter(has_text=f"订单 {refunded['order_id']} 已退款").wait_for()

    gateway.refuse_refunds = "ACQ.TRADE_STATUS_ERROR"
    try:
        page.once("dialog", lambda dialog: dialog.accept())
        row = page.locator(f'[data-order="{refused["order_id"]}"]')
        row.get_by_role("button", name="退款").click()
        row.get_by_test_id("error").wait_for()
    finally:
        gateway.refuse_refunds = None
    shot(page, "operator-orders-desktop")

    admin_token = page.evaluate("localStorage.getItem('studyhub.token')")
    with httpx.Client(base_url=console_server.api, headers={"Authorization": f"Bearer {admin_token}"}) as admin:
        status = {
            o["order_id"]: o["status"]
            for o in admin.get("/shopping/orders", params={"user": student_id, "size": 100}).json()["results"]
        }
    assert (status[cash["order_id"]], status[refunded["order_id"]], status[refused["order_id"]]) == (3, 7, 2)
    mine = [
        amount for trade, amount in gateway.refunds.values() if gateway.trades[trade].order_id == refunded["order_id"]
    ]
    assert [str(a) for a in mine] == [refunded["total_amount"]]
    assert not any(gateway.trades[t].order_id == refused["order_id"] for t, _ in gateway.refunds.values())

    page.set_viewport_size(PHONE)  # the same page at a phone's width
    page.goto(f"{url}/operator/orders?user={student_id}")
    refunded_row = page.locator(f'[data-order="{refunded["order_id"]}"]')
    refunded_row.get_by_test_id("order-status").filter(has_text="已退款").wait_for()
    shot(page, "operator-orders-phone")
