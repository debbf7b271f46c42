"""docs/reference.md is generated from the OpenAPI document (``studyhub openapi --markdown``), never
written by hand: the committed page must be what the generator prints today, name every operation
of the document, and carry what a frontend needs from it (auth, parameter bounds, body fields,
responses)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from local.reference_docs import REGENERATE, render_markdown
from studyhub.ops.cli import main

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference.md"
DOCUMENT = ROOT / "layers" / "common" / "studyhub" / "data" / "openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")


def printed_reference() -> str:
    result = CliRunner().invoke(main, ["openapi", "--markdown"])
    assert result.exit_code == 0, result.output
    return result.output


def test_committed_reference_is_what_the_generator_prints_today():
    assert printed_reference() == REFERENCE.read_text(encoding="utf-8"), (
        f"the OpenAPI document or the generator changed: run `{REGENERATE}` and commit docs/reference.md"
    )


def test_reference_says_it_is_generated_and_how_to_regenerate_it():
    head = REFERENCE.read_text(encoding="utf-8")[:1000]
    assert "GENERATED" in head
    assert REGENERATE in head


def test_every_operation_of_the_document_has_its_section_and_index_row():
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    page = REFERENCE.read_text(encoding="utf-8")
    count = 0
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                count += 1
                assert f"### {method.upper()} `{path}`" in page, (method, path)
                assert f"[{method.upper()} `{path}`](#" in page, (method, path)
    assert count == page.count("\n### GET `") + page.count("\n### POST `") + page.count("\n### PUT `") + page.count(
        "\n### PATCH `"
    ) + page.count("\n### DELETE `")
    for name in document["components"]["schemas"]:
        assert f"\n### {name}\n" in page, name


def small_document() -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1"},
        "servers": [{"url": "/api"}],
        "tags": [{"name": "things"}],
        "paths": {
            "/things/{id}": {
                "put": {
                    "tags": ["things"],
                    "summary": "修改",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
                        {
                            "name": "size",
                            "in": "query",
                            "description": "每页条数",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingIn"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingIn"}}},
                        },
                        "429": {"$ref": "#/components/responses/TooManyRequests"},
                    },
                    "security": [{"bearer": []}],
                },
                "get": {
                    "tags": ["things"],
                    "summary": "读",
                    "responses": {"200": {"description": "OK"}},
                    "security": [],
                },
            }
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"TooManyRequests": {"description": "太频繁", "headers": {"Retry-After": {}}, **error}},
            "schemas": {
                "ErrorBody": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]},
                "ThingIn": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 30, "description": "名称"},
                        "mobile": {"type": "string", "pattern": "^a|b$"},
                        "kind": {"enum": ["homework", "exam"], "type": "string", "default": "homework"},
                    },
                    "required": ["name"],
                },
            },
        },
    }


def test_an_operation_renders_auth_parameter_bounds_body_fields_and_responses():
    page = render_markdown(small_document())
    put = page[page.index("### PUT `/things/{id}`") :]
    assert "Auth: `bearer`: `Authorization: Bearer <token>`" in put
    assert "| `size` | query | integer (≥ 1, ≤ 100) | no | 每页条数 |" in put
    assert "Request body (required), `application/json`: [ThingIn](#thingin)" in put
    assert "| `name` | string (length 1–30) | yes | 名称 |" in put
    assert '| `kind` | string (one of `"homework"`, `"exam"`) | no | default `"homework"` |' in put
    assert "| `mobile` | string (pattern `^a\\|b$`) | no |" in put  # a pipe can't end the table cell
    assert "| 200 | `application/json` [ThingIn](#thingin) | OK |" in put
    assert "`429`" in put
    get = page[page.index("### GET `/things/{id}`") : page.index("### PUT `/things/{id}`")]
    assert "Auth: none (public)" in get
    assert "| `429` | 太频繁 | `Retry-After` |" in page


def test_methods_come_in_one_order_whatever_the_document_says():
    page = render_markdown(small_document())
    assert page.index("### GET `/things/{id}`") < page.index("### PUT `/things/{id}`")
