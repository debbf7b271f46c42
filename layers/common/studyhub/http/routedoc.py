"""What a route promises, declared beside it and read only by the OpenAPI generator.

``api.route(path, methods, body=..., response=..., ...)`` stores one ``RouteDoc`` per route in the
app's ``openapi_operations``; nothing here runs during a request (responses are not validated at
run time). Every per-method field takes either one value for all the route's methods or a
``{method: value}`` map, so a collection route can say ``body={"POST": "ClassIn"}``.

Bodies and responses are pydantic models, named by a string, or a media-type string for what
isn't JSON:

- ``body``: a model (JSON), ``FORM`` + model (``form=``: form-encoded fields), ``UPLOAD``
  (multipart with a binary ``file``);
- ``response``: a model, a tuple of models (any of them), ``list[Model]`` via ``many=``,
  ``PNG``/``TEXT``/``CSV``/``HTML``/``ASSET``/``OPENAPI`` for other content;
- ``query``: a model of the query parameters (filters).

**Models by name.** A declaration names its model (``response="TopicPublic"``), it does not
import it: a function's ``import app`` then loads no schema module and no pydantic (~60 ms of a
cold start), and only a view that validates a body or a filter imports them, on first use
(``schemas = lazy_module(...)``, ``req.parse(schemas.TopicIn)``). A string with a ``/`` is a
media type, any other string is a model's name (an identifier). Names are resolved when the
document is built (``resolve_doc``: the OpenAPI generator, and the SnapStart preload that builds
the request models), first in the modules the function declares (``StudyHubApp.schemas``, e.g.
``("studyhub.domain.work.schemas",)``; users and shopping add ``"studyhub.domain.schema"`` for
``FileUrlPublic``), then in ``SHARED_SCHEMAS`` (``HealthPublic``, ``DiscoveryPublic``). A name
found nowhere, or naming something that is not a pydantic model, raises ``UnknownSchema`` with the
route and the name: the document is never generated with a wrong or missing schema. A model
class may still be passed where its import costs nothing (a script, a test).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

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

# Where a model named by a string is looked up after the modules the function declares.
SHARED_SCHEMAS = ("studyhub.http.openapi_models",)
MODEL_FIELDS = ("body", "form", "response", "query")  # the fields that may name a model


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
    body: Any = None  # model (or its name) | media type | {method: ...}
    form: Any = None  # the fields of a FORM body (a model or its name)
    response: Any = None  # model (or its name) | (models,) | media type | {method: ...}
    many: bool | dict[str, bool] = False  # a JSON list of ``response`` (not paginated)
    paginated: bool | dict[str, bool] = False  # ``Page[response]`` and the page/size/limit/offset parameters
    status: int | tuple[int, ...] | dict[str, int] = 200  # the success status (201, 202, 204), or several
    query: Any = None  # a model (or its name) of the query parameters (filters), or {method: model}
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


class UnknownSchema(LookupError):
    """A route names a model that its function's schema module and the shared ones don't hold."""


def is_media_type(value: str) -> bool:
    """``"image/png"``, ``FORM``, ``OPENAPI``: a media type; ``"TopicIn"``: a model's name."""
    return "/" in value


def schema_modules(app: Any) -> tuple[str, ...]:
    """Where ``app``'s routes' model names are looked up, in order."""
    own: tuple[str, ...] = getattr(app, "schemas", ())
    return own + SHARED_SCHEMAS


def resolve_schema(name: str, modules: Sequence[str], *, where: str) -> type[BaseModel]:
    """The pydantic model named ``name`` in the first of ``modules`` that holds the name (each
    imported here: a function's ``app.py`` names them, the layer imports no group's module)."""
    from pydantic import BaseModel

    if not name.isidentifier():
        raise UnknownSchema(f"{where}: {name!r} is neither a media type (type/subtype) nor a model's name")
    for module in modules:
        found = getattr(import_module(module), name, None)
        if found is None:
            continue
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
        raise UnknownSchema(f"{where}: {name!r} in {module} is not a pydantic model")
    raise UnknownSchema(f"{where}: no model named {name!r} in {', '.join(modules)}")


def resolve_doc(doc: RouteDoc, modules: Sequence[str], *, where: str) -> RouteDoc:
    """``doc`` with every model name of its ``MODEL_FIELDS`` replaced by the model; media types
    and classes stay as they are. ``where`` (the route) starts the error's message."""

    def resolved(value: Any, label: str) -> Any:
        if isinstance(value, str):
            return value if is_media_type(value) else resolve_schema(value, modules, where=label)
        if isinstance(value, tuple):
            return tuple(resolved(item, label) for item in value)
        if isinstance(value, dict) and all(isinstance(k, str) and k.isupper() for k in value):
            return {method: resolved(item, f"{label}[{method}]") for method, item in value.items()}
        return value

    changes = {name: resolved(getattr(doc, name), f"{where} {name}") for name in MODEL_FIELDS}
    return replace(doc, **changes)
