"""AWS packaging (issue 7): ``infra/aws/package.py`` runs ``chalice package`` for every function of
routes.yaml and the scheduler, offline, and edits the SAM templates; the templates are checked
against routes.yaml, and what the edits are for is run through the apps the way API Gateway calls
them: a browser's ``<img>`` gets the captcha as PNG bytes, JSON and multipart bodies arrive
base64-encoded and are still understood. Celery on SQS: a job fired by the scheduler's handler
goes through moto's SQS server and is run by a real ``celery -A jobs worker`` subprocess.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from conftest import captcha_answer, missing, reset_clients
from shopping_fixtures import backdate_order, buy, commodity_state, make_commodity, order_row

ROOT = Path(__file__).resolve().parents[2]
LAYER_ARN = "arn:aws:lambda:us-east-1:123456789012:layer:studyhub-common:7"
BROWSER_IMG_ACCEPT = "image/avif,image/webp,*/*"  # Firefox's Accept for <img src>
REGION = "us-east-1"
JWT_PARAMETER = "/studyhub/prod/jwt_secret"
DB_SECRET = "studyhub/prod/db"


def routing():
    from studyhub.core.routing import load_routing

    return load_routing()


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> Path:
    """``package.py`` once for the module: every project, stage ``prod``, the layer and two variables."""
    out = tmp_path_factory.mktemp("sam")
    env = dict(os.environ, AWS_DEFAULT_REGION=REGION)
    result = subprocess.run(
        [
            sys.executable,
            "infra/aws/package.py",
            "--out",
            str(out),
            "--stage",
            "prod",
            "--layer-arn",
            LAYER_ARN,
            "--set",
            "CELERY_BROKER_URL=sqs://",
            "--set",
            "ALIPAY_SANDBOX=false",
            # secrets by name: read at the cold start, never written into a template
            "--set",
            f"JWT_SECRET_SSM={JWT_PARAMETER}",
            "--set",
            f"DATABASE_URL_SECRET_ID={DB_SECRET}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def template(packaged: Path, name: str) -> dict:
    return json.loads((packaged / name / "sam.json").read_text(encoding="utf-8"))


def api_definition(packaged: Path, name: str) -> dict:
    return template(packaged, name)["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]


# --- the templates ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(routing().functions))
def test_every_functions_api_routes_equal_routes_yaml(packaged, name):
    paths = api_definition(packaged, name)["paths"]
    declared = {
        (path, method.upper())
        for path, methods in paths.items()
        for method in methods
        if method not in ("parameters", "options")
    }
    expected = {(path, method) for path, methods in routing().functions[name].routes for method in methods}
    assert declared == expected


@pytest.mark.parametrize("name", list(routing().functions))
def test_every_path_sends_its_cors_preflight_to_the_function(packaged, name):
    for path, operations in api_definition(packaged, name)["paths"].items():
        route = next(op for method, op in operations.items() if method not in ("parameters", "options"))
        integration = operations["options"]["x-amazon-apigateway-integration"]
        assert integration == route["x-amazon-apigateway-integration"], path
        assert integration["type"] == "aws_proxy"


def _package_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("studyhub_aws_package", ROOT / "infra" / "aws" / "package.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_gateways_own_answers_carry_cors_only_when_a_gateway_response_can_express_it():
    package = _package_module()
    one = package.gateway_cors_headers("https://school.example.com")
    assert one["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://school.example.com'"
    assert one["gatewayresponse.header.Access-Control-Expose-Headers"] == "'X-Request-Id, Retry-After'"
    anyone = package.gateway_cors_headers("*")
    assert anyone["gatewayresponse.header.Access-Control-Allow-Origin"] == "method.request.header.origin"
    # a list or a port wildcard can't be matched by API Gateway: its own answers carry none
    assert package.gateway_cors_headers(None) == {}
    assert package.gateway_cors_headers("https://a.example.com,https://b.example.com") == {}
    template = {"Resources": {"RestAPI": {"Properties": {"DefinitionBody": {"paths": {}}}}}}
    edited = package.edit_template(template, "users", {"CORS_ALLOW_ORIGINS": "https://school.example.com"})
    responses = edited["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    for response in responses.values():
        allow = response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
        assert allow == "'https://school.example.com'"


@pytest.mark.parametrize("name", list(routing().functions))
def test_every_function_runs_on_the_layer_under_api_with_the_stage_settings(packaged, name):
    resources = template(packaged, name)["Resources"]
    handler = resources["APIHandler"]["Properties"]
    assert handler["Runtime"] == "python3.12" and handler["Handler"] == "app.app"
    assert handler["SnapStart"] == {"ApplyOn": "PublishedVersions"} and handler["AutoPublishAlias"] == "live"
    assert handler["Layers"] == [LAYER_ARN]
    assert handler["Environment"]["Variables"] == {
        "ALIPAY_SANDBOX": "false",
        "CELERY_BROKER_URL": "sqs://",
        "DATABASE_URL_SECRET_ID": DB_SECRET,
        "JWT_SECRET_SSM": JWT_PARAMETER,
        "STUDYHUB_VAR_DIR": "/tmp/studyhub",
    }
    assert resources["RestAPI"]["Properties"]["StageName"] == "api"  # https://.../api/<group>/...


@pytest.mark.parametrize("name", [*routing().functions, "scheduler"])
def test_no_template_holds_a_secret_and_each_role_may_read_exactly_the_named_ones(packaged, name):
    text = (packaged / name / "sam.json").read_text(encoding="utf-8")
    assert '"JWT_SECRET"' not in text and '"DATABASE_URL"' not in text and '"ALIPAY_APP_PRIVATE_KEY"' not in text
    assert not re.search(r"[a-z0-9+]+://[^/\s\"@:]+:[^/\s\"@]+@", text), "a URL with a password"
    statements = template(packaged, name)["Resources"]["DefaultRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    grants = {tuple(s["Action"]): s["Resource"] for s in statements["Statement"]}
    assert grants[("ssm:GetParameter",)] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/studyhub/prod/jwt_secret"}
    ]
    assert grants[("secretsmanager:GetSecretValue",)] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:studyhub/prod/db-??????"
        }
    ]


def test_packaging_refuses_secrets_given_in_clear_text_and_writes_nothing(tmp_path):
    out = tmp_path / "sam"
    given = {"JWT_SECRET": "s3cret-value", "DATABASE_URL": "mysql+pymysql://app:db-pass@db:3306/studyhub"}
    result = subprocess.run(
        [sys.executable, "infra/aws/package.py", "--out", str(out), "--only", "meta"]
        + [arg for key, value in given.items() for arg in ("--set", f"{key}={value}")],
        cwd=ROOT,
        env=dict(os.environ, AWS_DEFAULT_REGION=REGION),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "JWT_SECRET, DATABASE_URL would be written in clear text" in result.stderr
    assert "JWT_SECRET_SSM=" in result.stderr and "s3cret-value" not in result.stderr
    assert not out.exists()


def test_the_secret_lists_of_packaging_and_of_the_layer_agree():
    sys.path.insert(0, str(ROOT / "infra" / "aws"))
    from configure_stage import SECRET_URLS, SECRET_VALUES

    from studyhub.core.aws_secrets import SECRET_SETTINGS

    assert set(SECRET_VALUES) | set(SECRET_URLS) == set(SECRET_SETTINGS)


@pytest.mark.parametrize("name", list(routing().functions))
def test_binary_media_types_include_any_type_for_browser_accept_headers(packaged, name):
    types = api_definition(packaged, name)["x-amazon-apigateway-binary-media-types"]
    assert "*/*" in types and "image/png" in types and "multipart/form-data" in types


@pytest.mark.parametrize("name", list(routing().functions))
def test_api_gateways_own_answers_are_the_contracts_json(packaged, name):
    responses = api_definition(packaged, name)["x-amazon-apigateway-gateway-responses"]
    for kind in (
        "MISSING_AUTHENTICATION_TOKEN",
        "RESOURCE_NOT_FOUND",
        "REQUEST_TOO_LARGE",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    ):
        headers = responses[kind]["responseParameters"]
        assert headers["gatewayresponse.header.Content-Type"] == "'application/json; charset=utf-8'"
    unknown = responses["MISSING_AUTHENTICATION_TOKEN"]  # API Gateway's 403 for an unknown path
    assert unknown["statusCode"] == "404"
    assert json.loads(unknown["responseTemplates"]["application/json"]) == {"detail": "接口不存在", "code": "not_found"}
    too_large = responses["REQUEST_TOO_LARGE"]
    assert too_large["statusCode"] == "413"
    assert json.loads(too_large["responseTemplates"]["application/json"])["code"] == "payload_too_large"
    down = responses["DEFAULT_5XX"]
    body = json.loads(down["responseTemplates"]["application/json"])
    assert down["statusCode"] == "503" and body["code"] == "service_unavailable" and name in body["detail"]
    other = responses["DEFAULT_4XX"]["responseTemplates"]["application/json"]
    assert "statusCode" not in responses["DEFAULT_4XX"]  # keeps API Gateway's status
    assert other == '{"detail":$context.error.messageString,"code":"bad_request"}'


@pytest.mark.parametrize("name", list(routing().functions))
def test_deployment_zip_holds_the_function_and_bytecode_lambda_can_use(packaged, name):
    with zipfile.ZipFile(packaged / name / "deployment.zip") as archive:
        names = set(archive.namelist())
        sources = {n for n in names if n.endswith(".py")}
        assert {"app.py", "chalice/app.py"} <= sources
        assert not any(n.startswith(("studyhub/", ".chalice/", "tests/")) for n in names)  # the layer has studyhub
        runtime = runtime_bytecode({source: archive.read(source) for source in sources})
        for source in sources:
            folder, _, module = source.rpartition("/")
            pyc = f"{folder + '/' if folder else ''}__pycache__/{module[:-3]}.{runtime['tag']}.pyc"
            data = archive.read(pyc)
            assert runtime["tag"] == "cpython-312"  # the python3.12 runtime's, whatever runs the tests
            assert data[:4].hex() == runtime["magic"]
            # PEP 552 flags: hash-based (bit 0) and not checked (bit 1 clear): valid whatever the mtimes
            assert int.from_bytes(data[4:8], "little") == 0b01, pyc
            assert data[8:16].hex() == runtime["hashes"][source]


def runtime_bytecode(sources: dict[str, bytes]) -> dict:
    """The Lambda runtime's cache tag, magic number and each source's hash, from its interpreter."""
    sys.path.insert(0, str(ROOT / "infra" / "aws"))
    try:
        from build_layer import runtime_python

        try:
            python = runtime_python()
        except SystemExit as error:
            missing(str(error))
    finally:
        sys.path.remove(str(ROOT / "infra" / "aws"))
    code = (
        "import importlib.util, json, sys, base64\n"
        "sources = json.load(sys.stdin)\n"
        "print(json.dumps({'tag': sys.implementation.cache_tag, 'magic': importlib.util.MAGIC_NUMBER.hex(),"
        " 'hashes': {k: importlib.util.source_hash(base64.b64decode(v)).hex() for k, v in sources.items()}}))"
    )
    payload = json.dumps({k: base64.b64encode(v).decode() for k, v in sources.items()})
    done = subprocess.run([python, "-c", code], input=payload, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_inline_layer_puts_the_layer_into_the_function_zip_for_localstack(tmp_path):
    layer = tmp_path / "layer.zip"
    with zipfile.ZipFile(layer, "w") as archive:
        archive.writestr("python/studyhub_probe/__init__.py", "VALUE = 42\n")
        archive.writestr("python/app.py", "raise SystemExit('the function keeps its own app.py')\n")
    out = tmp_path / "sam"
    result = subprocess.run(
        [sys.executable, "infra/aws/package.py", "--out", str(out), "--only", "users", "--inline-layer", str(layer)],
        cwd=ROOT,
        env=dict(os.environ, AWS_DEFAULT_REGION=REGION),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out / "users" / "deployment.zip") as archive:
        assert archive.read("studyhub_probe/__init__.py") == b"VALUE = 42\n"
        assert b"SystemExit" not in archive.read("app.py")
    assert "Layers" not in template(out, "users")["Resources"]["APIHandler"]["Properties"]


def _translated(packaged: Path, name: str) -> dict:
    """The template as CloudFormation gets it: SAM's own translator, as ``sam deploy`` runs it."""
    try:
        from samtranslator.translator.transform import transform
    except ImportError:
        missing("aws-sam-translator (pip install -e '.[dev]': moto[server] brings it)")

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    sam = template(packaged, name)
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/deployment.zip"  # what `package` uploads
    from unittest import mock

    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION}):  # the translator asks for a region
        return transform(sam, {}, NoManagedPolicies())["Resources"]


@pytest.mark.parametrize("name", list(routing().functions))
def test_api_gateway_invokes_the_snapstart_alias_of_a_published_version(packaged, name):
    resources = _translated(packaged, name)
    function = resources["APIHandler"]["Properties"]
    assert function["Runtime"] == "python3.12" and function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    (alias_id,) = [k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Alias"]
    alias = resources[alias_id]["Properties"]
    version_id = alias["FunctionVersion"]["Fn::GetAtt"][0]
    assert alias["Name"] == "live" and resources[version_id]["Type"] == "AWS::Lambda::Version"
    # every integration (preflights included) and the permission name the alias, never $LATEST
    body = resources["RestAPI"]["Properties"]["Body"]
    uris = {
        json.dumps(op["x-amazon-apigateway-integration"]["uri"])
        for operations in body["paths"].values()
        for op in operations.values()
        if isinstance(op, dict) and "x-amazon-apigateway-integration" in op
    }
    assert uris == {
        json.dumps(
            {
                "Fn::Sub": f"arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{alias_id}}}/invocations"
            }
        )
    }
    (permission,) = [v for v in resources.values() if v["Type"] == "AWS::Lambda::Permission"]
    assert permission["Properties"]["FunctionName"] == {"Ref": alias_id}


def test_scheduled_jobs_run_the_snapstart_alias_too(packaged):
    resources = _translated(packaged, "scheduler")
    functions = [k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"]
    assert functions
    for function in functions:
        assert resources[function]["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    rules = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::Events::Rule"]
    assert len(rules) == len(functions)
    for rule in rules:
        (target,) = rule["Targets"]
        assert resources[target["Arn"]["Ref"]]["Type"] == "AWS::Lambda::Alias"


def test_without_snapstart_the_api_invokes_the_function_itself(tmp_path):
    package = _package_module()
    template = {
        "Resources": {
            "APIHandler": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.11"}},
            "APIHandlerInvokePermission": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {"FunctionName": {"Ref": "APIHandler"}},
            },
            "RestAPI": {
                "Properties": {"DefinitionBody": {"uri": {"Fn::Sub": "functions/${APIHandler.Arn}/invocations"}}}
            },
        }
    }
    plain = package.apply_runtime(json.loads(json.dumps(template)), snapstart=False)
    assert plain["Resources"]["APIHandler"]["Properties"] == {"Runtime": "python3.12"}
    assert plain["Resources"]["RestAPI"] == template["Resources"]["RestAPI"]
    snap = package.apply_runtime(json.loads(json.dumps(template)))
    assert (
        snap["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["uri"]["Fn::Sub"]
        == "functions/${APIHandler.Alias}/invocations"
    )
    assert snap["Resources"]["APIHandlerInvokePermission"]["Properties"]["FunctionName"] == {"Ref": "APIHandler.Alias"}


def test_scheduler_has_one_eventbridge_schedule_per_routes_yaml_job(packaged):
    resources = template(packaged, "scheduler")["Resources"]
    assert "RestAPI" not in resources
    functions = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    schedules = {}
    for props in functions.values():
        assert props["Layers"] == [LAYER_ARN]
        assert props["Environment"]["Variables"]["CELERY_BROKER_URL"] == "sqs://"
        (event,) = props["Events"].values()
        assert event["Type"] == "Schedule"
        schedules[props["Handler"]] = event["Properties"]["Schedule"]

    def aws_rate(rate: str) -> str:
        amount, unit = rate.split()
        return f"rate({amount} {unit.rstrip('s') if amount == '1' else unit})"

    assert schedules == {f"app.{job.name.replace('-', '_')}": aws_rate(job.rate) for job in routing().jobs}


def test_committed_schedule_json_is_routes_yaml_jobs():
    sys.path.insert(0, str(ROOT / "infra" / "aws"))
    try:
        from package import SCHEDULE_FILE, render_schedule
    finally:
        sys.path.remove(str(ROOT / "infra" / "aws"))
    assert SCHEDULE_FILE.read_text(encoding="utf-8") == render_schedule(), (
        "routes.yaml jobs changed: run python infra/aws/package.py (or copy its schedule) and commit"
    )


def test_configure_stage_writes_the_layer_and_settings_into_every_function(tmp_path):
    functions = tmp_path / "functions"
    for name in routing().functions:
        (functions / name / ".chalice").mkdir(parents=True)
        (functions / name / ".chalice" / "config.json").write_text(
            (ROOT / "functions" / name / ".chalice" / "config.json").read_text()
        )
    env_file = tmp_path / "prod.env"
    env_file.write_text(
        "# secrets by name\nJWT_SECRET_SSM='/studyhub/prod/jwt_secret'\nexport REDIS_URL=redis://cache:6379/0\n"
    )
    script = [
        sys.executable,
        str(ROOT / "infra" / "aws" / "configure_stage.py"),
        "--functions-dir",
        str(functions),
        "--no-scheduler",
        "--stage",
        "prod",
    ]
    result = subprocess.run(
        script + ["--layer-arn", LAYER_ARN, "--env-file", str(env_file), "--set", "CELERY_BROKER_URL=sqs://"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for name in routing().functions:
        config = json.loads((functions / name / ".chalice" / "config.json").read_text())
        assert (
            config["stages"]["dev"]
            == json.loads((ROOT / "functions" / name / ".chalice" / "config.json").read_text())["stages"]["dev"]
        )  # untouched
        prod = config["stages"]["prod"]
        assert prod["layers"] == [LAYER_ARN] and prod["api_gateway_stage"] == "api"
        assert prod["environment_variables"] == {
            "CELERY_BROKER_URL": "sqs://",
            "JWT_SECRET_SSM": "/studyhub/prod/jwt_secret",
            "REDIS_URL": "redis://cache:6379/0",
            "STUDYHUB_VAR_DIR": "/tmp/studyhub",
        }
    refused = subprocess.run(script + ["--layer-arn", "studyhub-common"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "not a Lambda layer version ARN" in refused.stderr
    before = {p: p.read_text() for p in functions.glob("*/.chalice/config.json")}
    clear = ["--set", "JWT_SECRET=s3cret value", "--set", "REDIS_URL=redis://:redis-pass@cache:6379/0"]
    refused = subprocess.run(script + ["--layer-arn", LAYER_ARN, *clear], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "JWT_SECRET, REDIS_URL would be written in clear text" in refused.stderr
    assert {p: p.read_text() for p in functions.glob("*/.chalice/config.json")} == before


# --- what API Gateway does with those binary media types, run through the apps -----------------


def _matches(binary_types: list[str], mime: str) -> bool:
    mime = mime.split(";")[0].strip().lower()
    return any(
        t == "*/*" or t == mime or (t.endswith("/*") and mime.split("/")[0] == t.split("/")[0])
        for t in (t.lower() for t in binary_types)
    )


def api_gateway(
    function: str,
    binary_types: list[str],
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[str, str], bytes]:
    """A REST API's Lambda proxy integration, as documented: a request body whose Content-Type
    matches a binary media type reaches the function base64-encoded; a base64 answer is turned
    back into bytes only when the request's *first* Accept type matches one, else the client
    gets the base64 text."""
    from chalice.local import RouteMatcher

    from local.gateway import LambdaContext
    from local.loader import load_app

    app = load_app(function)
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    binary_in = bool(body) and _matches(binary_types, headers.get("content-type", ""))
    match = RouteMatcher(list(app.routes)).match_route(path)
    event = {
        "resource": match.route,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": match.captured or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": match.route,
            "httpMethod": method,
            "path": "/api" + path,
            "stage": "api",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "203.0.113.9"},
        },
        "body": (base64.b64encode(body).decode() if binary_in else body.decode()) if body else None,
        "isBase64Encoded": binary_in,
    }
    result = app(event, LambdaContext(f"studyhub-{function}"))
    first_accept = headers.get("accept", "").split(",")[0]
    raw = result.get("body") or ""
    if result.get("isBase64Encoded") and _matches(binary_types, first_accept):
        data = base64.b64decode(raw)
    else:
        data = raw.encode()
    return result["statusCode"], {k.lower(): v for k, v in (result.get("headers") or {}).items()}, data


def test_captcha_reaches_a_browser_img_as_png_only_with_the_packaged_binary_types(platform, packaged):
    from local.loader import load_app

    packaged_types = api_definition(packaged, "users")["x-amazon-apigateway-binary-media-types"]
    path = f"/users/image/verification/{uuid.uuid4()}"
    status, headers, data = api_gateway("users", packaged_types, "GET", path, headers={"Accept": BROWSER_IMG_ACCEPT})
    assert status == 200 and headers["content-type"] == "image/png"
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    from PIL import Image

    assert Image.open(io.BytesIO(data)).size == (140, 40)
    # what `chalice package` alone declares: the first Accept type (image/avif) matches none of
    # them, and the browser would get base64 text labelled image/png
    chalice_types = list(load_app("users").api.binary_types)
    assert "*/*" not in chalice_types
    _, _, text = api_gateway(
        "users",
        chalice_types,
        "GET",
        path.replace(path[-36:], str(uuid.uuid4())),
        headers={"Accept": BROWSER_IMG_ACCEPT},
    )
    assert not text.startswith(b"\x89PNG") and base64.b64decode(text).startswith(b"\x89PNG")


def test_json_and_multipart_bodies_arrive_base64_and_json_answers_stay_text(platform, packaged, make_user):
    types = api_definition(packaged, "users")["x-amazon-apigateway-binary-media-types"]
    user = make_user("student")
    key = str(uuid.uuid4())
    api_gateway("users", types, "GET", f"/users/image/verification/{key}", headers={"Accept": "image/png"})
    login = json.dumps(
        {"username": user.username, "password": "correct-horse-1", "uuid": key, "verify": captcha_answer(key)}
    ).encode()
    status, headers, data = api_gateway(
        "users",
        types,
        "POST",
        "/users/login",
        body=login,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert status == 200, data  # the base64 body was decoded by Chalice and parsed
    assert headers["content-type"].startswith("application/json")
    answer = json.loads(data)  # plain JSON text, not base64
    assert answer["username"] == user.username and answer["token"]

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(picture, format="PNG")
    boundary = uuid.uuid4().hex
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="me.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + picture.getvalue()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, data = api_gateway(
        "users",
        types,
        "POST",
        f"/users/users/{user.id}/avatar",
        body=form,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": f"Bearer {answer['token']}",
            "Accept": "application/json, text/plain, */*",
        },
    )
    assert status == 200, data
    assert json.loads(data)["data"].endswith(".png")


def test_a_preflight_reaches_the_app_in_lambda_and_is_answered_with_the_routes_methods(platform, packaged):
    types = api_definition(packaged, "users")["x-amazon-apigateway-binary-media-types"]
    asked = {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}
    status, headers, _ = api_gateway("users", types, "OPTIONS", "/users/users", headers=asked)
    assert status == 204
    assert headers["access-control-allow-origin"] == "http://localhost:5173"
    assert headers["access-control-allow-methods"] == "GET, POST"
    assert "Authorization" in headers["access-control-allow-headers"]
    assert headers["access-control-max-age"] == "600"
    status, headers, _ = api_gateway("users", types, "GET", "/users/area", headers={"Origin": "http://localhost:5173"})
    assert status == 200 and headers["access-control-allow-origin"] == "http://localhost:5173"
    foreign = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"}
    status, headers, _ = api_gateway("users", types, "OPTIONS", "/users/users", headers=foreign)
    assert status == 204 and not [name for name in headers if name.startswith("access-control-")]


# --- Celery on SQS (moto's server), fired by the scheduler's handler ---------------------------------


def _load_scheduler():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "studyhub_aws_scheduler", ROOT / "infra" / "aws" / "scheduler" / "app.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sqs_server(tmp_path):
    """moto's server in a process of its own. Its state is global to a process, and a stopped
    worker's pending long poll (ReceiveMessage waits up to 10 s) would take the next test's
    message (invisible for kombu's 30-minute visibility timeout) on a server that outlives it."""
    from conftest import free_port, port_open

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", port, timeout=0.2):
            assert server.poll() is None and time.monotonic() < deadline, "moto's server did not start"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


def test_scheduled_cleanup_goes_through_sqs_to_a_real_worker(platform, client, student, sqs_server, tmp_path):
    import boto3

    commodity = make_commodity(stock=5)
    order = buy(client.as_user(student), student, commodity, number=2)
    backdate_order(order["order_id"], 3600)  # unpaid for an hour: the cleanup job cancels it
    assert commodity_state(commodity) == (3, 2)

    endpoint = sqs_server.removeprefix("http://")
    broker = f"sqs://testing:testing@{endpoint}"
    overrides = {
        "CELERY_BROKER_URL": broker,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    reset_clients()
    log = tmp_path / "worker.log"
    worker = None
    try:
        with log.open("wb") as fh:
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "jobs",
                    "worker",
                    "--pool",
                    "solo",
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--hostname",
                    f"sqs-{uuid.uuid4().hex[:6]}@%h",
                ],
                cwd=ROOT,
                env=dict(os.environ),
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        scheduler = _load_scheduler()
        fired = scheduler.shopping_cleanup(
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": "123456789012",
                "time": "2026-11-24T06:00:00Z",
                "region": REGION,
                "resources": ["arn:aws:events:us-east-1:123456789012:rule/cleanup"],
                "detail": {},
            },
            None,
        )
        assert fired == {"queued": "studyhub.shopping.cleanup"}
        deadline = time.monotonic() + 45
        while order_row(order["order_id"]).status != 6 and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
            time.sleep(0.25)
        assert order_row(order["order_id"]).status == 6, log.read_text(errors="replace")[-3000:]
        assert commodity_state(commodity) == (5, 0)  # the stock came back, once
        text = log.read_text(errors="replace")
        assert "studyhub.shopping.cleanup" in text and "succeeded" in text
        sqs = boto3.client("sqs", endpoint_url=sqs_server, region_name=REGION)
        assert any(url.rsplit("/", 1)[-1] == "celery" for url in sqs.list_queues().get("QueueUrls", []))
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_clients()
