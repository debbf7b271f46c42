"""One log line per request with id, method, path, status, duration, user; never a secret."""

import json
import logging

from conftest import DEFAULT_PASSWORD, login
from log_fixtures import Capture


def test_each_request_logs_one_line_with_its_fields(client, student, captured):
    response = client.as_user(student).get(f"/api/users/users/{student.id}", headers={"X-Request-Id": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    lines = [r for r in captured.records if r.name == "studyhub.request"]
    assert len(lines) == 1
    record = lines[0]
    assert (record.request_id, record.method, record.path, record.status, record.user_id) == (
        "abc123",
        "GET",
        f"/api/users/users/{student.id}",
        200,
        student.id,
    )
    assert record.duration_ms >= 0


def test_no_password_or_token_in_any_log_output(client, platform, student, captured):
    token = login(client, student.username, DEFAULT_PASSWORD).json()["token"]
    login(client, student.username, "wrong-secret-password")
    client.get("/api/users/users", headers={"Authorization": f"Bearer {token}"})
    logging.getLogger("studyhub.test").warning("password=hunter2 Authorization: Bearer %s", token)
    text = "\n".join(
        h.format(r)
        for r in captured.records
        for h in logging.getLogger("studyhub").handlers
        if not isinstance(h, Capture)
    )
    text += (platform.var_dir / "logs" / "studyhub.log").read_text()
    for secret in (DEFAULT_PASSWORD, "wrong-secret-password", token, "hunter2"):
        assert secret not in text


def test_scrub_removes_keys_and_url_credentials():
    from studyhub.core.logs import scrub

    text = scrub(
        "smtp://user:pa55@host:25 -----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- "
        '{"password": "x1"} secret=s3cr3t'
    )
    assert "pa55" not in text and "abc" not in text and "x1" not in text and "s3cr3t" not in text


def test_json_log_format(tmp_path, monkeypatch):
    from studyhub.core import config
    from studyhub.core.logs import setup_logging

    log_file = tmp_path / "out.log"
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_FILE", str(log_file))
    config.reset()
    try:
        setup_logging(force=True)
        logging.getLogger("studyhub.request").info(
            "request",
            extra={
                "request_id": "r1",
                "method": "GET",
                "path": "/api/x",
                "status": 200,
                "duration_ms": 1.5,
                "user_id": 7,
            },
        )
        for handler in logging.getLogger("studyhub").handlers:
            handler.flush()
        line = json.loads(log_file.read_text().strip().splitlines()[-1])
        assert line["request_id"] == "r1" and line["status"] == 200 and line["user_id"] == 7
    finally:
        monkeypatch.undo()
        config.reset()
        setup_logging(force=True)


def test_settings_repr_shows_no_secret():
    from studyhub.core.config import load_settings

    settings = load_settings(
        {
            "JWT_SECRET": "jwt-secret-value",
            "ALIPAY_APP_PRIVATE_KEY": "pem-private-value",
            "STUDYHUB_VAR_DIR": "/tmp/studyhub-repr-test",
        }
    )
    assert "jwt-secret-value" not in repr(settings) and "pem-private-value" not in repr(settings)
