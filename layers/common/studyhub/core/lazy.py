"""Things built on first use, so a function's cold start pays only for what its route touches.

``Lazy``: a per-process object built on first use and forgotten by ``reset()`` (every client of
the layer is one; tests reset them when they switch settings). ``lazy_module``/``lazy_function``:
a module imported on first use (a function's route modules, see functions/*/app.py)."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any, Generic, TypeVar

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


class LazyModule(ModuleType):
    """A module imported on its first attribute read: a function's route modules (and the ORM,
    models and drivers they pull in) load when a route that needs them first runs, not at cold
    start. Every read goes to the real module, so what a test patches there is what routes see."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_target"] = None
        _declared.append(self)

    def _import(self) -> ModuleType:
        module = self.__dict__["_lazy_target"]
        if module is None:  # import_module holds the import lock: two threads get one module
            module = self.__dict__["_lazy_target"] = importlib.import_module(self.__name__)
        return module

    def __getattr__(self, attr: str) -> Any:  # called only for names not set on the proxy itself
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)  # copy/pickle/inspect probing: no import for them
        return getattr(self._import(), attr)


_declared: list[LazyModule] = []


def import_declared() -> list[str]:
    """Import every module declared lazy so far, and their names (Lambda SnapStart: the snapshot
    then holds them, see studyhub.http.snapstart)."""
    for module in list(_declared):
        module._import()
    return sorted({module.__name__ for module in _declared})


def lazy_module(name: str) -> Any:
    """``topics = lazy_module("studyhub.domain.work.topics")`` at the top of a function's app.py:
    ``topics.list_query(...)`` imports the module on its first use. ``Any``, as a module is."""
    return LazyModule(name)


def lazy_function(module: str, name: str) -> Callable[..., Any]:
    """One function of a module imported on its first call: ``now = lazy_function(mod, "now")``."""
    proxy = LazyModule(module)

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(proxy, name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call
