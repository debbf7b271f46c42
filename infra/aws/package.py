#!/usr/bin/env python3
"""Package every function (and the scheduler) for AWS: ``chalice package``, then the template
edits API Gateway needs to behave like the other front doors.

For each Chalice project (``functions/<name>`` for every function of routes.yaml, and
``infra/aws/scheduler``) this copies the project into ``<out>/src/<name>`` (the repository's
``config.json`` is never written), applies the stage (layer ARN and environment, as
``configure_stage.py`` does), runs ``chalice package --stage STAGE <out>/<name>`` offline, and
then edits ``<out>/<name>/sam.json``:

- **binary media types** get ``*/*``. API Gateway decides whether to turn a Lambda's base64
  body back into bytes by matching the request's *first* ``Accept`` type against the list; a
  browser's ``<img>`` sends ``image/avif,image/webp,*/*`` (Firefox), so ``image/png`` in the list
  is not enough and the captcha would arrive as base64 text. With ``*/*`` every base64 response
  is decoded; JSON responses are not base64 (Chalice encodes only binary content types), so they
  pass as text. Request bodies then all reach the function base64-encoded, which Chalice's
  ``raw_body`` decodes (``tests/e2e/test_aws_package.py`` runs both through the apps).
- **gateway responses**: what API Gateway answers itself is the contract's JSON: an unknown path
  (API Gateway's ``MISSING_AUTHENTICATION_TOKEN`` 403) is ``404 not_found``, a body over the
  limit ``413 payload_too_large``, other 4xx keep their status with JSON, and 5xx (the function
  crashed or timed out) is ``503 service_unavailable`` naming the function, as Nginx answers.
- **CORS**: every path gets an ``OPTIONS`` method integrated with the function like its other
  methods. On AWS every group is its own API (its own origin), so even a deployed frontend
  calls cross-origin. Chalice's ``CORSConfig`` would answer preflights in API Gateway itself, but
  with one fixed ``Access-Control-Allow-Origin``; ``CORS_ALLOW_ORIGINS`` is a list with port
  wildcards, so the app answers preflights (``StudyHubApp.__call__``, the same code as on the
  local runtime and behind Nginx) and adds the CORS headers to every answer. API Gateway's own
  answers above carry them only when the stage's ``CORS_ALLOW_ORIGINS`` is one fixed origin or
  ``*`` (a gateway response can't match a list).
- **secrets**: none is written. A secret setting given by value (``JWT_SECRET``, a URL with a
  password, ...) is refused (``configure_stage.refuse_plaintext_secrets``; ``--allow-plaintext-secrets``
  for a throwaway stage such as LocalStack); given by name (``JWT_SECRET_SSM``,
  ``DATABASE_URL_SECRET_ID``), the function reads it at its cold start, and its role gets
  ``ssm:GetParameter`` / ``secretsmanager:GetSecretValue`` on exactly those names (a parameter
  or secret encrypted with a customer-managed KMS key also needs ``kms:Decrypt`` on that key).
- **runtime and SnapStart**: every function runs on ``python3.12`` (``chalice package`` writes
  the version of the Python running it) with ``SnapStart: ApplyOn: PublishedVersions`` and
  ``AutoPublishAlias: live``: each deploy publishes a version (its init snapshotted once) and API
  Gateway's integrations and invoke permission name the alias, never ``$LATEST`` (which has no
  snapshot); the scheduler's events follow the alias by SAM's own rule. What the snapshot holds
  and what a restore redoes: ``studyhub/http/snapstart.py``. ``--no-snapstart`` for LocalStack.
- **bytecode**: ``deployment.zip`` gets a ``__pycache__/*.cpython-312.pyc`` beside every module,
  compiled by a Python 3.12 (``infra/aws/bytecode.py``, run by the interpreter
  ``build_layer.runtime_python`` finds) with unchecked hashes (Lambda can't write bytecode and
  Chalice zips with 1980 timestamps, so timestamp-checked ``.pyc`` would be stale; ``build_layer.py``
  does the same for the layer). Without a Python 3.12 here the zip keeps none (a warning).

The scheduler's copy gets ``chalicelib/schedule.json`` written from routes.yaml ``jobs:``.
``--inline-layer LAYER.zip`` puts the layer's ``python/`` into every ``deployment.zip`` instead of
referencing a layer: LocalStack's community image accepts layers but does not apply them.

    AWS_DEFAULT_REGION=eu-west-1 python infra/aws/package.py --out infra/aws/build/sam \\
        --stage prod --layer-arn arn:aws:lambda:...:layer:studyhub-common:3 [--env-file prod.env] [--set K=V]...
    # then per function: sam deploy --template-file infra/aws/build/sam/users/sam.json --stack-name studyhub-users ...
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common"), str(HERE)]

from configure_stage import configure, parse_assignments, read_env_file, refuse_plaintext_secrets  # noqa: E402

SCHEDULER = HERE / "scheduler"
SCHEDULE_FILE = SCHEDULER / "chalicelib" / "schedule.json"
LAMBDA_RUNTIME = "python3.12"  # build_layer.RUNTIME: the layer's wheels and bytecode are for it
SNAPSTART_ALIAS = "live"  # the alias API Gateway invokes: the latest published (snapshotted) version
JSON_TYPE = "application/json; charset=utf-8"
BINARY_ANY = "*/*"
COPY_IGNORE = shutil.ignore_patterns("deployments", "__pycache__", "*.pyc", "vendor", ".pytest_cache")


def schedule_jobs() -> list[dict[str, str]]:
    from studyhub.core.routing import load_routing

    return [{"name": job.name, "task": job.task, "rate": job.rate} for job in load_routing().jobs]


def render_schedule() -> str:
    return json.dumps(schedule_jobs(), indent=2, ensure_ascii=False) + "\n"


def projects(only: list[str] | None = None) -> dict[str, Path]:
    from studyhub.core.routing import load_routing

    found = {name: fn.directory for name, fn in load_routing().functions.items()}
    found["scheduler"] = SCHEDULER
    if only:
        unknown = sorted(set(only) - set(found))
        if unknown:
            raise SystemExit(f"error: unknown project(s): {', '.join(unknown)}")
        found = {name: found[name] for name in only}
    return found


def gateway_responses(function: str) -> dict:
    """API Gateway's own answers as the contract's JSON (``x-amazon-apigateway-gateway-responses``)."""
    from studyhub.core.errors import NotFound, PayloadTooLarge, Unavailable, UnsupportedMediaType
    from studyhub.http.responses import dumps

    headers = {"gatewayresponse.header.Content-Type": f"'{JSON_TYPE}'"}

    def answer(status: int | None, body: dict | str) -> dict:
        template = body if isinstance(body, str) else dumps(body)
        response = {"responseParameters": dict(headers), "responseTemplates": {"application/json": template}}
        if status is not None:
            response["statusCode"] = str(status)
        return response

    not_found = NotFound("接口不存在", code="not_found").body()
    return {
        # no such resource or method: API Gateway says 403 "Missing Authentication Token"
        "MISSING_AUTHENTICATION_TOKEN": answer(404, not_found),
        "RESOURCE_NOT_FOUND": answer(404, not_found),
        "REQUEST_TOO_LARGE": answer(413, PayloadTooLarge().body()),
        "UNSUPPORTED_MEDIA_TYPE": answer(415, UnsupportedMediaType().body()),
        # any other 4xx keeps its status; $context.error.messageString is already a quoted JSON string
        "DEFAULT_4XX": answer(None, '{"detail":$context.error.messageString,"code":"bad_request"}'),
        # the function crashed, timed out or is throttled: the same 503 Nginx gives for a dead upstream
        "DEFAULT_5XX": answer(503, Unavailable(function).body()),
    }


def gateway_cors_headers(cors_allow_origins: str | None) -> dict[str, str]:
    """The CORS headers API Gateway's own answers can carry: a response parameter is a constant
    or a request value, so only ``*`` (the caller's origin echoed) or one fixed origin."""
    from studyhub.core.config import parse_cors_origins
    from studyhub.http.cors import EXPOSE_HEADERS

    origins = parse_cors_origins(cors_allow_origins)
    if origins == ("*",):
        origin = "method.request.header.origin"
    elif len(origins) == 1 and not origins[0].endswith(":*"):
        origin = f"'{origins[0]}'"
    else:
        return {}
    return {
        "gatewayresponse.header.Access-Control-Allow-Origin": origin,
        "gatewayresponse.header.Access-Control-Expose-Headers": f"'{EXPOSE_HEADERS}'",
        "gatewayresponse.header.Vary": "'Origin'",
    }


def add_preflights(body: dict) -> int:
    """``OPTIONS`` on every path, to the function like the path's other methods: its app answers
    the preflight from ``CORS_ALLOW_ORIGINS`` and the route's methods. How many were added."""
    added = 0
    for operations in body.get("paths", {}).values():
        proxied = [op for op in operations.values() if isinstance(op, dict) and "x-amazon-apigateway-integration" in op]
        if not proxied or "options" in operations:
            continue
        preflight = {
            "responses": {"204": {"description": "CORS preflight, answered by the function"}},
            "x-amazon-apigateway-integration": dict(proxied[0]["x-amazon-apigateway-integration"]),
        }
        if "parameters" in proxied[0]:
            preflight["parameters"] = proxied[0]["parameters"]
        operations["options"] = preflight
        added += 1
    return added


def edit_template(template: dict, function: str, env: dict[str, str] | None = None) -> dict:
    """Binary types, preflights and gateway responses on the REST API (functions with routes only);
    ``env``: the stage's settings (``CORS_ALLOW_ORIGINS``)."""
    api = template.get("Resources", {}).get("RestAPI")
    if api is None:
        return template
    body = api["Properties"]["DefinitionBody"]
    types = body.setdefault("x-amazon-apigateway-binary-media-types", [])
    if BINARY_ANY not in types:
        types.append(BINARY_ANY)
    add_preflights(body)
    responses = gateway_responses(function)
    cors = gateway_cors_headers((env or {}).get("CORS_ALLOW_ORIGINS"))
    for response in responses.values():
        response["responseParameters"].update(cors)
    body["x-amazon-apigateway-gateway-responses"] = responses
    return template


def apply_runtime(template: dict, *, snapstart: bool = True) -> dict:
    """Every function on ``LAMBDA_RUNTIME`` (``chalice package`` writes the version of the Python
    running it). With ``snapstart``: ``SnapStart: ApplyOn: PublishedVersions`` and a version
    published on every deploy behind the alias ``live`` (``AutoPublishAlias``), which API Gateway
    invokes and may invoke (a snapshot exists only for a published version, never ``$LATEST``);
    a scheduled function's events follow the alias by themselves (SAM)."""
    resources = template.get("Resources", {})
    for resource in resources.values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        properties["Runtime"] = LAMBDA_RUNTIME
        if snapstart:
            properties["SnapStart"] = {"ApplyOn": "PublishedVersions"}
            properties["AutoPublishAlias"] = SNAPSTART_ALIAS
    if snapstart and "APIHandler" in resources:
        text = json.dumps(template, ensure_ascii=False).replace("${APIHandler.Arn}", "${APIHandler.Alias}")
        template = json.loads(text)  # the integrations' URIs (and their preflights') name the alias
        permission = template["Resources"].get("APIHandlerInvokePermission")
        if permission is not None:
            permission["Properties"]["FunctionName"] = {"Ref": "APIHandler.Alias"}
        template.setdefault("Outputs", {})["APIHandlerAlias"] = {"Value": {"Ref": "APIHandler.Alias"}}
    return template


def add_bytecode(zip_path: Path, python: str | None = None) -> int:
    """Rewrite ``deployment.zip`` with an unchecked-hash ``.pyc`` beside every module, compiled
    by the Lambda runtime's interpreter (bytecode is per version); how many were added."""
    from build_layer import runtime_python

    try:
        runtime = runtime_python(python)
    except SystemExit as error:
        print(f"warning: {error}; {zip_path} keeps no bytecode", file=sys.stderr)
        return 0
    done = subprocess.run(
        [runtime, str(HERE / "bytecode.py"), str(zip_path)], capture_output=True, text=True, check=True, timeout=300
    )
    return int(done.stdout.strip() or 0)


def inline_layer(zip_path: Path, layer_zip: Path) -> int:
    """Add the layer's ``python/*`` at the root of ``deployment.zip`` (``/var/task`` is on sys.path
    as ``/opt/python`` would be); the function's own files win. How many files were added."""
    tmp = zip_path.with_suffix(".tmp")
    added = 0
    with (
        zipfile.ZipFile(zip_path) as src,
        zipfile.ZipFile(layer_zip) as layer,
        zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        own = set(src.namelist())
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for info in layer.infolist():
            if not info.filename.startswith("python/") or info.is_dir():
                continue
            name = info.filename[len("python/") :]
            if name in own:
                continue
            entry = zipfile.ZipInfo(name, date_time=info.date_time)
            entry.external_attr = info.external_attr or 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, layer.read(info))
            added += 1
    os.replace(tmp, zip_path)
    return added


def secret_resources(env: dict[str, str]) -> dict[str, list]:
    """``{IAM action: [resource ARNs]}`` for the secrets ``env`` names (``<NAME>_SSM``,
    ``<NAME>_SECRET_ID``): an ARN as given, a name in this stack's account and region."""
    from studyhub.core.aws_secrets import references

    grants: dict[str, list] = {}
    for _name, (suffix, reference) in sorted(references(env).items()):
        if reference.startswith("arn:"):
            arn: object = reference
        elif suffix == "_SSM":
            arn = {
                "Fn::Sub": f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{reference.lstrip('/')}"
            }
        else:  # Secrets Manager appends 6 random characters to a secret's name in its ARN
            arn = {
                "Fn::Sub": f"arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{reference}-??????"
            }
        action = "ssm:GetParameter" if suffix == "_SSM" else "secretsmanager:GetSecretValue"
        grants.setdefault(action, []).append(arn)
    return grants


def reference_variables(env: dict[str, str]) -> dict[str, str]:
    """The ``<NAME>_SSM``/``<NAME>_SECRET_ID`` variables of ``env``."""
    from studyhub.core.aws_secrets import references

    return {name + suffix: reference for name, (suffix, reference) in references(env).items()}


def add_reference_variables(template: dict, variables: dict[str, str]) -> dict:
    """Put the secret references into every function's environment. They are kept out of the
    stage while ``chalice package`` imports the app (its settings would read them: no AWS call
    may happen while packaging) and added to the template here."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function" and variables:
            current = resource["Properties"].setdefault("Environment", {}).setdefault("Variables", {})
            resource["Properties"]["Environment"]["Variables"] = dict(sorted({**current, **variables}.items()))
    return template


def grant_secret_reads(template: dict, env: dict[str, str]) -> dict:
    """Let the function's role read the secrets its settings name, and nothing else."""
    grants = secret_resources(env)
    role = template.get("Resources", {}).get("DefaultRole")
    if not grants or role is None:
        return template
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    for action, resources in grants.items():
        statements.append({"Effect": "Allow", "Action": [action], "Resource": resources})
    return template


def package_one(
    name: str,
    source: Path,
    out: Path,
    *,
    stage: str,
    layer_arns: list[str],
    env: dict[str, str],
    chalice: list[str],
    layer_zip: Path | None = None,
    snapstart: bool = True,
) -> Path:
    work = out / "src" / name
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work, ignore=COPY_IGNORE)
    if source == SCHEDULER:  # the jobs as routes.yaml says now (the committed copy is kept current by a test)
        (work / "chalicelib" / "schedule.json").write_text(render_schedule(), encoding="utf-8")
    secret_names = reference_variables(env)
    stage_env = {key: value for key, value in env.items() if key not in secret_names}
    configure(work / ".chalice" / "config.json", stage, layer_arns=layer_arns, env=stage_env)
    target = out / name
    shutil.rmtree(target, ignore_errors=True)
    result = subprocess.run(
        [*chalice, "package", "--stage", stage, str(target)], cwd=work, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise RuntimeError(f"chalice package failed for {name}:\n{result.stdout}\n{result.stderr}")
    template_path = target / "sam.json"
    template = edit_template(json.loads(template_path.read_text(encoding="utf-8")), name, env)
    template = apply_runtime(template, snapstart=snapstart)
    template = grant_secret_reads(add_reference_variables(template, secret_names), env)
    template_path.write_text(json.dumps(template, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    add_bytecode(target / "deployment.zip")
    if layer_zip is not None:
        inline_layer(target / "deployment.zip", layer_zip)
    return template_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "build" / "sam")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--layer-arn", action="append", default=[], help="the common layer's version ARN")
    parser.add_argument("--env-file", type=Path)
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--inline-layer",
        type=Path,
        metavar="LAYER.zip",
        help="put the layer into every deployment.zip instead of --layer-arn (LocalStack community)",
    )
    parser.add_argument("--only", action="append", help="package only this project (repeatable)")
    parser.add_argument(
        "--no-snapstart",
        action="store_true",
        help="no SnapStart and no alias: API Gateway invokes $LATEST (LocalStack's community image)",
    )
    parser.add_argument("--jobs", type=int, default=3, help="chalice package runs at once")
    parser.add_argument(
        "--allow-plaintext-secrets",
        action="store_true",
        help="write secret values into the templates as given (a throwaway stage such as LocalStack)",
    )
    args = parser.parse_args(argv)
    if not os.environ.get("AWS_DEFAULT_REGION") and not os.environ.get("AWS_REGION"):
        print("error: set AWS_DEFAULT_REGION (chalice package needs a region, nothing is sent to AWS)", file=sys.stderr)
        return 1
    if args.inline_layer and not args.inline_layer.is_file():
        print(f"error: no layer zip at {args.inline_layer} (python infra/aws/build_layer.py)", file=sys.stderr)
        return 1
    if not args.layer_arn and not args.inline_layer:
        print(
            "warning: no --layer-arn: the functions will not find studyhub (build_layer.py, then "
            "aws lambda publish-layer-version)",
            file=sys.stderr,
        )
    env = read_env_file(args.env_file) if args.env_file else {}
    env.update(parse_assignments(args.assignments))
    try:
        if not args.allow_plaintext_secrets:
            refuse_plaintext_secrets(env)
        secret_resources(env)  # a value and a reference for one setting: refused before packaging
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    chalice = [sys.executable, "-c", "import sys; from chalice.cli import main; sys.exit(main())"]
    args.out.mkdir(parents=True, exist_ok=True)
    todo = projects(args.only)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {
            name: pool.submit(
                package_one,
                name,
                source,
                args.out,
                stage=args.stage,
                layer_arns=args.layer_arn,
                env=env,
                chalice=chalice,
                layer_zip=args.inline_layer,
                snapstart=not args.no_snapstart,
            )
            for name, source in todo.items()
        }
        failed = False
        for name, future in futures.items():
            try:
                print(f"{name}: {future.result()}")
            except RuntimeError as error:
                failed = True
                print(f"error: {error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
