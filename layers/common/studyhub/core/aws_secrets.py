"""Secret settings read from AWS by name at start, instead of written into templates.

Any setting of ``SECRET_SETTINGS`` can be given as a reference instead of its value:

- ``<NAME>_SSM=/studyhub/prod/jwt_secret``: an SSM Parameter Store parameter (a ``SecureString``
  is decrypted);
- ``<NAME>_SECRET_ID=studyhub/prod/db`` (a name or an ARN): a Secrets Manager secret. Its string
  is the value; for ``DATABASE_URL`` it may also be the JSON RDS keeps for a managed or rotated
  password (``{"engine", "host", "port", "username", "password", "dbname"}``), made into a
  ``mysql+pymysql://`` URL.

References are resolved once, when the settings are loaded (a Lambda container's cold start,
a process's first use), and the settings object keeps the values for the life of the process.
boto3 is imported and a client created only when a reference is present, never at import; the
region is the environment's (``AWS_REGION`` on Lambda), the endpoint boto3's default unless
``AWS_ENDPOINT_URL_SSM``/``AWS_ENDPOINT_URL_SECRETS_MANAGER``/``AWS_ENDPOINT_URL`` name one
(LocalStack, moto). A missing
secret or an unreachable service stops the start with a message naming the setting.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

# Settings that hold a secret or may carry a password in their URL.
SECRET_SETTINGS = (
    "JWT_SECRET",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "SMTP_URL",
    "ELASTICSEARCH_URL",
    "STORAGE_URL",
    "ALIPAY_APP_PRIVATE_KEY",
)
SSM_SUFFIX = "_SSM"
SECRET_ID_SUFFIX = "_SECRET_ID"
# A cold start waits at most about this long per secret, not boto3's default minutes of retries.
TIMEOUT_SECONDS = 5


class SecretError(ValueError):
    """A reference that can't be resolved: the process must not start with a wrong setting."""


def references(env: dict[str, str]) -> dict[str, tuple[str, str]]:
    """``{setting: (suffix, reference)}`` for every reference present (empty values ignored)."""
    found = {}
    for name in SECRET_SETTINGS:
        for suffix in (SSM_SUFFIX, SECRET_ID_SUFFIX):
            reference = (env.get(name + suffix) or "").strip()
            if not reference:
                continue
            if name in found:
                raise SecretError(f"setting {name}: give {name}{SSM_SUFFIX} or {name}{SECRET_ID_SUFFIX}, not both")
            if (env.get(name) or "").strip():
                raise SecretError(f"setting {name}: give {name} or {name}{suffix}, not both")
            found[name] = (suffix, reference)
    return found


def resolve(env: dict[str, str]) -> dict[str, str]:
    """``env`` with every reference replaced by the value it names (the same dict when none)."""
    wanted = references(env)
    if not wanted:
        return env
    clients: dict[str, Any] = {}
    resolved = dict(env)
    for name, (suffix, reference) in wanted.items():
        service = "ssm" if suffix == SSM_SUFFIX else "secretsmanager"
        if service not in clients:
            clients[service] = _client(service, env)
        try:
            if service == "ssm":
                value = clients[service].get_parameter(Name=reference, WithDecryption=True)["Parameter"]["Value"]
            else:
                value = _secret_string(clients[service].get_secret_value(SecretId=reference), name)
        except SecretError:
            raise
        except Exception as error:  # noqa: BLE001 - botocore's errors: not found, denied, unreachable
            raise SecretError(f"setting {name}{suffix}={reference!r}: can't read it ({error})") from error
        resolved[name] = value
    return resolved


def _client(service: str, env: dict[str, str]) -> Any:
    """A client from the settings' environment: region and endpoint as boto3 would read them
    (credentials: boto3's usual chain, the function's role on Lambda)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=TIMEOUT_SECONDS, read_timeout=TIMEOUT_SECONDS, retries={"max_attempts": 2, "mode": "standard"}
    )
    endpoint = env.get("AWS_ENDPOINT_URL_" + ("SSM" if service == "ssm" else "SECRETS_MANAGER")) or env.get(
        "AWS_ENDPOINT_URL"
    )
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    return boto3.session.Session().client(
        service, region_name=region or None, endpoint_url=endpoint or None, config=config
    )


def _secret_string(answer: dict[str, Any], name: str) -> str:
    text = answer.get("SecretString")
    if text is None:
        raise SecretError(f"setting {name}: the secret holds binary data, not a string")
    if name == "DATABASE_URL" and text.lstrip().startswith("{"):
        return _database_url(json.loads(text), name)
    return str(text)


def _database_url(fields: dict[str, Any], name: str) -> str:
    """The URL of an RDS-format secret (what RDS writes for managed or rotated passwords)."""
    missing = [key for key in ("host", "username", "password") if not fields.get(key)]
    if missing:
        raise SecretError(f"setting {name}: the secret's JSON lacks {', '.join(missing)}")
    engine = str(fields.get("engine") or "mysql")
    if engine not in ("mysql", "mariadb"):
        raise SecretError(f"setting {name}: the secret is for {engine!r}, StudyHub runs on MySQL/MariaDB")
    user, password = quote(str(fields["username"]), safe=""), quote(str(fields["password"]), safe="")
    port = fields.get("port") or 3306
    database = quote(str(fields.get("dbname") or "studyhub"), safe="")
    return f"mysql+pymysql://{user}:{password}@{fields['host']}:{port}/{database}?charset=utf8mb4"
