"""API.md §6: Alipay — the pay URL, the browser return and the webhook, signed with RSA keys
generated here (one pair acting as our app, one as Alipay), on both stacks."""

import base64
import json
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from shopping_fixtures import (
    APP_ID,
    FORM,
    alipay_sign,
    backdate_order,
    buy,
    commodity_state,
    concurrently,
    configure_alipay,
    count_rows,
    make_commodity,
    notification,
    order_row,
    post_notify,
)


def verify_app_signature(params: dict[str, str], public_key) -> None:
    """What Alipay does with our pay URL: check the RSA2 signature with the app's public key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    data = {k: v for k, v in params.items() if k not in ("sign",)}
    message = "&".join(f"{k}={v}" for k, v in sorted(data.items()))
    public_key.verify(base64.b64decode(params["sign"]), message.encode(), padding.PKCS1v15(), hashes.SHA256())


def state(order_id: str):
    from studyhub.models.shopping import Payment

    row = order_row(order_id)
    return row.status, row.refund_required, count_rows(Payment)


# --- no keys: 503, never 500 --------------------------------------------------------------------


def test_payment_routes_answer_503_when_alipay_is_not_configured(client, student):
    configure_alipay()
    order = buy(client.as_user(student), student, make_commodity())
    api = client.as_user(student)
    responses = [
        api.get(f"/api/shopping/payments/{order['order_id']}/pay"),
        api.put("/api/shopping/orders/status?out_trade_no=1&trade_no=2&sign=abc"),
        client.post("/api/shopping/payments/notify", content=b"out_trade_no=1&sign=x", headers=FORM),
    ]
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "service_unavailable"
    assert order_row(order["order_id"]).status == 1


def test_malformed_keys_answer_503_too(client, student):
    configure_alipay(ALIPAY_APP_ID=APP_ID, ALIPAY_APP_PRIVATE_KEY="not a key", ALIPAY_PUBLIC_KEY="nor this")
    order = buy(client.as_user(student), student, make_commodity())
    response = client.as_user(student).get(f"/api/shopping/payments/{order['order_id']}/pay")
    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"


# --- pay URL ----------------------------------------------------------------------------------------


def test_pay_url_is_a_signed_page_pay_request_on_the_sandbox_gateway(client, student, alipay):
    order = buy(client.as_user(student), student, make_commodity(price="39.90"), number=2)
    response = client.as_user(student).get(f"/api/shopping/payments/{order['order_id']}/pay")
    assert response.status_code == 200, response.text
    url = response.json()["pay_url"]
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
    params = dict(parse_qsl(parts.query))
    assert params["method"] == "alipay.trade.page.pay" and params["app_id"] == APP_ID
    assert params["sign_type"] == "RSA2" and params["charset"] == "utf-8"
    assert params["return_url"] == "https://shop.example.com/home/order/success"
    assert params["notify_url"] == "https://shop.example.com/api/shopping/payments/notify"
    biz = json.loads(params["biz_content"])
    assert biz["out_trade_no"] == order["order_id"] and biz["total_amount"] == "79.80"
    assert order["order_id"] in biz["subject"] and biz["product_code"] == "FAST_INSTANT_TRADE_PAY"
    assert "time_expire" in biz
    verify_app_signature(params, alipay["app"][0].public_key())  # raises if the signature is wrong


def test_pay_url_uses_the_production_gateway_when_sandbox_is_off(client, student, alipay, rsa_keys):
    configure_alipay(
        ALIPAY_APP_ID=APP_ID,
        ALIPAY_APP_PRIVATE_KEY=rsa_keys["app"][1],
        ALIPAY_PUBLIC_KEY=rsa_keys["alipay"][2],
        ALIPAY_SANDBOX="false",
    )
    order = buy(client.as_user(student), student, make_commodity())
    url = client.as_user(student).get(f"/api/shopping/payments/{order['order_id']}/pay").json()["pay_url"]
    assert url.startswith("https://openapi.alipay.com/gateway.do?")


def test_keys_may_be_given_as_files_or_bare_base64(client, student, alipay, rsa_keys, tmp_path):
    key_file = tmp_path / "app_private_key.pem"
    key_file.write_text(rsa_keys["app"][1])
    bare_public = "".join(line for line in rsa_keys["alipay"][2].splitlines() if "-----" not in line)
    configure_alipay(ALIPAY_APP_ID=APP_ID, ALIPAY_APP_PRIVATE_KEY=f"@{key_file}", ALIPAY_PUBLIC_KEY=bare_public)
    order = buy(client.as_user(student), student, make_commodity())
    assert client.as_user(student).get(f"/api/shopping/payments/{order['order_id']}/pay").status_code == 200
    signed = alipay_sign(notification(order), rsa_keys["alipay"][0])
    assert post_notify(client, signed).text == "success"


def test_pay_url_only_for_the_owners_unpaid_unexpired_order(client, student, make_user, alipay):
    api = client.as_user(student)
    cid = make_commodity(stock=10)
    cod = buy(api, student, cid, pay_method=2)
    assert api.get(f"/api/shopping/payments/{cod['order_id']}/pay").status_code == 404
    other = make_user("student")
    theirs = buy(client.as_user(other), other, cid)
    assert api.get(f"/api/shopping/payments/{theirs['order_id']}/pay").status_code == 404
    cancelled = buy(api, student, cid)
    api.post(f"/api/shopping/orders/{cancelled['order_id']}/cancel")
    assert api.get(f"/api/shopping/payments/{cancelled['order_id']}/pay").status_code == 404
    expired = buy(api, student, cid)
    backdate_order(expired["order_id"], 1801)
    assert api.get(f"/api/shopping/payments/{expired['order_id']}/pay").status_code == 404
    assert api.get("/api/shopping/payments/999/pay").status_code == 404
    assert client.get(f"/api/shopping/payments/{theirs['order_id']}/pay").status_code == 401


# --- webhook ------------------------------------------------------------------------------------------


def test_valid_notification_marks_the_order_paid_and_records_one_payment(client, student, alipay):
    order = buy(client.as_user(student), student, make_commodity(price="39.90"))
    signed = alipay_sign(notification(order, trade_no="2026112422001400000000000042"), alipay["alipay"][0])

    response = post_notify(client, signed)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "success"
    assert state(order["order_id"]) == (2, False, 1)
    assert client.as_user(student).get(f"/api/shopping/orders/{order['order_id']}").json()["status"] == 2
    payments = client.as_user(student).get("/api/shopping/payments").json()
    assert payments["count"] == 1
    payment = payments["results"][0]
    assert set(payment) == {"id", "order", "trade_id", "create_time"}
    assert payment["order"] == order["order_id"] and payment["trade_id"] == "2026112422001400000000000042"


def test_the_same_notification_20_times_10_at_once_records_one_payment(client, student, alipay):
    order = buy(client.as_user(student), student, make_commodity())
    body = urlencode(alipay_sign(notification(order), alipay["alipay"][0])).encode()

    def deliver(http):
        return http.post("/api/shopping/payments/notify", content=body, headers=FORM)

    sequential = [deliver(client.http) for _ in range(10)]
    at_once = concurrently([deliver] * 10)

    answers = [(r.status_code, r.text) for r in sequential + at_once]
    assert answers == [(200, "success")] * 20
    assert state(order["order_id"]) == (2, False, 1)


def test_concurrent_first_deliveries_record_one_payment(client, student, alipay):
    order = buy(client.as_user(student), student, make_commodity())
    body = urlencode(alipay_sign(notification(order), alipay["alipay"][0])).encode()
    results = concurrently([lambda http: http.post("/api/shopping/payments/notify", content=body, headers=FORM)] * 10)
    assert [(r.status_code, r.text) for r in results] == [(200, "success")] * 10
    assert state(order["order_id"]) == (2, False, 1)


def _unpaid_order(client, student):
    return buy(client.as_user(student), student, make_commodity(price="39.90"))


@pytest.mark.parametrize(
    "case",
    [
        "tampered_signature",
        "tampered_field",
        "other_app_id",
        "amount_off_by_a_cent",
        "unknown_order",
        "order_id_with_a_suffix",
        "trade_no_too_long",
        "missing_sign",
        "unsigned_sign_type_rsa",
        "not_a_form",
    ],
)
def test_invalid_notifications_answer_failure_and_change_nothing(client, student, alipay, case):
    order = _unpaid_order(client, student)
    key = alipay["alipay"][0]
    params = notification(order)
    if case == "tampered_signature":
        signed = alipay_sign(params, key)
        raw = bytearray(base64.b64decode(signed["sign"]))
        raw[10] ^= 0xFF
        signed["sign"] = base64.b64encode(bytes(raw)).decode()
    elif case == "tampered_field":
        signed = alipay_sign(params, key)
        signed["total_amount"] = "0.01"
    elif case == "other_app_id":
        signed = alipay_sign(notification(order, app_id="2021000000009999"), key)
    elif case == "amount_off_by_a_cent":
        signed = alipay_sign(notification(order, amount="39.89"), key)
    elif case == "unknown_order":
        signed = alipay_sign(notification({**order, "order_id": "20260101000000000000999999"}), key)
    elif case == "order_id_with_a_suffix":
        signed = alipay_sign(notification({**order, "order_id": order["order_id"] + "123456789"}), key)
    elif case == "trade_no_too_long":
        signed = alipay_sign(notification(order, trade_no="9" * 101), key)
    elif case == "missing_sign":
        signed = alipay_sign(params, key)
        del signed["sign"]
    elif case == "unsigned_sign_type_rsa":
        signed = alipay_sign(params, key)
        signed["sign_type"] = "RSA"
    else:
        response = client.post("/api/shopping/payments/notify", json=params)
        assert (response.status_code, response.text) == (400, "failure")
        assert state(order["order_id"]) == (1, False, 0)
        return

    response = post_notify(client, signed)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "failure"
    assert state(order["order_id"]) == (1, False, 0)


def test_a_notification_signed_with_another_key_is_failure(client, student, alipay):
    order = _unpaid_order(client, student)
    signed = alipay_sign(notification(order), alipay["app"][0])  # our own key is not Alipay's
    assert (post_notify(client, signed).status_code, state(order["order_id"])) == (400, (1, False, 0))


def test_a_notification_that_is_not_a_payment_is_acknowledged_and_changes_nothing(client, student, alipay):
    order = _unpaid_order(client, student)
    for status in ("WAIT_BUYER_PAY", "TRADE_CLOSED"):
        signed = alipay_sign(notification(order, trade_status=status), alipay["alipay"][0])
        assert post_notify(client, signed).text == "success"
    assert state(order["order_id"]) == (1, False, 0)


def test_trade_finished_also_pays(client, student, alipay):
    order = _unpaid_order(client, student)
    signed = alipay_sign(notification(order, trade_status="TRADE_FINISHED"), alipay["alipay"][0])
    assert post_notify(client, signed).text == "success"
    assert state(order["order_id"]) == (2, False, 1)


def test_a_payment_for_a_cancelled_order_is_recorded_and_flagged_for_refund(client, student, alipay):
    cid = make_commodity(stock=10)
    order = buy(client.as_user(student), student, cid, number=2)
    client.as_user(student).post(f"/api/shopping/orders/{order['order_id']}/cancel")
    signed = alipay_sign(notification(order), alipay["alipay"][0])

    assert post_notify(client, signed).text == "success"
    assert post_notify(client, signed).text == "success"

    assert state(order["order_id"]) == (6, True, 1)
    assert commodity_state(cid) == (10, 0)
    assert client.as_user(student).get("/api/shopping/payments").json()["count"] == 1


def test_cleanup_racing_a_payment_ends_consistent(client, student, alipay, alipay_gateway):
    """Expired order: the cleanup job (asking the fake Alipay, which knows no such trade) and
    Alipay's notification arrive at the same moment.
    Either the payment wins (paid, stock stays sold) or the cleanup wins (cancelled, stock back,
    payment kept and flagged for refund) — never both, never neither."""
    from studyhub.domain.shopping.reconciliation import cancel_expired_orders

    for _ in range(3):
        cid = make_commodity(stock=10)
        order = buy(client.as_user(student), student, cid, number=3)
        backdate_order(order["order_id"], 3600)
        body = urlencode(alipay_sign(notification(order, trade_no=f"T{order['order_id']}"), alipay["alipay"][0]))

        results = concurrently(
            [
                lambda http, body=body: http.post("/api/shopping/payments/notify", content=body.encode(), headers=FORM),
                lambda http: cancel_expired_orders(),
            ]
        )

        assert results[0].text == "success"
        row = order_row(order["order_id"])
        if results[1] == 1:
            assert (row.status, row.refund_required, commodity_state(cid)) == (6, True, (10, 0))
        else:
            assert (results[1], row.status, row.refund_required, commodity_state(cid)) == (0, 2, False, (7, 3))


# --- the browser return -------------------------------------------------------------------------------


def return_params(order, trade_no="2026112422001400000000000077", amount=None):
    return {
        "charset": "utf-8",
        "out_trade_no": order["order_id"],
        "method": "alipay.trade.page.pay.return",
        "total_amount": amount or order["total_amount"],
        "trade_no": trade_no,
        "auth_app_id": APP_ID,
        "version": "1.0",
        "app_id": APP_ID,
        "seller_id": "2088102177296610",
        "timestamp": "2026-11-24 13:05:30",
    }


def test_return_with_a_good_signature_marks_the_order_paid(client, student, alipay):
    order = _unpaid_order(client, student)
    query = urlencode(alipay_sign(return_params(order), alipay["alipay"][0]))
    response = client.as_user(student).put(f"/api/shopping/orders/status?{query}")
    assert response.status_code == 200, response.text
    assert response.json() == {"order_id": order["order_id"], "trade_id": "2026112422001400000000000077"}
    assert state(order["order_id"]) == (2, False, 1)
    # the notification of the same trade arriving afterwards is a repeat
    signed = alipay_sign(notification(order, trade_no="2026112422001400000000000077"), alipay["alipay"][0])
    assert post_notify(client, signed).text == "success"
    assert state(order["order_id"]) == (2, False, 1)
    # and so is the browser coming back twice
    assert client.as_user(student).put(f"/api/shopping/orders/status?{query}").status_code == 200
    assert state(order["order_id"]) == (2, False, 1)


def test_return_without_sign_is_400_and_with_a_bad_one_403(client, student, alipay):
    order = _unpaid_order(client, student)
    api = client.as_user(student)
    unsigned = urlencode(return_params(order))
    missing = api.put(f"/api/shopping/orders/status?{unsigned}")
    assert missing.status_code == 400 and missing.json()["code"] == "signature_required"
    forged = alipay_sign(return_params(order), alipay["app"][0])
    bad = api.put(f"/api/shopping/orders/status?{urlencode(forged)}")
    assert bad.status_code == 403 and bad.json()["code"] == "invalid_signature"
    assert state(order["order_id"]) == (1, False, 0)


def test_return_needs_a_login_and_the_callers_own_order(client, student, make_user, alipay):
    order = _unpaid_order(client, student)
    query = urlencode(alipay_sign(return_params(order), alipay["alipay"][0]))
    assert client.put(f"/api/shopping/orders/status?{query}").status_code == 401
    other = make_user("student")
    assert client.as_user(other).put(f"/api/shopping/orders/status?{query}").status_code == 404
    off = urlencode(alipay_sign(return_params(order, amount="0.01"), alipay["alipay"][0]))
    assert client.as_user(student).put(f"/api/shopping/orders/status?{off}").status_code == 400
    assert state(order["order_id"]) == (1, False, 0)


def test_payments_list_is_the_callers_own(client, student, make_user, alipay):
    other = make_user("student")
    mine = buy(client.as_user(student), student, make_commodity())
    theirs = buy(client.as_user(other), other, make_commodity())
    for order, trade in ((mine, "T-mine"), (theirs, "T-theirs")):
        assert (
            post_notify(client, alipay_sign(notification(order, trade_no=trade), alipay["alipay"][0])).text == "success"
        )
    listing = client.as_user(student).get("/api/shopping/payments").json()
    assert [p["trade_id"] for p in listing["results"]] == ["T-mine"]
    assert client.get("/api/shopping/payments").status_code == 401
