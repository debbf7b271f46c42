"""What a route promises, declared beside it and read only by the OpenAPI generator.

``api.route(path, methods, body=..., response=..., ...)`` stores one ``RouteDoc`` per route in the
app's ``openapi_operations``; nothing here runs during a request (responses are not validated at
run time). Every per-method field takes either one value for all the route's methods or a
``{method: value}`` map, so a collection route can say ``body={"POST": ClassIn}``.

Bodies and responses are pydantic models, or a media-type string for what isn't JSON:

- ``body``: a model (JSON), ``FORM`` + model (``form=``: form-encoded fields), ``UPLOAD``
  (multipart with a binary ``file``);
- ``response``: a model, a tuple of models (any of them), ``list[Model]`` via ``many=``,
  ``PNG``/``TEXT``/``CSV``/``HTML``/``ASSET``/``OPENAPI`` for other content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

AUTH_BEARER = "bearer"
AUTH_NONE = "none"
UPLOAD = "multipart/form-data"
# What an upload's ``file`` may be: checked by content (domain/images.py IMAGE_FORMATS), else 415.
UPLOAD_IMAGE_TYPES = "image/jpeg, image/png, image/gif"
FORM = "application/x-www-form-urlencoded"
PNG = "image/png"
TEXT = "text/plain"
CSV = "text/csv"
HTML = "text/html"
ASSET = "application/octet-stream"  # a static file: its own type (JavaScript, CSS, PNG)
OPENAPI = "application/vnd.oai.openapi+json"  # served as application/json: an OpenAPI document


def for_method(value: Any, method: str, default: Any = None) -> Any:
    """A per-method field's value for ``method``."""
    if isinstance(value, dict) and all(isinstance(k, str) and k.isupper() for k in value):
        return value.get(method, default)
    return default if value is None else value


@dataclass(frozen=True)
class RouteDoc:
    """A route's contract: all optional, so an undocumented route still gets an operation."""

    summary: str | dict[str, str] = ""
    description: str = ""  # defaults to the view's docstring
    auth: str | dict[str, str] = AUTH_BEARER
    body: Any = None  # model | media type | {method: ...}
    form: Any = None  # the fields of a FORM body (a model)
    response: Any = None  # model | (models,) | media type | {method: ...}
    many: bool | dict[str, bool] = False  # a JSON list of ``response`` (not paginated)
    paginated: bool | dict[str, bool] = False  # ``Page[response]`` and the page/size/limit/offset parameters
    status: int | tuple[int, ...] | dict[str, int] = 200  # the success status (201, 202, 204), or several
    query: Any = None  # a model of the query parameters (filters), or {method: model}
    errors: tuple[int, ...] | dict[str, tuple[int, ...]] = ()  # besides those implied (400, 401, 404, 503)
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)  # non-id path parameters' schemas
    tags: tuple[str, ...] = ()

    @classmethod
    def of(cls, view: Callable[..., Any], contract: dict[str, Any]) -> RouteDoc:
        doc = cls(**contract)
        if not doc.description and view.__doc__:
            object.__setattr__(doc, "description", " ".join(view.__doc__.split()))
        return doc


@dataclass(frozen=True)
class Operation:
    """One registered route: its path, methods, the parameters the binder parses as ids, its doc."""

    path: str
    methods: tuple[str, ...]
    view: str
    ids: frozenset[str]
    doc: RouteDoc
