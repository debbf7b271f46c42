"""A backing service that is down answers 503 service_unavailable quickly — never a hang or 500."""

import shutil
import subprocess
import time
import uuid

import pytest
from conftest import DEFAULT_PASSWORD, free_port, missing, port_open, reset_clients


@pytest.fixture
def private_redis(platform, monkeypatch):
    """A Redis server of our own, so the test can really stop it."""
    if not shutil.which("redis-server"):
        missing("redis-server is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(50):
        if port_open("127.0.0.1", port):
            break
        time.sleep(0.1)
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
    reset_clients()
    yield proc
    proc.kill()
    proc.wait()
    reset_clients()


def test_login_answers_503_quickly_when_redis_is_stopped(client, student, private_redis):
    key = str(uuid.uuid4())
    assert client.get(f"/api/users/image/verification/{key}", headers={"Accept": "*/*"}).status_code == 200
    private_redis.kill()
    private_redis.wait()
    started = time.monotonic()
    response = client.post(
        "/api/users/login",
        json={"username": student.username, "password": DEFAULT_PASSWORD, "uuid": key, "verify": "abcd"},
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable" and "cache" in response.json()["detail"]
    assert elapsed < 2.0
    captcha = client.get(f"/api/users/image/verification/{uuid.uuid4()}", headers={"Accept": "*/*"})
    assert captcha.status_code == 503
    health = client.get("/api/users/health")
    assert health.status_code == 503 and health.json()["checks"]["cache"] == "unavailable"


def test_database_routes_answer_503_quickly_when_the_database_is_unreachable(client, student, monkeypatch):
    from conftest import token_for

    token = token_for(student)
    monkeypatch.setenv("DATABASE_URL", f"mysql+pymysql://root@127.0.0.1:{free_port()}/studyhub")
    reset_clients()
    for method, path in [
        ("GET", "/api/users/area"),
        ("GET", f"/api/users/users/{student.id}"),
        ("GET", "/api/users/address"),
    ]:
        started = time.monotonic()
        response = client.request(method, path, token=token)
        assert response.status_code == 503, (path, response.text)
        assert response.json() == {"detail": response.json()["detail"], "code": "service_unavailable"}
        assert "database" in response.json()["detail"]
        assert time.monotonic() - started < 2.0
    health = client.get("/api/users/health")
    assert health.status_code == 503
    assert health.json()["checks"]["database"] == "unavailable" and health.json()["status"] == "unavailable"
    reset_clients()


def test_health_is_ok_when_everything_is_up(client):
    body = client.get("/api/users/health").json()
    assert body == {"status": "ok", "function": "users", "checks": {"database": "ok", "cache": "ok"}}
