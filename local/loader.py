"""Load a function's Chalice app from ``functions/<name>/app.py``.

A function is just its ``app.py`` (its rules are in the layer, ``studyhub.domain.<group>``), so
each app is imported under its own module name, ``studyhub_function_<name>``, and kept.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from typing import Any

from studyhub.core.routing import FUNCTIONS_DIR

_lock = threading.Lock()
_apps: dict[str, Any] = {}


def load_app(name: str) -> Any:
    with _lock:
        if name in _apps:
            return _apps[name]
        spec = importlib.util.spec_from_file_location(f"studyhub_function_{name}", FUNCTIONS_DIR / name / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _apps[name] = module.app
        return module.app
