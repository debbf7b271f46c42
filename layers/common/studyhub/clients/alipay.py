"""Alipay (python-alipay-sdk): the signed page-pay URL and RSA2 verification of what Alipay sends.

Keys come from settings (PEM text, bare base64 as Alipay's key tool prints it, or ``@file``).
With no app id or keys configured every payment route answers ``503`` (``Unavailable("payment")``),
never a 500. The client is built on first use and kept per process; ``reset()`` forgets it.
"""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from studyhub.core.config import get_settings
from studyhub.core.errors import Unavailable
from studyhub.core.lazy import Lazy

log = logging.getLogger("studyhub.payments")

SANDBOX_GATEWAY = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
PRODUCTION_GATEWAY = "https://openapi.alipay.com/gateway.do"
PAID_TRADE_STATUSES = {"TRADE_SUCCESS", "TRADE_FINISHED"}


def _key_material(text: str) -> str | bytes:
    """PEM as is; Alipay's bare base64 key (no header lines) as DER bytes."""
    if "-----BEGIN" in text:
        return text
    return base64.b64decode("".join(text.split()))


def _build_client() -> Any:  # alipay.AliPay (python-alipay-sdk is untyped)
    settings = get_settings()
    if not (settings.alipay_app_id and settings.alipay_app_private_key and settings.alipay_public_key):
        raise Unavailable("payment", "支付服务未配置（payment），请稍后再试")
    from alipay import AliPay

    try:
        return AliPay(
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
    return SANDBOX_GATEWAY if get_settings().alipay_sandbox else PRODUCTION_GATEWAY


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
