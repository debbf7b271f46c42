"""What the meta function serves: the discovery answer, the committed OpenAPI document and the
Swagger UI page, whose assets come from the ``swagger-ui-bundle-v2`` package installed with the
project (never a CDN: schools run offline networks).

The document is the copy shipped with the layer (``studyhub/data/openapi.json``, written by
``studyhub openapi``), so no front door has to import every function to serve it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from studyhub.core import errors
from studyhub.http.request import PUBLIC_PREFIX

DOCUMENT = Path(__file__).resolve().parents[1] / "data" / "openapi.json"
OPENAPI_URL = f"{PUBLIC_PREFIX}/openapi.json"
DOCS_URL = f"{PUBLIC_PREFIX}/docs"
META_GROUP = "meta"
# The files the page loads (text only: no binary type to negotiate), and their types; nothing
# else of the package is served.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
}
# Their media types, as the OpenAPI document lists them for the asset route.
ASSET_TYPES = tuple(sorted({content_type.split(";")[0] for content_type in ASSETS.values()}))

PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>StudyHub API</title>
  <link rel="stylesheet" href="{docs}/swagger-ui.css">
  <style>body {{ margin: 0; }}</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{docs}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{openapi}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      displayRequestDuration: true,
      validatorUrl: null
    }});
  </script>
</body>
</html>
"""


@lru_cache(maxsize=1)
def document_bytes() -> bytes:
    try:
        return DOCUMENT.read_bytes()
    except FileNotFoundError:
        raise errors.NotFound("OpenAPI 文档未生成（studyhub openapi）") from None


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(document_bytes())
    return loaded


def discovery() -> dict[str, Any]:
    document = _document()
    groups = [tag["name"] for tag in document.get("tags", []) if tag["name"] != META_GROUP]
    return {
        "name": "StudyHub",
        "version": document["info"]["version"],
        "groups": groups,
        "openapi": OPENAPI_URL,
        "docs": DOCS_URL,
    }


def page() -> str:
    return PAGE.format(docs=DOCS_URL, openapi=OPENAPI_URL)


def asset(name: str) -> tuple[bytes, str]:
    """One of the page's files, and its type; anything else is 404."""
    if name not in ASSETS:
        raise errors.NotFound()
    from swagger_ui_bundle import swagger_ui_path

    return (Path(str(swagger_ui_path)) / name).read_bytes(), ASSETS[name]
