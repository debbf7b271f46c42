"""Secrets on AWS read by name at start (issue 13: the packaging wrote JWT_SECRET and the database
password in clear text into sam.json): ``<NAME>_SSM`` (Parameter Store) and ``<NAME>_SECRET_ID``
(Secrets Manager) against moto's server over HTTP, through the settings and through a served
platform in another process; boto3 is not even imported when no reference is given."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import jwt
import pytest
from conftest import free_port
from served import served
from sqlalchemy.engine import make_url

from studyhub.core.aws_secrets import SecretError
from studyhub.core.config import load_settings

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """moto's HTTP server; yields the settings that point boto3 at it."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "STUDYHUB_VAR_DIR": str(tmp_path_factory.mktemp("secrets-var")),
    }
    server.stop()


@pytest.fixture
def aws_env(aws, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # boto3's credential chain reads os.environ
        monkeypatch.setenv(key, aws[key])
    return aws


def client(aws: dict[str, str], service: str):
    import boto3

    return boto3.client(service, region_name=REGION, endpoint_url=aws["AWS_ENDPOINT_URL"])


def ssm_parameter(aws: dict[str, str], value: str) -> str:
    name = f"/studyhub/test/{uuid.uuid4().hex[:8]}/jwt_secret"
    client(aws, "ssm").put_parameter(Name=name, Value=value, Type="SecureString")
    return name


def secret(aws: dict[str, str], value: str) -> str:
    return client(aws, "secretsmanager").create_secret(
        Name=f"studyhub/test/{uuid.uuid4().hex[:8]}", SecretString=value
    )["ARN"]


def test_jwt_secret_is_read_from_parameter_store_by_name(aws_env):
    value = "ssm-secret-" + uuid.uuid4().hex * 2
    settings = load_settings({**aws_env, "JWT_SECRET_SSM": ssm_parameter(aws_env, value)})
    assert settings.jwt_secret == value


def test_database_url_from_secrets_manager_as_a_url_or_rds_json(aws_env):
    url = "mysql+pymysql://studyhub:plain-pass@db.internal:3306/studyhub?charset=utf8mb4"
    assert (
        load_settings({**aws_env, "JWT_SECRET": "x" * 64, "DATABASE_URL_SECRET_ID": secret(aws_env, url)}).database_url
        == url
    )
    rds = {
        "engine": "mysql",
        "host": "db.internal",
        "port": 3307,
        "username": "app",
        "password": "p@ss:w/rd%?",
        "dbname": "sh",
    }
    by_name = secret(aws_env, json.dumps(rds)).rsplit(":", 1)[-1].rsplit("-", 1)[0]  # a name works as well as the ARN
    built = make_url(load_settings({**aws_env, "JWT_SECRET": "x" * 64, "DATABASE_URL_SECRET_ID": by_name}).database_url)
    assert (built.drivername, built.host, built.port, built.database) == ("mysql+pymysql", "db.internal", 3307, "sh")
    assert (built.username, built.password) == ("app", "p@ss:w/rd%?")


def test_a_reference_that_cant_be_read_stops_the_start_naming_the_setting(aws_env):
    with pytest.raises(SecretError, match=r"JWT_SECRET_SSM='/studyhub/nowhere'.*can't read it"):
        load_settings({**aws_env, "JWT_SECRET_SSM": "/studyhub/nowhere"})
    rds_without_password = secret(aws_env, json.dumps({"host": "db", "username": "app"}))
    with pytest.raises(SecretError, match="DATABASE_URL: the secret's JSON lacks password"):
        load_settings({**aws_env, "JWT_SECRET": "x" * 64, "DATABASE_URL_SECRET_ID": rds_without_password})


def test_a_value_and_a_reference_for_one_setting_are_refused(aws_env):
    with pytest.raises(SecretError, match="give JWT_SECRET or JWT_SECRET_SSM, not both"):
        load_settings({**aws_env, "JWT_SECRET": "x" * 64, "JWT_SECRET_SSM": "/studyhub/jwt"})
    with pytest.raises(SecretError, match="not both"):
        load_settings({**aws_env, "DATABASE_URL_SSM": "/a", "DATABASE_URL_SECRET_ID": "b", "JWT_SECRET": "x" * 64})


def test_without_a_reference_boto3_is_never_imported(tmp_path):
    probe = "import sys; from studyhub.core.config import load_settings; load_settings(); print('boto3' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_SSM", "_SECRET_ID"))}
    env.update({"STUDYHUB_VAR_DIR": str(tmp_path), "JWT_SECRET": "x" * 64})
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.slow
def test_a_served_platform_signs_and_checks_tokens_with_the_parameter_stores_secret(aws_env, tmp_path):
    """Another process (the server, the CLI) reads the same parameter at its start: a token the CLI
    issues is accepted by the server, and is signed with exactly the stored value."""
    value = "served-ssm-secret-" + uuid.uuid4().hex * 2
    settings = {k: v for k, v in aws_env.items() if k != "STUDYHUB_VAR_DIR"}
    settings.update({"JWT_SECRET": "", "JWT_SECRET_SSM": ssm_parameter(aws_env, value)})
    with served(tmp_path, settings) as platform:
        token = platform.superuser_token("root")
        assert jwt.decode(token, value, algorithms=["HS256"])["username"] == "root"
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, "another-secret-" * 4, algorithms=["HS256"])
        import httpx

        me = httpx.get(f"{platform.url}/api/users/users", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert me.status_code == 200, me.text
        assert not (tmp_path / "var" / "jwt_secret").exists()  # nothing generated, nothing written
