"""The request deadline: a request waits on its backing services for ``BACKEND_TIMEOUT_SECONDS``
in total, not that long per call.

The binder starts the clock when a request arrives; clients shorten each wait to what is left
(``bounded``). Outside a request (jobs, the command line) there is no deadline and every call
gets the whole per-call timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# A call that still starts after the deadline gets this long: it fails fast with the driver's own
# error (a timeout), which every client already maps to 503.
MINIMUM_WAIT = 0.05

_deadline: ContextVar[float | None] = ContextVar("studyhub_deadline", default=None)


@contextmanager
def running(seconds: float) -> Iterator[None]:
    """Every backend wait inside the block ends ``seconds`` from now at the latest."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the deadline (may be negative), or None outside a request."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def bounded(timeout: float) -> float:
    """``timeout``, shortened to the time left in the current request."""
    left = remaining()
    if left is None:
        return timeout
    return max(MINIMUM_WAIT, min(timeout, left))


def expired() -> bool:
    left = remaining()
    return left is not None and left <= 0
