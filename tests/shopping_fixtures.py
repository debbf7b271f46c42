"""Factories and fixtures for the shopping tests: commodities, addresses, carts, a test "Alipay"
(RSA key pairs generated here: one for our app, one acting as Alipay's), signed notifications,
and concurrent HTTP requests through the real front door (one HTTP client per thread)."""

from __future__ import annotations

import base64
import os
import threading
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest

GUANGDONG, GUANGZHOU, TIANHE = 440000, 440100, 440106
APP_ID = "2021000000000001"


# --- factories (arrange through the database; act through HTTP) -------------------------------


def make_commodity(name: str = "Python 编程", price: str = "39.90", stock: int = 10, **extra) -> int:
    from studyhub.core.db import session_scope
    from studyhub.models.shopping import Commodity

    with session_scope() as session:
        commodity = Commodity(name=name, price=Decimal(price), stock=stock, sales=0, description="", **extra)
        session.add(commodity)
        session.flush()
        return commodity.id


def make_address(user, *, place: str = "天河路 1 号", receiver: str = "张三", mobile: str = "13800138000") -> int:
    from studyhub.core.db import session_scope
    from studyhub.models.users import Address

    with session_scope() as session:
        address = Address(
            user_id=user.id,
            province_id=GUANGDONG,
            city_id=GUANGZHOU,
            district_id=TIANHE,
            place=place,
            receiver=receiver,
            mobile=mobile,
        )
        session.add(address)
        session.flush()
        return address.id


def make_cart_row(user, commodity_id: int, number: int = 1) -> int:
    from studyhub.core.db import session_scope
    from studyhub.models.shopping import ShoppingCart

    with session_scope() as session:
        row = ShoppingCart(user_id=user.id, commodity_id=commodity_id, number=number)
        session.add(row)
        session.flush()
        return row.id


def commodity_state(commodity_id: int) -> tuple[int, int]:
    """``(stock, sales)`` as stored."""
    from studyhub.core.db import session_scope
    from studyhub.models.shopping import Commodity

    with session_scope() as session:
        c = session.get(Commodity, commodity_id)
        return c.stock, c.sales


def order_row(order_id: str):
    from studyhub.core.db import session_scope
    from studyhub.models.shopping import Order

    with session_scope() as session:
        return session.get(Order, order_id)


def count_rows(model) -> int:
    from sqlalchemy import func, select

    from studyhub.core.db import session_scope

    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model))


def backdate_order(order_id: str, seconds: int) -> None:
    """Pretend the order was placed ``seconds`` ago."""
    from sqlalchemy import update

    from studyhub.core.db import session_scope
    from studyhub.models.base import utcnow
    from studyhub.models.shopping import Order

    with session_scope() as session:
        session.execute(
            update(Order).where(Order.order_id == order_id).values(create_time=utcnow() - timedelta(seconds=seconds))
        )


def place_order(api, cart_ids, address_id, pay_method: int = 1):
    return api.post("/api/shopping/orders", json={"cart": cart_ids, "address": address_id, "pay_method": pay_method})


def buy(api, user, commodity_id: int, number: int = 1, pay_method: int = 1) -> dict:
    """A placed order (through HTTP): cart row, address, order."""
    cart_id = api.post("/api/shopping/cart", json={"commodity": commodity_id, "number": number}).json()["id"]
    response = place_order(api, [cart_id], make_address(user), pay_method)
    assert response.status_code == 201, response.text
    return response.json()


# --- concurrency ---------------------------------------------------------------------------


def front_door():
    import conftest

    assert conftest._front_door is not None, "use the client fixture first"
    return conftest._front_door


def concurrently(calls, *, workers: int | None = None):
    """Run ``calls`` (each ``fn(http)`` taking its own httpx client) at once; results in order."""
    import httpx

    app = front_door()
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, fn):
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as http:
            barrier.wait()
            try:
                results[index] = fn(http)
            except BaseException as error:  # noqa: BLE001 - reported by the test
                results[index] = error

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


# --- a test "Alipay" ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rsa_keys():
    """Two RSA key pairs: our app's (signs pay URLs) and "Alipay's" (signs notifications)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    def pair():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public_pem = (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        return key, private_pem, public_pem

    return {"app": pair(), "alipay": pair()}


ALIPAY_ENV = (
    "ALIPAY_APP_ID",
    "ALIPAY_APP_PRIVATE_KEY",
    "ALIPAY_PUBLIC_KEY",
    "ALIPAY_SANDBOX",
    "ALIPAY_RETURN_URL",
    "ALIPAY_NOTIFY_URL",
    "ALIPAY_GATEWAY",
)


def configure_alipay(**values: str | None) -> None:
    from studyhub.clients import alipay as payments
    from studyhub.core import config

    for name in ALIPAY_ENV:
        os.environ.pop(name, None)
    for name, value in values.items():
        if value is not None:
            os.environ[name] = value
    config.reset()
    payments.reset()


@pytest.fixture
def alipay(platform, rsa_keys):
    """Alipay configured with the test keys; the Alipay private key is the test's to sign with."""
    configure_alipay(
        ALIPAY_APP_ID=APP_ID,
        ALIPAY_APP_PRIVATE_KEY=rsa_keys["app"][1],
        ALIPAY_PUBLIC_KEY=rsa_keys["alipay"][2],
        ALIPAY_RETURN_URL="https://shop.example.com/home/order/success",
        ALIPAY_NOTIFY_URL="https://shop.example.com/api/shopping/payments/notify",
    )
    yield rsa_keys
    configure_alipay()


def alipay_sign(params: dict[str, str], private_key) -> dict[str, str]:
    """Sign as Alipay does (RSA2): every field but sign/sign_type, sorted, ``k=v`` joined by ``&``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    data = {k: v for k, v in params.items() if k not in ("sign", "sign_type")}
    message = "&".join(f"{k}={v}" for k, v in sorted(data.items()))
    signature = private_key.sign(message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return {**data, "sign_type": "RSA2", "sign": base64.b64encode(signature).decode()}


def notification(
    order: dict,
    *,
    trade_no: str = "2026112422001400000000000001",
    amount: str | None = None,
    trade_status: str = "TRADE_SUCCESS",
    app_id: str = APP_ID,
) -> dict[str, str]:
    """The fields of an Alipay asynchronous notification for ``order`` (unsigned)."""
    return {
        "gmt_create": "2026-11-24 13:05:09",
        "charset": "utf-8",
        "seller_email": "seller@example.com",
        "subject": f"StudyHub 订单 {order['order_id']}",
        "buyer_id": "2088102177846875",
        "invoice_amount": amount or order["total_amount"],
        "notify_id": "2026112400222130510070001234567890",
        "fund_bill_list": '[{"amount":"%s","fundChannel":"ALIPAYACCOUNT"}]' % (amount or order["total_amount"]),
        "notify_type": "trade_status_sync",
        "trade_status": trade_status,
        "receipt_amount": amount or order["total_amount"],
        "app_id": app_id,
        "buyer_pay_amount": amount or order["total_amount"],
        "seller_id": "2088102177296610",
        "gmt_payment": "2026-11-24 13:05:20",
        "notify_time": "2026-11-24 13:05:21",
        "version": "1.0",
        "out_trade_no": order["order_id"],
        "total_amount": amount or order["total_amount"],
        "trade_no": trade_no,
        "auth_app_id": app_id,
        "buyer_logon_id": "csq***@sandbox.com",
        "point_amount": "0.00",
    }


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def post_notify(http, params: dict[str, str]):
    """POST a notification as Alipay does: form-encoded, no auth."""
    return http.post("/api/shopping/payments/notify", content=urlencode(params).encode(), headers=FORM)
