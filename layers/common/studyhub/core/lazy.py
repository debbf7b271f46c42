"""A per-process object built on first use and forgotten by ``reset()``: every client of the
layer is one (a function's cold start builds only what its route touches; tests reset them
when they switch settings)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    def __init__(self, build: Callable[[], T], *, close: Callable[[T], None] | None = None) -> None:
        self._build = build
        self._close = close
        self._lock = threading.Lock()
        self._value: T | None = None

    def get(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
                value = self._value
        return value

    def peek(self) -> T | None:
        """The object if it was built, without building it."""
        return self._value

    def reset(self) -> None:
        with self._lock:
            value, self._value = self._value, None
        if value is not None and self._close is not None:
            self._close(value)
