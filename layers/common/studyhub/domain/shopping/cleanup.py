"""The shopping cleanup job (every 5 minutes, routes.yaml ``jobs:``), each part idempotent and safe
to run twice at once: expire unpaid orders (asking Alipay first), mark long-shipped orders
received, refund the payments flagged for refund."""

from __future__ import annotations

from typing import Any

from studyhub.core.db import run_in_transaction

from .fulfilment import receive_overdue
from .reconciliation import cancel_expired_orders
from .refunds import refund_pending


def run_cleanup() -> dict[str, Any]:
    cancelled = cancel_expired_orders()
    received = run_in_transaction(receive_overdue)
    refunds = refund_pending()
    return {
        "cancelled": cancelled,
        "received": received,
        "refunded": refunds.refunded,
        "refunds_refused": refunds.refused,
        "refunds_left": refunds.left,
    }
