#!/usr/bin/env python3
"""Wire a Chalice stage of every function to the common layer and the deployment's settings.

Writes into ``functions/*/.chalice/config.json`` (and the scheduler's) for ``--stage``: ``layers:
[ARN]`` (the layer built by ``build_layer.py`` and published with ``aws lambda
publish-layer-version``), ``api_gateway_stage: api`` (so every function answers under ``/api``
as the other front doors do) and the environment variables (``--env-file`` lines ``KEY=VALUE``
and ``--set KEY=VALUE``; ``STUDYHUB_VAR_DIR=/tmp/studyhub`` is kept: /tmp is a Lambda's only
writable place). Other stages and keys are left as they are.

    python infra/aws/configure_stage.py --stage prod --layer-arn arn:aws:lambda:REGION:ACCOUNT:layer:studyhub-common:3 \\
        --env-file prod.env [--set CELERY_BROKER_URL=sqs://]... [--functions-dir functions]

The values land in config.json in clear text and then in the Lambda configuration, so secrets
are refused here (and in ``package.py``, which writes them into ``sam.json``): ``JWT_SECRET``,
``ALIPAY_APP_PRIVATE_KEY`` and any URL setting carrying a password. Store each in SSM Parameter
Store or Secrets Manager and give its name instead (``JWT_SECRET_SSM=/studyhub/prod/jwt_secret``,
``DATABASE_URL_SECRET_ID=studyhub/prod/db``): the functions read it at their cold start
(``studyhub.core.aws_secrets``). ``--allow-plaintext-secrets`` is for a throwaway stage
(LocalStack).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
SCHEDULER_DIR = ROOT / "infra" / "aws" / "scheduler"
ARN = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_ENV = {"STUDYHUB_VAR_DIR": "/tmp/studyhub"}
# Settings whose value is a secret, and URL settings whose URL may carry a password: the same list
# as studyhub.core.aws_secrets.SECRET_SETTINGS (a test keeps them equal).
SECRET_VALUES = ("JWT_SECRET", "ALIPAY_APP_PRIVATE_KEY")
SECRET_URLS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SMTP_URL", "ELASTICSEARCH_URL", "STORAGE_URL")


def plaintext_secrets(env: dict[str, str]) -> list[str]:
    """The settings of ``env`` that would put a secret in clear text into a template or config."""
    found = [name for name in SECRET_VALUES if (env.get(name) or "").strip()]
    for name in SECRET_URLS:
        try:
            password = urlsplit(env.get(name) or "").password
        except ValueError:
            password = None
        if password:
            found.append(name)
    return found


def refuse_plaintext_secrets(env: dict[str, str]) -> None:
    found = plaintext_secrets(env)
    if found:
        example = found[0]
        raise ValueError(
            f"{', '.join(found)} would be written in clear text: store each in SSM Parameter Store "
            f"(aws ssm put-parameter --type SecureString --name /studyhub/STAGE/{example.lower()} --value ...) "
            f"or Secrets Manager and set {example}_SSM=<parameter name> or {example}_SECRET_ID=<secret name or ARN> "
            "instead (--allow-plaintext-secrets: a throwaway stage only)"
        )


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines; blank lines and ``#`` comments skipped; one level of quotes removed."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not NAME.match(key):
            raise ValueError(f"{path}:{number}: expected KEY=VALUE")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def parse_assignments(items: list[str]) -> dict[str, str]:
    values = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not NAME.match(key):
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        values[key] = value
    return values


def configure(
    config_path: Path, stage: str, *, layer_arns: list[str], env: dict[str, str], api_stage: str | None = "api"
) -> dict:
    """Update one ``.chalice/config.json`` in place; returns the stage as written."""
    for arn in layer_arns:
        if not ARN.match(arn):
            raise ValueError(f"not a Lambda layer version ARN: {arn!r}")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    stages = config.setdefault("stages", {})
    current = stages.setdefault(stage, {})
    serves_http = "api_gateway_stage" in config or any("api_gateway_stage" in s for s in stages.values())
    if api_stage and serves_http:  # the scheduler has no API
        current["api_gateway_stage"] = api_stage
    current["layers"] = list(layer_arns)
    variables = {**DEFAULT_ENV, **current.get("environment_variables", {}), **env}
    current["environment_variables"] = dict(sorted(variables.items()))
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return current


def project_dirs(functions_dir: Path, with_scheduler: bool = True) -> list[Path]:
    dirs = sorted(p.parent.parent for p in functions_dir.glob("*/.chalice/config.json"))
    if with_scheduler and (SCHEDULER_DIR / ".chalice" / "config.json").exists():
        dirs.append(SCHEDULER_DIR)
    return dirs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument(
        "--layer-arn",
        action="append",
        default=[],
        required=True,
        help="layer version ARN (repeatable; order is Lambda's layer order)",
    )
    parser.add_argument("--env-file", type=Path, help="KEY=VALUE lines to set as environment variables")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--functions-dir", type=Path, default=ROOT / "functions")
    parser.add_argument("--no-scheduler", action="store_true", help="leave infra/aws/scheduler alone")
    parser.add_argument(
        "--allow-plaintext-secrets", action="store_true", help="write secret values as given (a throwaway stage)"
    )
    args = parser.parse_args(argv)
    try:
        env = read_env_file(args.env_file) if args.env_file else {}
        env.update(parse_assignments(args.assignments))
        if not args.allow_plaintext_secrets:
            refuse_plaintext_secrets(env)
        dirs = project_dirs(args.functions_dir, with_scheduler=not args.no_scheduler)
        if not dirs:
            raise ValueError(f"no Chalice project under {args.functions_dir}")
        for directory in dirs:
            configure(directory / ".chalice" / "config.json", args.stage, layer_arns=args.layer_arn, env=env)
            print(f"{directory.name}: stage {args.stage} -> layers {args.layer_arn}, {len(env)} variables set")
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
