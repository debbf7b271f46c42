"""``docs/reference.md``: the API reference rendered from the OpenAPI document, so the Markdown a
fresh clone carries can't drift from what the server declares. ``studyhub openapi --markdown``
prints it; tests/e2e/test_reference_docs.py checks the committed file is what it prints today.

Only the document is read (no app is loaded): every operation by group, with its auth,
parameters and their bounds, request body fields, responses; then every schema the operations
name. Output is deterministic (document order for groups and schemas, a fixed method order).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

from .openapi import COMMITTED

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference.md"
REGENERATE = "studyhub openapi --write && studyhub openapi --markdown > docs/reference.md"

METHODS = ("get", "post", "put", "patch", "delete")
MAX_SAFE_INTEGER = 2**53 - 1
Schema = Mapping[str, Any]


def committed_document() -> dict[str, Any]:
    """The copy shipped with the layer (``studyhub openapi --write`` refreshes it)."""
    document: dict[str, Any] = json.loads(COMMITTED.read_text(encoding="utf-8"))
    return document


def render_markdown(document: Mapping[str, Any]) -> str:
    lines: list[str] = []
    lines += _header(document)
    groups = _operations_by_group(document)
    anchors = [_anchor(path, method) for operations in groups.values() for path, method, _ in operations]
    if len(set(anchors)) != len(anchors):
        raise ValueError("two operations would share an anchor: change _anchor")
    lines += _contents(groups)
    for group, operations in groups.items():
        lines += ["", f"## {group}", ""]
        lines += _index(document, operations)
        for path, method, operation in operations:
            lines += _operation(document, path, method, operation)
    lines += _common_responses(document)
    lines += _schemas(document)
    return "\n".join(lines).rstrip("\n") + "\n"


# --- the page's parts -----------------------------------------------------------------------------


def _header(document: Mapping[str, Any]) -> list[str]:
    info = document.get("info", {})
    servers = document.get("servers") or [{"url": ""}]
    base = servers[0]["url"]
    lines = [
        f"# {info.get('title', 'API')} reference (version {info.get('version', '?')})",
        "",
        "<!-- GENERATED from layers/common/studyhub/data/openapi.json: do not edit by hand. -->",
        f"<!-- Regenerate after changing a route or a schema: {REGENERATE} -->",
        "",
        f"Generated from the OpenAPI {document.get('openapi', '')} document the server publishes at "
        f"`{base}/openapi.json` (interactive: `{base}/docs`). The guide that explains the rules behind it "
        "(auth, errors, pagination, roles) is [api-guide.md](api-guide.md).",
        "",
        f"Every path below is under `{base}` (e.g. `GET {base}/users/area`); a trailing slash is accepted. "
        "**Auth** `bearer` means `Authorization: Bearer <token>`; `none` means public.",
    ]
    description = info.get("description")
    if description:
        lines += ["", description.strip()]
    return lines


def _operations_by_group(document: Mapping[str, Any]) -> dict[str, list[tuple[str, str, Schema]]]:
    order = [tag["name"] for tag in document.get("tags", [])]
    groups: dict[str, list[tuple[str, str, Schema]]] = {name: [] for name in order}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            group = (operation.get("tags") or ["other"])[0]
            groups.setdefault(group, []).append((path, method, operation))
    return {name: operations for name, operations in groups.items() if operations}


def _contents(groups: Mapping[str, list[tuple[str, str, Schema]]]) -> list[str]:
    lines = ["", "## Contents", ""]
    for group, operations in groups.items():
        lines.append(f"- [{group}](#{group}): {len(operations)} operations")
    lines += ["- [Error responses](#error-responses)", "- [Schemas](#schemas): every request and response body"]
    return lines


def _index(document: Mapping[str, Any], operations: list[tuple[str, str, Schema]]) -> list[str]:
    lines = ["| operation | summary | auth |", "|---|---|---|"]
    for path, method, operation in operations:
        link = f"[{method.upper()} `{path}`](#{_anchor(path, method)})"
        summary = _cell(_rst_to_md(operation.get("summary", "")))
        lines.append(f"| {link} | {summary} | {_security(document, operation, short=True)} |")
    return [*lines, ""]


def _operation(document: Mapping[str, Any], path: str, method: str, operation: Schema) -> list[str]:
    lines = [f'<a id="{_anchor(path, method)}"></a>', "", f"### {method.upper()} `{path}`", ""]
    summary = operation.get("summary")
    if summary:
        lines += [f"**{_text(summary)}**", ""]
    description = operation.get("description")
    if description:
        lines += [_rst_to_md(description), ""]
    lines += [f"Auth: {_security(document, operation)}", ""]
    parameters = operation.get("parameters") or []
    if parameters:
        lines += ["| parameter | in | type and bounds | required | meaning |", "|---|---|---|---|---|"]
        for parameter in parameters:
            schema = parameter.get("schema", {})
            lines.append(
                f"| `{parameter['name']}` | {parameter['in']} | {_cell(_type(schema, document))} | "
                f"{'yes' if parameter.get('required') else 'no'} | "
                f"{_cell(_rst_to_md(parameter.get('description') or schema.get('description') or ''))} |"
            )
        lines.append("")
    body = operation.get("requestBody")
    if body:
        lines += _request_body(document, body)
    lines += _responses(document, operation.get("responses", {}))
    return lines


def _request_body(document: Mapping[str, Any], body: Schema) -> list[str]:
    lines: list[str] = []
    by_schema: dict[str, tuple[Schema, list[str]]] = {}
    for media_type, content in body.get("content", {}).items():
        schema = content.get("schema", {})
        key = json.dumps(schema, sort_keys=True)
        by_schema.setdefault(key, (schema, []))[1].append(media_type)
    for schema, media_types in by_schema.values():
        kinds = ", ".join(f"`{media_type}`" for media_type in media_types)
        name = _ref_name(schema)
        title = f"{kinds}: [{_title(document, name)}](#{name.lower()})" if name else kinds
        lines += [f"Request body ({'required' if body.get('required') else 'optional'}), {title}", ""]
        lines += _fields(document, _resolve(document, schema))
    return lines


def _responses(document: Mapping[str, Any], responses: Mapping[str, Any]) -> list[str]:
    """The operation's own answers in a table; the shared error answers (``#/components/responses``,
    all the ErrorBody shape) as one line of statuses, explained once under Error responses."""
    lines = ["| status | body | meaning |", "|---|---|---|"]
    shared: list[str] = []
    for status, response in responses.items():
        if _is_shared(response):
            shared.append("other" if status == "default" else f"`{status}`")
            continue
        resolved = _resolve(document, response)
        bodies = [
            f"`{media_type}` {_type(content.get('schema', {}), document)}".rstrip()
            for media_type, content in resolved.get("content", {}).items()
        ]
        meaning = _text(resolved.get("description", ""))
        headers = resolved.get("headers") or {}
        if headers:
            meaning += "; headers " + ", ".join(f"`{name}`" for name in headers)
        label = "other" if status == "default" else status
        lines.append(f"| {label} | {_cell('<br>'.join(bodies) or '—')} | {_cell(meaning)} |")
    lines.append("")
    if shared:
        lines += [f"Errors ([ErrorBody](#errorbody), see [Error responses](#error-responses)): {', '.join(shared)}", ""]
    return lines


def _is_shared(response: Schema) -> bool:
    ref = response.get("$ref")
    return isinstance(ref, str) and ref.startswith("#/components/responses/")


def _common_responses(document: Mapping[str, Any]) -> list[str]:
    responses = document.get("components", {}).get("responses", {})
    if not responses:
        return []
    lines = [
        "",
        "## Error responses",
        "",
        "Every error answers the same JSON body, [ErrorBody](#errorbody): `detail` for people, `code` for "
        "programs, `errors` (field → messages) on a `400`.",
        "",
        "| status | meaning | headers |",
        "|---|---|---|",
    ]
    statuses = _statuses_of_shared_responses(document)
    for name, response in responses.items():
        codes = statuses.get(name) or _status_named(name)
        status = ", ".join("other" if code == "default" else f"`{code}`" for code in codes) or name
        headers = ", ".join(f"`{header}`" for header in response.get("headers") or {}) or "—"
        lines.append(f"| {status} | {_cell(_rst_to_md(response.get('description', '')))} | {headers} |")
    return lines


def _status_named(name: str) -> list[str]:
    """A shared response no operation uses yet (405: the binder answers it for every route)."""
    return [str(status.value) for status in HTTPStatus if status.phrase.replace(" ", "") == name]


def _statuses_of_shared_responses(document: Mapping[str, Any]) -> dict[str, list[str]]:
    """Which status codes the operations answer with each shared response (``default``: other)."""
    found: dict[str, set[str]] = {}
    for item in document.get("paths", {}).values():
        for method in METHODS:
            for status, response in (item.get(method) or {}).get("responses", {}).items():
                if _is_shared(response):
                    found.setdefault(response["$ref"].rsplit("/", 1)[-1], set()).add(status)
    return {name: sorted(codes, key=lambda code: (code == "default", code)) for name, codes in found.items()}


def _schemas(document: Mapping[str, Any]) -> list[str]:
    schemas = document.get("components", {}).get("schemas", {})
    lines = ["", "## Schemas", ""]
    for name, schema in schemas.items():
        title = schema.get("title", name)
        lines += [f"### {name}", ""]
        if title != name:
            lines += [f"`{title}`", ""]
        if schema.get("description"):
            lines += [_rst_to_md(schema["description"]), ""]
        lines += _fields(document, schema)
    return lines


def _fields(document: Mapping[str, Any], schema: Schema) -> list[str]:
    properties = schema.get("properties")
    if not properties:
        return [f"Type: {_type(schema, document)}", ""]
    required = set(schema.get("required", []))
    lines = ["| field | type and bounds | required | meaning |", "|---|---|---|---|"]
    for field, field_schema in properties.items():
        meaning = _rst_to_md(field_schema.get("description", ""))
        if "default" in field_schema and field not in required:
            default = json.dumps(field_schema["default"], ensure_ascii=False)
            meaning = f"{meaning}; default `{default}`" if meaning else f"default `{default}`"
        lines.append(
            f"| `{field}` | {_cell(_type(field_schema, document))} | {'yes' if field in required else 'no'} | "
            f"{_cell(meaning)} |"
        )
    if schema.get("additionalProperties") is True:
        lines.append("| (any other) | | no | other fields are accepted |")
    return [*lines, ""]


# --- types ----------------------------------------------------------------------------------------


def _type(schema: Schema, document: Mapping[str, Any] | None = None) -> str:
    """A schema as one table cell: its type, then its bounds (lengths, ranges, pattern, enum)."""
    name = _ref_name(schema)
    if name:
        return f"[{_title(document, name)}](#{name.lower()})"
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf") or []
        return " or ".join(_type(option, document) for option in options)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        text = f"array of {_type(schema.get('items', {}), document)}"
    elif kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        text = f"object of string → {_type(schema['additionalProperties'], document)}"
    else:
        text = str(kind or "any")
    details = [schema["format"]] if schema.get("format") else []
    bounds = _bounds(schema)
    if bounds:
        details.append(bounds)
    return f"{text} ({'; '.join(details)})" if details else text


def _bounds(schema: Schema) -> str:
    parts: list[str] = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"`{json.dumps(value, ensure_ascii=False)}`" for value in schema["enum"]))
    if "const" in schema:
        parts.append(f"always `{json.dumps(schema['const'], ensure_ascii=False)}`")
    parts += _range(schema, "minLength", "maxLength", "length {}")
    parts += _range(schema, "minItems", "maxItems", "{} items")
    if "minimum" in schema:
        parts.append(f"≥ {_number(schema['minimum'])}")
    if "exclusiveMinimum" in schema:
        parts.append(f"> {_number(schema['exclusiveMinimum'])}")
    if "maximum" in schema:
        parts.append(f"≤ {_number(schema['maximum'])}")
    if "exclusiveMaximum" in schema:
        parts.append(f"< {_number(schema['exclusiveMaximum'])}")
    if "multipleOf" in schema:
        parts.append(f"multiple of {_number(schema['multipleOf'])}")
    if "pattern" in schema:
        parts.append(f"pattern `{schema['pattern']}`")
    return ", ".join(parts)


def _range(schema: Schema, low: str, high: str, template: str) -> list[str]:
    if low in schema and high in schema:
        span = str(schema[low]) if schema[low] == schema[high] else f"{schema[low]}–{schema[high]}"
        return [template.format(span)]
    if low in schema:
        return [template.format(f"≥ {schema[low]}")]
    if high in schema:
        return [template.format(f"≤ {schema[high]}")]
    return []


def _number(value: float) -> str:
    if value == MAX_SAFE_INTEGER:
        return "2^53−1"
    return str(value)


# --- helpers --------------------------------------------------------------------------------------


def _security(document: Mapping[str, Any], operation: Schema, short: bool = False) -> str:
    requirements = operation.get("security", document.get("security", []))
    if not requirements:
        return "none" if short else "none (public)"
    schemes = document.get("components", {}).get("securitySchemes", {})
    names = sorted({name for requirement in requirements for name in requirement})
    if short:
        return " or ".join(names)
    described = []
    for name in names:
        scheme = schemes.get(name, {})
        if scheme.get("type") == "http" and scheme.get("scheme") == "bearer":
            described.append(f"`{name}`: `Authorization: Bearer <token>`")
        else:
            described.append(f"`{name}`")
    return " or ".join(described)


def _ref_name(schema: Schema) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _title(document: Mapping[str, Any] | None, name: str) -> str:
    if document is None:
        return name
    schema = document.get("components", {}).get("schemas", {}).get(name, {})
    return str(schema.get("title", name))


def _resolve(document: Mapping[str, Any], node: Schema) -> Schema:
    """Follow local ``$ref`` chains (``#/components/...``)."""
    seen: set[str] = set()
    while isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
        ref = node["$ref"]
        seen.add(ref)
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _anchor(path: str, method: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"
    return f"{method}-{slug}"


def _rst_to_md(text: str) -> str:
    """Docstrings write code as ``x`` (reST); Markdown wants `x`. Lines joined into one paragraph."""
    return " ".join(line.strip() for line in text.replace("``", "`").splitlines() if line.strip())


def _text(text: str) -> str:
    return _rst_to_md(text)


def _cell(text: str) -> str:
    """A table cell: one line, pipes escaped (inside code spans too, as GitHub's tables need)."""
    return " ".join(text.splitlines()).replace("|", "\\|")
