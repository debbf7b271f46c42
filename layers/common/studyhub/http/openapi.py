"""The OpenAPI 3.1 document of every route of every function, generated, never hand-written.

Routes come from routes.yaml (``studyhub.core.routing``); what each promises comes from its app's
``openapi_operations`` (``api.route(..., body=, response=, ...)``, ``routedoc.py``); schemas come
from the pydantic models themselves, so the document states the limits the server enforces.
Models a route names by a string (``response="TopicPublic"``) are resolved here, in the app's
schema module and then the shared ones (``routedoc.resolve_doc``); an unknown name is an error.
The apps are handed in (``local/openapi.py`` loads them): the layer never imports a function.

Every operation lists its success answer, the errors it can give (``400`` with the ``errors``
map, ``401``, ``403``, ``404``, ``409``, ``413``, ``415``, ``429`` with ``Retry-After``, ``503``)
and a ``default`` error, all in the one ``ErrorBody`` shape. Output is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Literal

from pydantic import BaseModel

from studyhub.core.routing import Routing
from studyhub.http import routedoc
from studyhub.http.openapi_models import ErrorBody, Page, PageQuery
from studyhub.http.params import MAX_ID
from studyhub.http.routedoc import AUTH_BEARER, Operation, RouteDoc, for_method, resolve_doc, schema_modules

REF = "#/components/schemas/{model}"
Mode = Literal["validation", "serialization"]
JSON = "application/json"
BEARER = "bearer"
METHOD_ORDER = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
BINARY = {"type": "string", "format": "binary"}

# Errors every front door documents once (components/responses), referenced by each operation.
ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "请求参数有误：`errors` 按字段列出原因"),
    401: ("Unauthorized", "未登录或令牌无效（`WWW-Authenticate: Bearer`）"),
    403: ("Forbidden", "已登录但无权限"),
    404: ("NotFound", "不存在，或不是你的"),
    405: ("MethodNotAllowed", "不支持的请求方法（`Allow` 列出支持的方法）"),
    409: ("Conflict", "状态冲突"),
    413: ("PayloadTooLarge", "请求体过大"),
    415: ("UnsupportedMediaType", "不支持的媒体类型"),
    429: ("TooManyRequests", "请求过于频繁（`Retry-After` 秒后再试）"),
    503: ("ServiceUnavailable", "依赖的服务（数据库、缓存、搜索、存储、队列）不可用"),
}
MEDIA_SCHEMAS: dict[str, dict[str, Any]] = {
    routedoc.PNG: BINARY,
    routedoc.TEXT: {"type": "string", "examples": ["success"]},
    routedoc.CSV: {"type": "string"},
    routedoc.HTML: {"type": "string"},
    routedoc.ASSET: BINARY,
    routedoc.OPENAPI: {"type": "object", "description": "An OpenAPI 3.1 document (this one)."},
}
MEDIA_TYPES = {routedoc.OPENAPI: JSON}  # documented type → the Content-Type sent

DESCRIPTION = """\
StudyHub 的 HTTP 接口：每个分组（users、school、work、community、shopping）一个函数，统一发布在 `/api` 下。

- **认证**：`Authorization: Bearer <token>`（`JWT` 作同义词）；令牌来自 `POST /api/users/login`（先取图片验证码）。
- **错误**：一律为 JSON `{"detail", "code", "errors"?}`；`400` 的 `errors` 按字段列出原因。
- **分页**：`page`/`size` 或 `limit`/`offset`，答 `{count, next, previous, results}`。
- **路径**：末尾斜杠可有可无；未知路径 `404`、不支持的方法 `405`，同样是 JSON。
"""


def build_document(routing: Routing, apps: Mapping[str, Any], *, version: str) -> dict[str, Any]:
    """The document for ``routing``'s functions; ``apps[name]`` is each function's Chalice app."""
    builder = _Builder()
    for name, function in routing.functions.items():
        registered = _registered(name, apps[name])
        for path, methods in function.routes:
            for method in methods:
                operation = registered.get((path, method))
                if operation is None:
                    raise ValueError(f"{name}: {method} {path} is in routes.yaml but not registered by the app")
                builder.add(name, path, method, operation)
    return builder.document(list(routing.functions), version)


def _registered(name: str, app: Any) -> dict[tuple[str, str], Operation]:
    """The app's operations by ``(path, method)``, with the models they name resolved."""
    modules = schema_modules(app)
    found: dict[tuple[str, str], Operation] = {}
    for operation in getattr(app, "openapi_operations", []):
        where = f"{name}: {','.join(operation.methods)} {operation.path} ({operation.view})"
        operation = replace(operation, doc=resolve_doc(operation.doc, modules, where=where))
        for method in operation.methods:
            found[(operation.path, method)] = operation
    return found


class _Builder:
    def __init__(self) -> None:
        self.paths: dict[str, dict[str, Any]] = {}
        self.models: dict[tuple[type[BaseModel], Mode], None] = {(ErrorBody, "serialization"): None}
        self.pending: list[tuple[dict[str, Any], str, type[BaseModel], Mode]] = []  # (target, key, model, mode)
        self.operation_ids: set[str] = set()

    # models are referenced first and resolved once, together (one set of $defs) ---------------
    def ref(self, model: type[BaseModel], mode: Mode) -> dict[str, Any]:
        self.models[(model, mode)] = None
        target: dict[str, Any] = {}
        self.pending.append((target, "$ref", model, mode))
        return target

    def add(self, group: str, path: str, method: str, operation: Operation) -> None:
        doc = operation.doc
        op_id = f"{group}_{operation.view}_{method.lower()}"
        if op_id in self.operation_ids:
            raise ValueError(f"two operations named {op_id}")
        self.operation_ids.add(op_id)
        body = for_method(doc.body, method)
        query = for_method(doc.query, method)
        paginated = bool(for_method(doc.paginated, method, False))
        params = self.path_parameters(path, operation) + self.query_parameters(query, paginated)
        entry: dict[str, Any] = {"tags": [group], "operationId": op_id}
        summary = for_method(doc.summary, method, "")
        if summary:
            entry["summary"] = summary
        if doc.description:
            entry["description"] = doc.description
        if params:
            entry["parameters"] = params
        if body is not None:
            entry["requestBody"] = self.request_body(body, for_method(doc.form, method))
        entry["responses"] = self.responses(doc, method, path, body=body, has_query=bool(params))
        entry["security"] = [{BEARER: []}] if for_method(doc.auth, method, AUTH_BEARER) == AUTH_BEARER else []
        self.paths.setdefault(path, {})[method.lower()] = entry

    # parameters ----------------------------------------------------------------------------
    @staticmethod
    def path_parameters(path: str, operation: Operation) -> list[dict[str, Any]]:
        params = []
        for part in path.split("/"):
            if not (part.startswith("{") and part.endswith("}")):
                continue
            name = part[1:-1]
            schema = ID_SCHEMA if name in operation.ids else operation.doc.path_params.get(name, {"type": "string"})
            params.append({"name": name, "in": "path", "required": True, "schema": dict(schema)})
        return params

    @staticmethod
    def query_parameters(query: Any, paginated: bool) -> list[dict[str, Any]]:
        models = [m for m in (query, PageQuery if paginated else None) if m is not None]
        params = []
        for model in models:
            schema = model.model_json_schema(mode="validation")
            required = set(schema.get("required", []))
            for name, prop in schema.get("properties", {}).items():
                prop = _not_null(prop)
                param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
                description = prop.pop("description", None)
                prop.pop("title", None)
                prop.pop("default", None)
                if description:
                    param["description"] = description
                param["schema"] = prop
                params.append(param)
        return params

    # bodies --------------------------------------------------------------------------------
    def request_body(self, body: Any, form: Any) -> dict[str, Any]:
        if body == routedoc.UPLOAD:
            schema = {"type": "object", "properties": {"file": dict(BINARY)}, "required": ["file"]}
            encoding = {"file": {"contentType": routedoc.UPLOAD_IMAGE_TYPES}}
            return {"required": True, "content": {routedoc.UPLOAD: {"schema": schema, "encoding": encoding}}}
        if body == routedoc.FORM:
            return {"required": True, "content": {routedoc.FORM: {"schema": self.ref(form, "validation")}}}
        # A missing body is read as an empty object: required only when the model has a required
        # field (a PATCH without a body changes nothing, like DRF's partial update).
        required = any(f.is_required() for f in body.model_fields.values())
        return {"required": required, "content": {JSON: {"schema": self.ref(body, "validation")}}}

    def content(self, kind: Any, *, many: bool = False, paginated: bool = False) -> dict[str, Any]:
        if isinstance(kind, str):
            return {MEDIA_TYPES.get(kind, kind): {"schema": dict(MEDIA_SCHEMAS[kind])}}
        if isinstance(kind, tuple) and all(isinstance(k, str) for k in kind):  # static files, each its own type
            return {k: {"schema": {"type": "string"}} for k in kind}
        if kind is None:
            return {JSON: {"schema": {}}}
        models = kind if isinstance(kind, tuple) else (kind,)
        if paginated:
            models = tuple(Page[m] for m in models)  # type: ignore[valid-type]
        refs = [self.ref(m, "serialization") for m in models]
        schema: dict[str, Any] = refs[0] if len(refs) == 1 else {"anyOf": refs}
        if many:
            schema = {"type": "array", "items": schema}
        return {JSON: {"schema": schema}}

    def responses(self, doc: RouteDoc, method: str, path: str, *, body: Any, has_query: bool) -> dict[str, Any]:
        status = for_method(doc.status, method, 200)
        statuses = status if isinstance(status, tuple) else (status,)  # (201, 200): created, or found again
        kind = for_method(doc.response, method)
        out: dict[str, Any] = {}
        for code in statuses:
            success: dict[str, Any] = {"description": _STATUS_TEXT.get(code, "OK")}
            if code != 204:
                many = bool(for_method(doc.many, method, False))
                paginated = bool(for_method(doc.paginated, method, False))
                success["content"] = self.content(kind, many=many, paginated=paginated)
            out[str(code)] = success
        for code in sorted(_error_statuses(doc, method, path, body=body, has_query=has_query)):
            if kind == routedoc.TEXT and code == 400:  # the webhook answers its refusal in text
                out["400"] = {"description": "failure", "content": self.content(routedoc.TEXT)}
            elif code == 503 and _health(doc):  # health answers its own shape, checks marked
                out["503"] = {"description": "检查未通过", "content": self.content(kind)}
            else:
                out[str(code)] = {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
        out["default"] = {"$ref": "#/components/responses/Error"}
        return out

    # the whole document ----------------------------------------------------------------------
    def document(self, groups: list[str], version: str) -> dict[str, Any]:
        from pydantic.json_schema import models_json_schema

        keys, defs = models_json_schema(list(self.models), ref_template=REF)
        for target, field, model, mode in self.pending:
            target[field] = keys[(model, mode)]["$ref"]
        schemas = defs.get("$defs", {})
        error_ref = keys[(ErrorBody, "serialization")]["$ref"]
        return {
            "openapi": "3.1.0",
            "info": {"title": "StudyHub API", "version": version, "description": DESCRIPTION},
            "servers": [{"url": "/api"}],
            "tags": [{"name": g} for g in groups],
            "paths": {p: _ordered(self.paths[p]) for p in sorted(self.paths)},
            "components": {
                "schemas": {k: schemas[k] for k in sorted(schemas)},
                "responses": _error_responses(error_ref),
                "securitySchemes": {
                    BEARER: {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                        "description": "`POST /api/users/login` 返回的 token；`JWT <token>` 亦可。",
                    }
                },
            },
        }


_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content"}


def _health(doc: RouteDoc) -> bool:
    from studyhub.http.openapi_models import HealthPublic

    return doc.response is HealthPublic


def _error_statuses(doc: RouteDoc, method: str, path: str, *, body: Any, has_query: bool) -> set[int]:
    codes = set(for_method(doc.errors, method, ()))
    codes.add(503)
    if for_method(doc.auth, method, AUTH_BEARER) == AUTH_BEARER:
        codes.add(401)
    if "{" in path:
        codes.add(404)
    if body is not None:
        codes |= {400, 413, 415}
    if has_query:
        codes.add(400)
    return codes


def _error_responses(error_ref: str) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for code, (name, text) in sorted(ERRORS.items()):
        response: dict[str, Any] = {"description": text, "content": {JSON: {"schema": {"$ref": error_ref}}}}
        if code == 401:
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string", "examples": ["Bearer"]}}}
        elif code == 405:
            response["headers"] = {"Allow": {"schema": {"type": "string"}}}
        elif code == 429:
            response["headers"] = {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 0}}}
        responses[name] = response
    responses["Error"] = {"description": "任何其他错误", "content": {JSON: {"schema": {"$ref": error_ref}}}}
    return responses


def _ordered(operations: dict[str, Any]) -> dict[str, Any]:
    return {m.lower(): operations[m.lower()] for m in METHOD_ORDER if m.lower() in operations}


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """``int | None`` → the ``int`` branch: an absent query parameter is the "none"."""
    options: Iterable[dict[str, Any]] = prop.get("anyOf", ())
    kept = [o for o in options if o.get("type") != "null"]
    if len(kept) == 1:
        rest = {k: v for k, v in prop.items() if k != "anyOf"}
        return {**kept[0], **rest}
    return dict(prop)
