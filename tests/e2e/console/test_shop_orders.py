"""The shop in the console (issue 16): student1 finds a commodity by search, puts two in the cart,
changes the number, places an Alipay order to an address it has, is sent to Alipay's page (a
stand-in here: the browser never leaves the machine), finds the order unpaid in "我的订单" and
cancels it (the stock comes back). Another unpaid order comes back from Alipay to /shop/paid
with a return signed by the platform's Alipay key and is paid. Screenshots at desktop and phone widths."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from shopping_fixtures import alipay_sign

# The flows issue 16 names run on both stacks; this one is about pages, not the database behind
# them (which the HTTP suites run on both), so it runs on the embedded stack: CI stays under 20 minutes.
pytestmark = [pytest.mark.browser, pytest.mark.embedded_only]

GOODS = "中性笔 0.5mm（12 支）"  # demo commodity (domain/shopping/demo.py)
OFF_MACHINE = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")


def alipay_page(url: str) -> bool:
    """Alipay's page-pay address: the sandbox's, or the harness's fake gateway on loopback."""
    return urlsplit(url).path.endswith("/gateway.do") or bool(OFF_MACHINE.match(url))


TOKENS: dict[tuple[str, str], str] = {}  # one `studyhub token` run (a process start) per user and server


def _client(platform, username: str) -> httpx.Client:
    key = (platform.url, username)
    if key not in TOKENS:
        TOKENS[key] = platform.token(username)
    return httpx.Client(base_url=platform.api, headers={"Authorization": f"Bearer {TOKENS[key]}"}, timeout=30)


def _address(platform) -> None:
    """student1 gets a shipping address (the addresses page is tested with the profile)."""
    with _client(platform, "student1") as student:
        if student.get("/users/address").json()["count"]:
            return
        province = student.get("/users/area").json()[0]["id"]
        city = student.get(f"/users/area/{province}").json()["subs"][0]["id"]
        district = student.get(f"/users/area/{city}").json()["subs"][0]["id"]
        body = {"province": province, "city": city, "district": district, "place": "学府路 1 号", "receiver": "学生一"}
        made = student.post("/users/address", json={**body, "mobile": "13800000001"})
        assert made.status_code == 201, made.text


def _stock(platform) -> int:
    with httpx.Client(base_url=platform.api, timeout=30) as anyone:
        found = anyone.get("/shopping/commodities", params={"search": "中性笔"}).json()["results"]
    return next(c["stock"] for c in found if c["name"] == GOODS)


def _order_via_console(page, platform) -> str:
    """Search, add 2, make it 3 in the cart, check out with Alipay; the order id it placed."""
    url = platform.url
    page.goto(f"{url}/shop")
    page.get_by_label("搜索商品").fill("中性笔")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_url(re.compile(r"search="))
    card = page.get_by_test_id("commodity-row").filter(has_text=GOODS)
    card.get_by_label(f"{GOODS} 数量").fill("2")
    card.get_by_role("button", name="加入购物车").click()
    page.get_by_test_id("cart-added").wait_for()
    page.goto(f"{url}/shop/cart")
    row = page.get_by_test_id("cart-row").filter(has_text=GOODS)
    row.get_by_label("数量").fill("3")
    row.get_by_label("数量").press("Tab")  # the change event saves it
    page.get_by_test_id("cart-total").filter(has_text="¥37.50").wait_for()
    page.get_by_role("button", name="去结算").click()
    page.wait_for_url(re.compile(r"/shop/checkout\?cart="))
    page.get_by_label("选择收货地址").wait_for()
    page.get_by_role("radio", name="支付宝").check()
    with page.expect_request(lambda request: alipay_page(request.url)) as pay:
        page.get_by_role("button", name="提交订单").click()
    page.get_by_text("支付宝收银台").wait_for()
    assert "alipay.trade.page.pay" in pay.value.url
    with _client(platform, "student1") as student:
        newest = student.get("/shopping/orders").json()["results"][0]
    assert (newest["status"], newest["pay_method"], newest["total_amount"]) == (1, 1, "37.50")
    return newest["order_id"]


def test_student_orders_sees_it_in_my_orders_cancels_it_and_pays_another(console_server, desktop, phone, login, shot):
    _address(console_server)
    url = console_server.url
    page = desktop
    # a stand-in for Alipay's page: the console goes there with the signed pay URL, nothing leaves the machine
    page.route(
        alipay_page,
        lambda route: route.fulfill(
            status=200, content_type="text/html; charset=utf-8", body="<h1>支付宝收银台（测试）</h1>"
        ),
    )
    login(page, "student1")
    before = _stock(console_server)

    order_id = _order_via_console(page, console_server)
    assert _stock(console_server) == before - 3
    page.goto(f"{url}/shop/orders")
    order = page.get_by_test_id("order-row").filter(has_text=order_id)
    assert order.get_by_test_id("order-status").inner_text() == "待支付"
    shot(page, "shop-orders")
    page.once("dialog", lambda dialog: dialog.accept())
    order.get_by_role("button", name="取消订单").click()
    order.get_by_test_id("order-status").filter(has_text="已取消").wait_for()
    assert order.get_by_role("button", name="取消订单").count() == 0
    assert _stock(console_server) == before

    # another unpaid order (placed through the API this time) comes back from Alipay: the
    # console's return page hands the signed query to the API, which marks it paid
    with _client(console_server, "student1") as student:
        goods = student.get("/shopping/commodities", params={"search": "中性笔"}).json()["results"][0]["id"]
        row = student.post("/shopping/cart", json={"commodity": goods, "number": 1}).json()["id"]
        address = student.get("/users/address").json()["results"][0]["id"]
        placed = student.post("/shopping/orders", json={"cart": [row], "address": address, "pay_method": 1})
        assert placed.status_code == 201, placed.text
    paid_id, amount = placed.json()["order_id"], placed.json()["total_amount"]
    key = serialization.load_pem_private_key((console_server.base / "alipay.key").read_bytes(), None)
    back = {
        "charset": "utf-8",
        "out_trade_no": paid_id,
        "method": "alipay.trade.page.pay.return",
        "total_amount": amount,
        "trade_no": "20261130220014" + str(secrets.randbelow(10**14)).zfill(14),
        "auth_app_id": console_server.env["ALIPAY_APP_ID"],
        "version": "1.0",
        "app_id": console_server.env["ALIPAY_APP_ID"],
        "seller_id": "2088102177296610",
        "timestamp": "2026-11-30 19:30:00",
    }
    page.goto(f"{url}/shop/paid?{urlencode(alipay_sign(back, key))}")
    page.get_by_test_id("paid").filter(has_text=paid_id).wait_for()
    shot(page, "shop-paid")
    page.goto(f"{url}/shop/orders")
    paid = page.get_by_test_id("order-row").filter(has_text=paid_id)
    assert paid.get_by_test_id("order-status").inner_text() == "待发货"

    login(phone, "student1")
    phone.goto(f"{url}/shop?search=中性笔")
    phone.get_by_test_id("commodity-row").first.wait_for()
    shot(phone, "shop")
    phone.goto(f"{url}/shop/orders")
    phone.get_by_test_id("order-row").first.wait_for()
    shot(phone, "shop-orders")
