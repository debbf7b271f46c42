"""The API reference (issue 12, API.md §1 Discovery): the OpenAPI 3.1 document generated from
routes.yaml and each route's contract, the committed copy the front doors serve, ``/api/``,
``/api/openapi.json`` and ``/api/docs`` through the local front door, answers that match their
documented schemas, and a typed client generated from the document.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from shopping_fixtures import buy, make_commodity

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "layers" / "common" / "studyhub" / "data" / "openapi.json"
ERROR_REF = "#/components/schemas/ErrorBody"
METHODS = {"get", "put", "post", "delete", "patch"}


def committed() -> dict[str, Any]:
    return json.loads(COMMITTED.read_text(encoding="utf-8"))


def operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


# --- the document itself -------------------------------------------------------------------


def test_committed_document_is_what_the_generator_prints_today(platform):
    from click.testing import CliRunner

    from studyhub.ops.cli import main

    result = CliRunner().invoke(main, ["openapi"])
    assert result.exit_code == 0, result.output
    assert result.output == COMMITTED.read_text(encoding="utf-8"), (
        "a route or a schema changed: run `studyhub openapi --write` and commit studyhub/data/openapi.json"
    )


def test_document_is_valid_openapi_3_1():
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    document = committed()
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)
    from importlib.metadata import version

    assert document["info"]["version"] == version("studyhub")
    assert document["servers"] == [{"url": "/api"}]


def test_every_route_of_routes_yaml_is_documented_with_its_methods_and_nothing_else():
    from studyhub.core.routing import load_routing

    expected = {
        (path, method.lower())
        for fn in load_routing().functions.values()
        for path, methods in fn.routes
        for method in methods
    }
    documented = {(path, method) for path, method, _ in operations(committed())}
    assert documented == expected


def test_every_ref_in_the_document_resolves():
    document = committed()
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert len(refs) > 100
    for ref in set(refs):
        resolve(document, ref)  # KeyError names the broken one


def test_every_operation_documents_its_errors_in_the_one_error_shape():
    document = committed()
    error = resolve(document, ERROR_REF)
    assert set(error["required"]) == {"detail", "code"}
    assert error["properties"]["errors"]["anyOf"][0]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }
    for name, response in document["components"]["responses"].items():
        assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, name
    retry_after = document["components"]["responses"]["TooManyRequests"]["headers"]["Retry-After"]
    assert retry_after["required"] is True
    assert "WWW-Authenticate" in document["components"]["responses"]["Unauthorized"]["headers"]
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        assert responses["default"] == {"$ref": "#/components/responses/Error"}, where
        assert any(code.startswith("2") for code in responses), where
        assert "503" in responses, where
        if operation["security"]:
            assert operation["security"] == [{"bearer": []}], where
            assert responses["401"] == {"$ref": "#/components/responses/Unauthorized"}, where
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(responses), where
        if "{" in path:
            assert "404" in responses, where


def test_security_is_bearer_jwt_except_where_anyone_may_call():
    document = committed()
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    public = {(path, method) for path, method, op in operations(document) if op["security"] == []}
    for anyone in [
        ("/users/login", "post"),
        ("/users/image/verification/{uuid}", "get"),
        ("/users/area", "get"),
        ("/shopping/commodities", "get"),
        ("/shopping/payments/notify", "post"),
        ("/", "get"),
        ("/openapi.json", "get"),
        ("/docs", "get"),
    ]:
        assert anyone in public
    for signed_in in [("/users/users", "get"), ("/work/topics", "get"), ("/shopping/commodities", "post")]:
        assert signed_in not in public


def test_path_ids_and_pagination_carry_the_servers_bounds():
    document = committed()
    for path, method, operation in operations(document):
        params = {p["name"]: p for p in operation.get("parameters", [])}
        if path == "/shopping/payments/{id}/pay":
            # an order id (26 digits) where the sibling detail route has a payment id: API Gateway
            # allows one variable name per path level
            assert params["id"]["schema"]["pattern"] == "^[0-9]{1,32}$"
        elif "{id}" in path:
            assert params["id"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**53 - 1}, path
        if "page" in params:
            assert params["page"]["schema"]["minimum"] == 1 and params["page"]["schema"]["maximum"] == 10_000
            assert params["size"]["schema"]["minimum"] == 1 and params["limit"]["schema"]["minimum"] == 1
            assert params["offset"]["schema"]["minimum"] == 0
            schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
            page = resolve(document, schema["$ref"])
            assert set(page["required"]) == {"count", "next", "previous", "results"}, f"{method} {path}"
    topics = {p["name"]: p for p in document["paths"]["/work/topics"]["get"]["parameters"]}
    assert topics["type"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 4}
    assert topics["label"]["schema"]["minimum"] == 1


def test_request_bodies_state_the_limits_the_server_enforces():
    schemas = committed()["components"]["schemas"]
    assert schemas["UserCreate"]["properties"]["password"]["minLength"] == 8
    assert schemas["AddressIn"]["properties"]["mobile"]["pattern"] == r"^1[3-9]\d{9}$"
    assert schemas["TopicIn"]["properties"]["type"] == {"maximum": 4, "minimum": 0, "title": "Type", "type": "integer"}
    assert schemas["OrderIn"]["properties"]["pay_method"]["enum"] == [1, 2]
    assert schemas["CommentIn"]["properties"]["article"]["minimum"] == 1
    assert set(schemas["LoginIn"]["required"]) == {"username", "password", "uuid", "verify"}


def test_special_bodies_uploads_webhook_and_captcha():
    paths = committed()["paths"]
    upload = paths["/users/users/{id}/avatar"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["properties"]["file"] == {"type": "string", "format": "binary"} and upload["required"] == ["file"]
    notify = paths["/shopping/payments/notify"]["post"]
    assert "application/x-www-form-urlencoded" in notify["requestBody"]["content"]
    assert "text/plain" in notify["responses"]["200"]["content"]
    assert "text/plain" in notify["responses"]["400"]["content"]  # ``failure``
    captcha = paths["/users/image/verification/{uuid}"]["get"]["responses"]["200"]["content"]
    assert captcha == {"image/png": {"schema": {"type": "string", "format": "binary"}}}


# --- answers match their documented schemas ------------------------------------------------


def conforms(document: dict[str, Any], method: str, path: str, response) -> None:
    """``response`` (an HTTP answer) is valid against the document's schema for its status."""
    from jsonschema import Draft202012Validator

    documented = document["paths"][path][method]["responses"]
    entry = documented.get(str(response.status_code))
    assert entry is not None, f"{method.upper()} {path} answered an undocumented {response.status_code}"
    if "$ref" in entry:
        entry = resolve(document, entry["$ref"])
    if response.status_code == 204:
        assert "content" not in entry and response.content == b""
        return
    schema = {**entry["content"]["application/json"]["schema"], "components": document["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(response.json()), key=str)
    assert not errors, f"{method.upper()} {path}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_answers_match_the_documented_schemas(client, superuser, teacher, student):
    document = committed()
    root, teach, pupil = client.as_user(superuser), client.as_user(teacher), client.as_user(student)
    label = root.post("/api/work/labels", json={"name": "函数"})
    conforms(document, "post", "/work/labels", label)
    topic_body = {"subject": "列表推导式", "type": 0, "answer": "A", "label": label.json()["id"], "score": 2}
    topic = root.post("/api/work/topics", json=topic_body)
    conforms(document, "post", "/work/topics", topic)
    for api in (teach, pupil):  # the student's topics carry no ``answer``
        conforms(document, "get", "/work/topics", api.get("/api/work/topics"))
    assert "answer" not in pupil.get("/api/work/topics").json()["results"][0]
    conforms(document, "get", "/work/topics/{id}", pupil.get(f"/api/work/topics/{topic.json()['id']}"))
    conforms(document, "get", "/work/labels", pupil.get("/api/work/labels?page=1&size=5"))

    article = pupil.post("/api/community/articles", json={"title": "你好", "content": "第一篇"})
    conforms(document, "post", "/community/articles", article)
    comment = teach.post("/api/community/comments", json={"article": article.json()["id"], "content": "好"})
    conforms(document, "post", "/community/comments", comment)
    reply = pupil.post(
        "/api/community/comments",
        json={"article": article.json()["id"], "content": "谢谢", "parent_comment": comment.json()["id"]},
    )
    conforms(document, "post", "/community/comments", reply)
    conforms(
        document, "get", "/community/comments", pupil.get(f"/api/community/comments?article={article.json()['id']}")
    )
    conforms(document, "get", "/community/articles/{id}", pupil.get(f"/api/community/articles/{article.json()['id']}"))

    klass = teach.post("/api/school/classes", json={"name": "一班", "member": [student.id, teacher.id]})
    conforms(document, "post", "/school/classes", klass)
    conforms(document, "get", "/school/classes", pupil.get("/api/school/classes"))
    conforms(document, "get", "/school/students", teach.get("/api/school/students"))
    conforms(document, "get", "/users/users", teach.get("/api/users/users?limit=3"))
    conforms(document, "get", "/users/users/{id}", pupil.get(f"/api/users/users/{student.id}"))
    conforms(document, "get", "/users/area", client.get("/api/users/area"))

    commodity = root.post("/api/shopping/commodities", json={"name": "笔记本", "price": "12.50", "stock": 5})
    conforms(document, "post", "/shopping/commodities", commodity)
    conforms(document, "get", "/shopping/commodities", client.get("/api/shopping/commodities"))
    order = buy(pupil, student, make_commodity(price="3999.00"))
    conforms(document, "get", "/shopping/orders/{order_id}", pupil.get(f"/api/shopping/orders/{order['order_id']}"))
    conforms(document, "get", "/shopping/orders", pupil.get("/api/shopping/orders"))
    conforms(
        document,
        "post",
        "/shopping/orders/{order_id}/cancel",
        pupil.post(f"/api/shopping/orders/{order['order_id']}/cancel"),
    )
    conforms(document, "get", "/shopping/cart", pupil.get("/api/shopping/cart"))

    # errors, in the one shape
    conforms(document, "post", "/work/labels", pupil.post("/api/work/labels", json={"name": "x"}))  # 403
    conforms(document, "post", "/work/topics", root.post("/api/work/topics", json={"type": 9}))  # 400 + errors
    conforms(document, "get", "/work/topics/{id}", pupil.get("/api/work/topics/999999"))  # 404
    conforms(document, "get", "/users/users", client.get("/api/users/users"))  # 401
    conforms(
        document, "delete", "/community/comments/{id}", teach.delete(f"/api/community/comments/{comment.json()['id']}")
    )
    conforms(document, "get", "/health", client.get("/api/health"))


# --- served through the local front door ---------------------------------------------------


def test_discovery_answers_at_api_root(client):
    from studyhub.core.routing import load_routing

    for path in ("/api/", "/api"):
        response = client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert body == {
            "name": "StudyHub",
            "version": committed()["info"]["version"],
            "groups": [name for name in load_routing().functions if name != "meta"],
            "openapi": "/api/openapi.json",
            "docs": "/api/docs",
        }


def test_openapi_json_is_served_as_committed(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.content == COMMITTED.read_bytes()


def test_docs_page_loads_only_local_assets_that_answer(client):
    page = client.get("/api/docs", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    html = page.text
    assert '"/api/openapi.json"' in html and "validatorUrl: null" in html  # no call to swagger.io
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the page must not load anything from elsewhere"
    assets = re.findall(r"(?:src|href)=\"([^\"]+)\"", html)
    assert {"/api/docs/swagger-ui-bundle.js", "/api/docs/swagger-ui.css"} <= set(assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 10_000, asset
    assert client.get("/api/docs/swagger-ui-bundle.js").headers["content-type"].startswith("application/javascript")
    assert client.get("/api/docs/").status_code == 200  # trailing slash tolerated


@pytest.mark.parametrize("path", ["/api/docs/index.html", "/api/docs/..%2f..%2fetc%2fpasswd", "/api/docs/LICENSE"])
def test_docs_serve_nothing_but_the_pages_assets(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


# --- a frontend generates a typed client ---------------------------------------------------


def test_a_typed_python_client_generates_from_the_document_and_imports(tmp_path):
    generator = Path(sys.executable).with_name("openapi-python-client")
    if not generator.exists():
        from conftest import missing

        missing("openapi-python-client is not installed (pip install -e '.[dev]')")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"content_type_overrides": {"image/png": "application/octet-stream"}}))
    out = tmp_path / "studyhub_client"
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(COMMITTED),
            "--meta",
            "none",
            "--output-path",
            str(out),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    check = (
        "import inspect\n"
        "from studyhub_client.models import TopicPublic, PageTopicPublic, ErrorBody\n"
        "from studyhub_client.api.work import work_topic_collection_get\n"
        "from studyhub_client.api.users import users_login_view_post\n"
        "fields = inspect.signature(TopicPublic).parameters\n"
        "assert {'subject', 'type_', 'answer', 'label_name'} <= set(fields), fields\n"
        "assert 'page' in inspect.signature(work_topic_collection_get.sync).parameters\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


# --- the other front doors and the command line --------------------------------------------


def test_nginx_sends_the_root_of_api_to_the_meta_function(platform):
    from local.nginx import render_config
    from studyhub.core.routing import load_routing

    conf = render_config({name: ["127.0.0.1:9000"] for name in load_routing().functions})
    assert "location /api/ {\n        rewrite ^/api(/.*)$ $1 break;\n        proxy_pass http://studyhub_meta;" in conf
    assert "location = /api {\n        rewrite ^ / break;\n        proxy_pass http://studyhub_meta;" in conf


def test_serve_banner_says_where_the_docs_are_and_how_to_begin():
    from local.serve import banner

    text = banner("0.0.0.0", 8123, ["users", "meta"])
    assert "http://127.0.0.1:8123/api/docs" in text and "http://127.0.0.1:8123/api/" in text
    assert "studyhub createsuperuser --username" in text
    assert "studyhub seed --demo" in text and "studyhub-demo" in text
    assert all(name in text for name in ("admin", "teacher1", "student1"))
