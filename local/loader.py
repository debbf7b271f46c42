"""Load a function's Chalice app from ``functions/<name>/app.py``.

Every function has its own top-level ``chalicelib`` package (that is how Chalice packages
them), so several apps in one process would collide in ``sys.modules``. Each app is imported
with its own directory first on ``sys.path``, and its ``chalicelib`` modules are moved out of
``sys.modules`` afterwards: the app keeps its references, and the next app imports its own.
"""
from __future__ import annotations

import importlib.util
import sys
import threading

from .routes import FUNCTIONS_DIR

_lock = threading.Lock()
_apps: dict = {}


def load_app(name: str):
    with _lock:
        if name in _apps:
            return _apps[name]
        directory = FUNCTIONS_DIR / name
        saved = {k: v for k, v in sys.modules.items() if k == "chalicelib" or k.startswith("chalicelib.")}
        for key in saved:
            del sys.modules[key]
        sys.path.insert(0, str(directory))
        try:
            spec = importlib.util.spec_from_file_location(f"studyhub_function_{name}", directory / "app.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(directory))
            for key in [k for k in sys.modules if k == "chalicelib" or k.startswith("chalicelib.")]:
                sys.modules[f"studyhub_function_{name}.{key}"] = sys.modules.pop(key)
            sys.modules.update(saved)
        _apps[name] = module.app
        return module.app
