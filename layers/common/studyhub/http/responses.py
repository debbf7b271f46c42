"""JSON in the contract's form, and the small result types a view may return."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from chalice import Response

from studyhub.core import errors
from studyhub.core.times import isoformat

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, default=_default, separators=(",", ":"))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=dumps(body), status_code=status, headers={"Content-Type": JSON_TYPE, **(headers or {})})


def text_response(body: str, status: int = 200) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": TEXT_TYPE})


def download_response(body: str, filename: str, media_type: str) -> Response:
    """A file to save (``Content-Disposition: attachment``): the name in UTF-8 (RFC 6266's
    ``filename*``) and an ASCII stand-in for clients that read only ``filename``."""
    from urllib.parse import quote

    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(
        body=body, status_code=200, headers={"Content-Type": media_type, "Content-Disposition": disposition}
    )


def error_response(error: errors.StudyHubError, request_id: str | None = None) -> Response:
    headers = dict(error.headers())
    if request_id:
        headers["X-Request-Id"] = request_id
    if error.text is not None:
        return Response(body=error.text, status_code=error.status, headers={"Content-Type": TEXT_TYPE, **headers})
    return json_response(error.body(), error.status, headers)


class Created:
    """A view's ``201`` with a JSON body."""

    def __init__(self, body: Any) -> None:
        self.body = body


class NoContent:
    """A view's ``204``."""


def to_response(result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Created):
        return json_response(result.body, 201)
    if isinstance(result, NoContent):
        return Response(body="", status_code=204, headers={})
    return json_response(result)
