"""API.md §8: the studyhub command, run as operators run it (a real subprocess)."""

import os
import subprocess
import sys

import jwt


def run(platform, *args, env=None):
    full_env = {**os.environ, **platform.env, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "studyhub.ops.cli", *args], capture_output=True, text=True, env=full_env, timeout=120
    )


def test_createsuperuser_then_token(platform):
    created = run(
        platform, "createsuperuser", "--username", "ops", "--password", "ops-password-1", "--email", "ops@example.com"
    )
    assert created.returncode == 0, created.stderr
    assert "ops" in created.stdout and "ops-password-1" not in created.stdout + created.stderr
    token = run(platform, "token", "ops")
    assert token.returncode == 0
    claims = jwt.decode(token.stdout.strip(), platform.env["JWT_SECRET"], algorithms=["HS256"])
    assert claims["username"] == "ops"


def test_token_for_unknown_user_fails_with_one_line(platform):
    result = run(platform, "token", "ghost")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "ghost" in result.stderr


def test_createsuperuser_with_taken_username_fails_cleanly(platform, superuser):
    result = run(platform, "createsuperuser", "--username", superuser.username, "--password", "whatever-123")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")


def test_createsuperuser_applies_the_password_and_username_rules(platform, superuser):
    short = run(platform, "createsuperuser", "--username", "ops", "--password", "1234567")
    assert short.returncode == 1 and short.stderr.strip() == "error: 密码至少 8 位"
    spaced = run(platform, "createsuperuser", "--username", "ops ", "--password", "ops-password-1")
    assert spaced.returncode == 1 and "用户名首尾不能有空格" in spaced.stderr
    variant = run(platform, "createsuperuser", "--username", superuser.username.upper(), "--password", "ops-password-1")
    assert variant.returncode == 1 and "已存在" in variant.stderr
    assert run(platform, "token", superuser.username.upper()).returncode == 0  # any spelling names the account


def test_migrate_and_seed_are_idempotent(platform):
    assert run(platform, "migrate").returncode == 0
    first = run(platform, "seed")
    assert first.returncode == 0 and "areas_added=0" in first.stdout


def test_seed_demo_creates_demo_accounts(platform, client):
    result = run(platform, "seed", "--demo")
    assert result.returncode == 0, result.stderr
    from conftest import login

    assert login(client, "teacher1", "studyhub-demo").status_code == 200


def test_nginx_config_lists_every_function(platform):
    result = run(platform, "nginx-config", "--upstream", "users=127.0.0.1:9001,127.0.0.1:9002")
    assert result.returncode == 0
    assert "server 127.0.0.1:9001" in result.stdout and "server 127.0.0.1:9002" in result.stdout
    bad = run(platform, "nginx-config", "--upstream", "nope=1.2.3.4:1")
    assert bad.returncode == 1 and "nope" in bad.stderr


def test_unreachable_database_is_a_clear_error(platform):
    result = run(platform, "token", "x", env={"DATABASE_URL": "mysql+pymysql://root@127.0.0.1:1/none"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
