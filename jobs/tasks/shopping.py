"""Shopping jobs: the scheduled cleanup of orders and payments (routes.yaml ``jobs:``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from studyhub.domain.shopping.task_names import CLEANUP


@shared_task(name=CLEANUP)
def cleanup() -> dict[str, Any]:
    """Cancel orders unpaid after ``ORDER_PAY_TIMEOUT_SECONDS`` (asking Alipay first), mark orders
    shipped ``ORDER_AUTO_RECEIVE_DAYS`` ago received, refund payments flagged for refund.

    Idempotent and safe to run twice at once: every change is a conditional UPDATE.
    """
    from studyhub.domain.shopping.cleanup import run_cleanup

    return run_cleanup()
