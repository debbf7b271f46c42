"""A fake Alipay gateway on loopback, for the server calls (``alipay.trade.query``, ``.close``,
``.refund``): a real HTTP server in a thread that reads the form-encoded request, checks our RSA2
signature with the test app's public key, keeps trades and refunds as Alipay does (one refund per
``out_request_no``), and answers JSON signed with the test "Alipay" private key.

Scenarios a test sets: ``pay``/``open_trade`` (a trade paid / waiting for the buyer), no trade at
all (``ACQ.TRADE_NOT_EXIST``), ``refuse_refunds`` (a business failure), ``delay`` (slower than our
timeout), ``bad_signature`` (an answer signed by another key), ``unsigned_error``.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest


@dataclass
class Trade:
    order_id: str
    trade_no: str
    total_amount: Decimal
    status: str  # WAIT_BUYER_PAY, TRADE_SUCCESS, TRADE_CLOSED, TRADE_FINISHED
    refunded: Decimal = Decimal("0.00")


@dataclass
class FakeAlipay:
    app_public_key: object
    alipay_private_key: object
    app_id: str
    trades: dict[str, Trade] = field(default_factory=dict)  # by trade_no
    refunds: dict[str, tuple[str, Decimal]] = field(default_factory=dict)  # out_request_no → (trade_no, amount)
    calls: list[tuple[str, dict]] = field(default_factory=list)  # (method, biz_content) of each signed request
    refuse_refunds: str | None = None  # a sub_code, e.g. ACQ.TRADE_STATUS_ERROR
    delay: float = 0.0
    bad_signature: bool = False
    unsigned_error: bool = False
    rejected_requests: int = 0  # requests whose signature did not verify
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    # --- arranging ---------------------------------------------------------------------------
    def open_trade(self, order: dict, trade_no: str | None = None) -> Trade:
        number = trade_no or f"2026{order['order_id'][-20:]}"
        trade = Trade(order["order_id"], number, Decimal(order["total_amount"]), "WAIT_BUYER_PAY")
        self.trades[number] = trade
        return trade

    def pay(self, order: dict, trade_no: str | None = None) -> Trade:
        trade = self.open_trade(order, trade_no)
        trade.status = "TRADE_SUCCESS"
        return trade

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    def money_refunded(self) -> Decimal:
        return sum((amount for _, amount in self.refunds.values()), Decimal("0.00"))

    # --- the server ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/gateway.do"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                fake.handle(self, dict(parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)))

            def do_GET(self) -> None:  # noqa: N802
                fake.handle(self, dict(parse_qsl(self.path.partition("?")[2], keep_blank_values=True)))

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # --- Alipay's side ---------------------------------------------------------------------------
    def _verify_request(self, params: dict[str, str]) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        data = {k: v for k, v in params.items() if k != "sign"}
        message = "&".join(f"{k}={v}" for k, v in sorted(data.items()))
        try:
            self.app_public_key.verify(
                base64.b64decode(params.get("sign", "")), message.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError):
            return False
        return params.get("app_id") == self.app_id and params.get("sign_type") == "RSA2"

    def _sign(self, content: str) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signed = content + ("tampered" if self.bad_signature else "")
        return base64.b64encode(
            self.alipay_private_key.sign(signed.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        ).decode()

    def handle(self, handler: BaseHTTPRequestHandler, params: dict[str, str]) -> None:
        if self.delay:
            time.sleep(self.delay)
        method = params.get("method", "")
        if not self._verify_request(params):
            self.rejected_requests += 1
            error = {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-signature",
                "sub_msg": "验签出错",
            }
            return self._send(handler, json.dumps({"error_response": error}, ensure_ascii=False))
        biz = json.loads(params.get("biz_content") or "{}")
        with self.lock:
            self.calls.append((method, biz))
            answer = {
                "alipay.trade.query": self._query,
                "alipay.trade.close": self._close,
                "alipay.trade.refund": self._refund,
            }.get(method, lambda _biz: _failure("40004", "ACQ.INVALID_PARAMETER", "不支持的接口"))(biz)
        response_type = method.replace(".", "_") + "_response"
        content = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        if self.unsigned_error:
            return self._send(handler, json.dumps({response_type: _failure("20000", "ACQ.SYSTEM_ERROR", "系统繁忙")}))
        self._send(handler, f'{{"{response_type}":{content},"sign":"{self._sign(content)}"}}')

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, body: str) -> None:
        data = body.encode("utf-8")
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html;charset=utf-8")  # as Alipay labels its JSON
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:  # the client gave up (a timeout scenario)
            pass

    def _trade(self, biz: dict) -> Trade | None:
        """As Alipay: ``trade_no`` first, else the order's (latest) trade by ``out_trade_no``."""
        if biz.get("trade_no"):
            trade = self.trades.get(biz["trade_no"])
            return trade if trade and trade.order_id == biz.get("out_trade_no", trade.order_id) else None
        found = [t for t in self.trades.values() if t.order_id == biz.get("out_trade_no")]
        return found[-1] if found else None

    def _query(self, biz: dict) -> dict:
        trade = self._trade(biz)
        if trade is None:
            return _failure("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
        return {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": trade.order_id,
            "trade_no": trade.trade_no,
            "trade_status": trade.status,
            "total_amount": f"{trade.total_amount:.2f}",
            "buyer_logon_id": "csq***@sandbox.com",
        }

    def _close(self, biz: dict) -> dict:
        trade = self._trade(biz)
        if trade is None:
            return _failure("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
        if trade.status != "WAIT_BUYER_PAY":
            return _failure("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade.status = "TRADE_CLOSED"
        return {"code": "10000", "msg": "Success", "out_trade_no": trade.order_id, "trade_no": trade.trade_no}

    def _refund(self, biz: dict) -> dict:
        if self.refuse_refunds:
            return _failure("40004", self.refuse_refunds, "交易状态不合法")
        trade = self._trade(biz)
        if trade is None:
            return _failure("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
        number, amount = biz.get("out_request_no") or "", Decimal(biz["refund_amount"])
        fund_change = "N"
        if number not in self.refunds:  # Alipay refunds one out_request_no once
            if trade.status not in ("TRADE_SUCCESS",):
                return _failure("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            if amount > trade.total_amount - trade.refunded:
                return _failure("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
            self.refunds[number] = (trade.trade_no, amount)
            trade.refunded += amount
            if trade.refunded == trade.total_amount:
                trade.status = "TRADE_CLOSED"
            fund_change = "Y"
        return {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": trade.order_id,
            "trade_no": trade.trade_no,
            "fund_change": fund_change,
            "refund_fee": f"{trade.refunded:.2f}",
        }


def _failure(code: str, sub_code: str, sub_msg: str) -> dict:
    return {"code": code, "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}


@pytest.fixture
def alipay_gateway(alipay):
    """The fake gateway running, and ``ALIPAY_GATEWAY`` pointing at it (with the test keys)."""
    import os

    from shopping_fixtures import APP_ID

    from studyhub.clients import alipay as client
    from studyhub.core import config

    fake = FakeAlipay(
        app_public_key=alipay["app"][0].public_key(), alipay_private_key=alipay["alipay"][0], app_id=APP_ID
    )
    fake.start()
    os.environ["ALIPAY_GATEWAY"] = fake.url
    config.reset()
    client.reset()
    yield fake
    fake.stop()
    os.environ.pop("ALIPAY_GATEWAY", None)
    config.reset()
    client.reset()


@pytest.fixture
def short_backend_timeout(monkeypatch):
    """``BACKEND_TIMEOUT_SECONDS=1`` for this test: a slow gateway is given up on quickly."""
    from studyhub.clients import alipay as client
    from studyhub.core import config

    monkeypatch.setenv("BACKEND_TIMEOUT_SECONDS", "1")
    config.reset()
    client.reset()
    yield 1.0
    monkeypatch.delenv("BACKEND_TIMEOUT_SECONDS")
    config.reset()
    client.reset()
