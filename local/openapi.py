"""The OpenAPI document of this checkout: every function's app loaded (``loader.py``) and handed
to the layer's generator. ``studyhub openapi`` prints it; the committed copy shipped with the
layer (``studyhub/data/openapi.json``) must equal it (tests/e2e/test_openapi.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import studyhub

COMMITTED = Path(studyhub.__file__).resolve().parent / "data" / "openapi.json"


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("studyhub")
    except PackageNotFoundError:  # a checkout used without installing it
        return "0.0.0"


def document() -> dict[str, Any]:
    from studyhub.core.routing import load_routing
    from studyhub.http.openapi import build_document

    from .loader import load_app

    routing = load_routing()
    apps = {name: load_app(name) for name in routing.functions}
    return build_document(routing, apps, version=package_version())


def render() -> str:
    """The document as committed: UTF-8 JSON, two-space indent, Chinese unescaped, final newline."""
    return json.dumps(document(), ensure_ascii=False, indent=2) + "\n"
