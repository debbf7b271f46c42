"""Shopping jobs: the scheduled cleanup of unpaid orders (routes.yaml ``jobs:``)."""

from __future__ import annotations

from celery import shared_task

from studyhub.domain.shopping.task_names import CLEANUP


@shared_task(name=CLEANUP)
def cleanup() -> int:
    """Cancel orders unpaid after ``ORDER_PAY_TIMEOUT_SECONDS`` and give their stock back.

    Idempotent and safe to run twice at once: each order is cancelled by a conditional UPDATE.
    """
    from studyhub.domain.shopping.orders import cancel_expired_orders

    return cancel_expired_orders()
