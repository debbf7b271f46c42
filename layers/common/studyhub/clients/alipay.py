"""Alipay (python-alipay-sdk): the signed page-pay URL, RSA2 verification of what Alipay sends,
and the server calls ``alipay.trade.query`` / ``alipay.trade.close`` / ``alipay.trade.refund``.

Keys come from settings (PEM text, bare base64 as Alipay's key tool prints it, or ``@file``).
With no app id or keys configured every payment route answers ``503`` (``Unavailable("payment")``),
never a 500. The client is built on first use and kept per process; ``reset()`` forgets it.

The SDK (3.x) is used through a subclass that changes three things it has no parameter for:

- the gateway: it picks sandbox or production from ``debug`` in ``__init__`` and reads
  ``self._gateway`` for every server call; we set ``ALIPAY_GATEWAY`` there (a test's fake gateway);
- the request ``timestamp``: it stamps the host clock (``datetime.now()``: UTC on Lambda) where
  Alipay reads Beijing time; we stamp ``TIME_ZONE``, like ``time_expire``;
- the transport of server calls: POSTed form-encoded within ``BACKEND_TIMEOUT_SECONDS`` (the
  request's deadline), and every failure typed. The answer is still checked by the SDK's own
  ``_verify_and_return_sync_response`` (RSA2 over the raw ``<method>_response`` object with
  ``ALIPAY_PUBLIC_KEY``). An answer that can't be trusted (bad or missing signature, not JSON) is
  treated like no answer at all: ``AlipayUnreachable``, nothing decided on it.
"""

from __future__ import annotations

import base64
import http.client
import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.request import Request, urlopen
from zoneinfo import ZoneInfo

from studyhub.core import deadline
from studyhub.core.config import get_settings
from studyhub.core.errors import Unavailable
from studyhub.core.lazy import Lazy

log = logging.getLogger("studyhub.payments")

SANDBOX_GATEWAY = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
PRODUCTION_GATEWAY = "https://openapi.alipay.com/gateway.do"
PAID_TRADE_STATUSES = {"TRADE_SUCCESS", "TRADE_FINISHED"}
SUCCESS = "10000"  # Alipay's ``code`` of a call that did what was asked
TRADE_NOT_EXIST = "ACQ.TRADE_NOT_EXIST"  # the buyer never opened the pay page
MAX_ANSWER_BYTES = 1024 * 1024


class AlipayUnreachable(Unavailable):
    """No trustworthy answer from Alipay: down, slow, or an answer whose signature doesn't verify.
    A refund answers 503; the cleanup job leaves the order for its next run."""

    def __init__(self, reason: str) -> None:
        super().__init__("payment", "支付宝暂时无法访问（payment），请稍后再试")
        self.reason = reason


@dataclass(frozen=True)
class Answer:
    """A verified answer of a server call: ``code`` ``10000`` is success, anything else Alipay's
    refusal (``sub_code`` says why, e.g. ``ACQ.TRADE_NOT_EXIST``)."""

    code: str
    sub_code: str = ""
    sub_msg: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.code == SUCCESS

    @classmethod
    def of(cls, fields: dict[str, Any]) -> Answer:
        return cls(
            code=str(fields.get("code", "")),
            sub_code=str(fields.get("sub_code", "")),
            sub_msg=str(fields.get("sub_msg", "")),
            fields=fields,
        )


def _key_material(text: str) -> str | bytes:
    """PEM as is; Alipay's bare base64 key (no header lines) as DER bytes."""
    if "-----BEGIN" in text:
        return text
    return base64.b64decode("".join(text.split()))


def _client_class() -> Any:
    from alipay import AliPay
    from alipay.exceptions import AliPayException, AliPayValidationError

    class StudyHubAliPay(AliPay):  # the SDK is untyped: AliPay is Any
        """The SDK with our gateway, our clock and our transport (see the module docstring)."""

        def __init__(self, *, gateway: str, time_zone: str, timeout: float, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._gateway = gateway
            self._zone = ZoneInfo(time_zone)
            self._timeout = timeout

        def build_body(self, method: str, biz_content: Any = None, **kwargs: Any) -> dict[str, Any]:
            data: dict[str, Any] = super().build_body(method, biz_content, **kwargs)
            data["timestamp"] = datetime.now(self._zone).strftime("%Y-%m-%d %H:%M:%S")
            return data

        def verified_sync_response(self, data: dict[str, Any], response_type: str) -> dict[str, Any]:
            body = self.sign_data(data).encode("utf-8")
            request = Request(
                self._gateway,
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            )
            try:
                with urlopen(request, timeout=deadline.bounded(self._timeout)) as response:  # noqa: S310 - our gateway
                    raw = response.read(MAX_ANSWER_BYTES).decode("utf-8")
            except (OSError, http.client.HTTPException, UnicodeDecodeError) as error:  # URLError, timeouts
                raise AlipayUnreachable(f"{data['method']}: {type(error).__name__}") from None
            try:
                verified: dict[str, Any] = self._verify_and_return_sync_response(raw, response_type)
            except AliPayValidationError:
                raise AlipayUnreachable(f"{data['method']}: answer's signature does not verify") from None
            except AliPayException:
                # unsigned: Alipay refusing our request itself (bad app id or signature), not a verdict
                raise AlipayUnreachable(f"{data['method']}: unsigned error answer") from None
            except (ValueError, TypeError, AttributeError, KeyError):
                raise AlipayUnreachable(f"{data['method']}: answer is not Alipay's JSON") from None
            if not isinstance(verified, dict):
                raise AlipayUnreachable(f"{data['method']}: answer is not an object")
            return verified

    return StudyHubAliPay


def _build_client() -> Any:  # StudyHubAliPay (python-alipay-sdk is untyped)
    settings = get_settings()
    if not (settings.alipay_app_id and settings.alipay_app_private_key and settings.alipay_public_key):
        raise Unavailable("payment", "支付服务未配置（payment），请稍后再试")
    try:
        return _client_class()(
            gateway=gateway(),
            time_zone=settings.time_zone,
            timeout=settings.backend_timeout_seconds,
            appid=settings.alipay_app_id,
            app_notify_url=settings.alipay_notify_url,
            app_private_key_string=_key_material(settings.alipay_app_private_key),
            alipay_public_key_string=_key_material(settings.alipay_public_key),
            sign_type="RSA2",
            debug=settings.alipay_sandbox,
        )
    except Exception as error:  # noqa: BLE001 - a malformed key is a configuration fault
        log.error("Alipay keys could not be loaded: %s", type(error).__name__)
        raise Unavailable("payment", "支付服务配置有误（payment），请稍后再试") from None


_client: Lazy[Any] = Lazy(_build_client)
#: The configured ``AliPay`` client; ``Unavailable("payment")`` when Alipay isn't set up.
get_alipay = _client.get
reset = _client.reset


def app_id() -> str:
    return get_alipay().appid


def gateway() -> str:
    """``ALIPAY_GATEWAY``, else Alipay's sandbox or production gateway by ``ALIPAY_SANDBOX``."""
    settings = get_settings()
    if settings.alipay_gateway:
        return settings.alipay_gateway
    return SANDBOX_GATEWAY if settings.alipay_sandbox else PRODUCTION_GATEWAY


def is_configured() -> bool:
    settings = get_settings()
    return bool(settings.alipay_app_id and settings.alipay_app_private_key and settings.alipay_public_key)


def _call(api: str, **kwargs: Any) -> Answer:
    answer = Answer.of(getattr(get_alipay(), api)(**kwargs))
    if not answer.ok:
        log.info("alipay %s refused: %s %s", api, answer.code, answer.sub_code)
    return answer


def trade_query(order_id: str) -> Answer:
    """``alipay.trade.query`` for our ``out_trade_no``; ``fields["trade_status"]`` when found."""
    return _call("api_alipay_trade_query", out_trade_no=order_id)


def trade_close(order_id: str) -> Answer:
    """``alipay.trade.close``: a closed trade can't be paid any more."""
    return _call("api_alipay_trade_close", out_trade_no=order_id)


def trade_refund(order_id: str, trade_id: str, amount: Decimal, request_no: str) -> Answer:
    """``alipay.trade.refund`` of ``amount`` of trade ``trade_id``. Alipay refunds one
    ``out_request_no`` once: asking again with the same number answers success, moving no money."""
    return _call(
        "api_alipay_trade_refund",
        refund_amount=f"{amount:.2f}",
        out_trade_no=order_id,
        trade_no=trade_id,
        out_request_no=request_no,
    )


def page_pay_url(order_id: str, total_amount: Decimal, subject: str, *, time_expire: datetime | None = None) -> str:
    """An ``alipay.trade.page.pay`` request signed with the app key (RSA2), as a URL."""
    settings = get_settings()
    extra: dict[str, Any] = {}
    if time_expire is not None:
        # Alipay closes the trade itself at the moment our cleanup job would cancel the order.
        extra["time_expire"] = time_expire.strftime("%Y-%m-%d %H:%M:%S")
    query = get_alipay().api_alipay_trade_page_pay(
        subject=subject,
        out_trade_no=order_id,
        total_amount=f"{total_amount:.2f}",
        return_url=settings.alipay_return_url,
        notify_url=settings.alipay_notify_url,
        **extra,
    )
    return f"{gateway()}?{query}"


def verify_signature(params: dict[str, str]) -> bool:
    """True when ``params`` (Alipay's return or notification, ``sign`` included) carry a valid
    RSA2 signature by ``ALIPAY_PUBLIC_KEY``: every field but ``sign`` and ``sign_type``, sorted."""
    client = get_alipay()
    data = dict(params)
    signature = data.pop("sign", None)
    if not signature:
        return False
    if data.get("sign_type", "RSA2") != "RSA2":
        return False
    data.pop("sign_type", None)
    try:
        return bool(client.verify(data, signature))
    except Exception:  # noqa: BLE001 - bad base64, wrong length: not a valid signature
        return False
