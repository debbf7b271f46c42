"""API.md §2 "Password reset and sessions" and "Deactivated users": a superuser sets or resets a
password, a teacher resets their student's (emailed through the credentials outbox, real worker,
real SMTP server), logout and refresh, and every revoked token is 401 in every process."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time

import jwt
import pytest
from conftest import DEFAULT_PASSWORD, free_port, login, token_for
from mail_fixtures import SmtpServer, queued_messages

NEW_PASSWORD = "brand-new-pass-1"


@pytest.fixture
def smtp(platform, monkeypatch):
    from studyhub.core import config

    server = SmtpServer(free_port())
    server.start()
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    config.reset()
    yield server
    server.stop()
    config.reset()


class LogLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()} {record.args!r} {getattr(record, 'data', '')}")


@pytest.fixture
def captured_logs(platform):
    """Every record of the `studyhub` logger (propagate=False) and of the root logger (Celery)."""
    handler = LogLines()
    loggers = [logging.getLogger("studyhub"), logging.getLogger()]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.fixture
def klass(client, teacher, student):
    """A class with the teacher and the student in it."""
    response = client.as_user(teacher).post(
        "/api/school/classes", json={"name": "Python 一班", "member": [teacher.id, student.id]}
    )
    assert response.status_code == 201, response.text
    return response.json()


def me(client, user, token):
    return client.get(f"/api/users/users/{user.id}", token=token)


def reset(client, caller, user):
    return client.as_user(caller).post(f"/api/users/users/{user.id}/password/reset")


def outbox():
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.models.school import CredentialsMail

    with session_scope() as session:
        return [(m.id, m.user_id, m.class_name, m.secret) for m in session.scalars(select(CredentialsMail))]


def password_from(message) -> str:
    return re.search(r"初始密码：(\S+)", message.get_body(("plain",)).get_content()).group(1)


# --- setting a password ---------------------------------------------------------------------


def test_superuser_sets_anyones_password_with_the_new_one_alone(client, superuser, student):
    response = client.as_user(superuser).put(
        f"/api/users/users/{student.id}/password", json={"new_password": NEW_PASSWORD}
    )
    assert response.status_code == 204 and response.content == b""
    assert login(client, student.username, DEFAULT_PASSWORD).json()["code"] == "invalid_credentials"
    assert login(client, student.username, NEW_PASSWORD).status_code == 200


def test_own_password_still_needs_the_old_one_even_for_a_superuser(client, superuser):
    response = client.as_user(superuser).put(
        f"/api/users/users/{superuser.id}/password", json={"new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400 and "old_password" in response.json()["errors"]
    assert login(client, superuser.username, DEFAULT_PASSWORD).status_code == 200


def test_superuser_setting_a_short_password_is_400(client, superuser, student):
    response = client.as_user(superuser).put(f"/api/users/users/{student.id}/password", json={"new_password": "short"})
    assert response.status_code == 400 and response.json()["errors"]["new_password"] == ["密码至少 8 位"]


def test_a_password_change_revokes_every_earlier_token_but_not_the_next_login(client, student):
    first, second = token_for(student), token_for(student)
    response = client.put(
        f"/api/users/users/{student.id}/password",
        token=first,
        json={"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 204
    for token in (first, second):
        revoked = me(client, student, token)
        assert revoked.status_code == 401 and revoked.json()["code"] == "token_revoked"
        assert revoked.headers["WWW-Authenticate"].startswith("Bearer")
    fresh = login(client, student.username, NEW_PASSWORD).json()["token"]  # within the same second
    assert me(client, student, fresh).status_code == 200


def test_a_superuser_setting_a_password_revokes_that_users_tokens_only(client, superuser, student, teacher):
    student_token, teacher_token = token_for(student), token_for(teacher)
    client.as_user(superuser).put(f"/api/users/users/{student.id}/password", json={"new_password": NEW_PASSWORD})
    assert me(client, student, student_token).status_code == 401
    assert me(client, teacher, teacher_token).status_code == 200


# --- logout and refresh ---------------------------------------------------------------------


def test_logout_revokes_that_token_and_no_other(client, student):
    phone, laptop = token_for(student), token_for(student)
    assert client.post("/api/users/logout", token=phone).status_code == 204
    response = me(client, student, phone)
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"
    assert client.post("/api/users/logout", token=phone).status_code == 401
    assert me(client, student, laptop).status_code == 200


def test_logout_holds_in_another_process(client, platform, student):
    token = token_for(student)
    assert client.post("/api/users/logout", token=token).status_code == 204
    # A separate interpreter with the same settings (another function, another Lambda instance).
    check = (
        "import json, sys\n"
        "from studyhub.core.db import session_scope\n"
        "from studyhub.core.errors import Unauthorized\n"
        "from studyhub.http.auth import user_from_token\n"
        "with session_scope() as session:\n"
        "    try:\n"
        "        user_from_token(session.connection, sys.argv[1])\n"
        "        print('accepted')\n"
        "    except Unauthorized as error:\n"
        "        print(error.code)\n"
    )
    env = {**os.environ, **platform.env, "CACHE_KEY_PREFIX": os.environ["CACHE_KEY_PREFIX"]}
    result = subprocess.run(
        [sys.executable, "-c", check, token], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    assert result.stdout.strip() == "token_revoked"


def test_logout_needs_a_token(client):
    assert client.post("/api/users/logout").status_code == 401


def test_refresh_gives_a_fresh_token_and_keeps_the_old_one(client, platform, student):
    old = token_for(student)
    time.sleep(0.01)
    response = client.post("/api/users/token/refresh", token=old)
    assert response.status_code == 200 and set(response.json()) == {"token"}
    new = response.json()["token"]
    secret = platform.env["JWT_SECRET"]
    old_claims, new_claims = (jwt.decode(t, secret, algorithms=["HS256"]) for t in (old, new))
    assert new_claims["sub"] == str(student.id) and new_claims["jti"] != old_claims["jti"]
    assert new_claims["exp"] > old_claims["exp"]
    assert me(client, student, new).status_code == 200 and me(client, student, old).status_code == 200
    assert client.post("/api/users/logout", token=new).status_code == 204
    assert client.post("/api/users/token/refresh", token=new).status_code == 401


def test_a_token_without_an_id_is_401(client, platform, student):
    now = time.time()
    claims = {"sub": str(student.id), "username": student.username, "iat": now, "exp": now + 60}
    token = jwt.encode(claims, platform.env["JWT_SECRET"], algorithm="HS256")
    response = me(client, student, token)
    assert response.status_code == 401 and response.json()["code"] == "token_invalid"


@pytest.mark.mysql_only
def test_a_cache_outage_fails_closed_with_503(client, student, monkeypatch):
    """The denylist can't be read: a possibly logged-out token is not let through."""
    from studyhub.clients import cache
    from studyhub.core import config

    token = token_for(student)
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    monkeypatch.setenv("BACKEND_TIMEOUT_SECONDS", "1")
    config.reset()
    cache.reset()
    try:
        response = me(client, student, token)
        assert response.status_code == 503 and response.json()["code"] == "service_unavailable"
        assert client.post("/api/users/logout", token=token).status_code == 503
    finally:
        monkeypatch.undo()
        config.reset()
        cache.reset()
    assert me(client, student, token).status_code == 200  # nothing was revoked by the failed logout


# --- deactivated users ----------------------------------------------------------------------


def test_superuser_lists_reads_and_reactivates_a_deactivated_user(client, superuser, student, teacher):
    api = client.as_user(superuser)
    assert api.delete(f"/api/users/users/{student.id}").status_code == 204
    inactive = api.get("/api/users/users?is_active=false").json()
    assert [u["id"] for u in inactive["results"]] == [student.id] and inactive["results"][0]["is_active"] is False
    assert student.id not in [u["id"] for u in api.get("/api/users/users?is_active=true").json()["results"]]
    assert api.get(f"/api/users/users/{student.id}").json()["username"] == student.username

    response = api.patch(f"/api/users/users/{student.id}", json={"is_active": True})
    assert response.status_code == 200 and response.json()["is_active"] is True
    assert student.id in [u["id"] for u in api.get("/api/users/users").json()["results"]]
    assert login(client, student.username).status_code == 200


def test_deactivated_users_stay_404_for_everyone_else(client, superuser, teacher, student):
    client.as_user(superuser).delete(f"/api/users/users/{student.id}")
    api = client.as_user(teacher)
    assert api.get("/api/users/users?is_active=false").json()["count"] == 0
    assert api.get(f"/api/users/users/{student.id}").status_code == 404
    assert api.patch(f"/api/users/users/{student.id}", json={"is_active": True}).status_code == 404
    assert client.as_user(superuser).get(f"/api/users/users/{student.id}").json()["is_active"] is False


def test_a_teacher_cannot_reactivate(client, superuser, teacher, make_user):
    colleague = make_user("teacher")
    response = client.as_user(teacher).patch(f"/api/users/users/{colleague.id}", json={"is_active": False})
    assert response.status_code == 403
    assert client.as_user(superuser).get(f"/api/users/users/{colleague.id}").json()["is_active"] is True


def test_bad_is_active_filter_is_400(client, superuser):
    response = client.as_user(superuser).get("/api/users/users?is_active=maybe")
    assert response.status_code == 400 and "is_active" in response.json()["errors"]


# --- password reset -------------------------------------------------------------------------


def test_teacher_resets_their_students_password_which_arrives_by_email(
    client, teacher, student, klass, smtp, job_worker, captured_logs
):
    old_token = token_for(student)
    response = reset(client, teacher, student)
    assert response.status_code == 202, response.text

    ((recipients, message, _tls),) = smtp.wait_for(1)
    assert recipients == [student.email]
    assert "Python 一班" in message["Subject"]
    password = password_from(message)
    assert len(password) >= 10
    assert password not in response.text
    assert not [line for line in captured_logs.lines if password in line]

    assert me(client, student, old_token).status_code == 401
    assert login(client, student.username, DEFAULT_PASSWORD).json()["code"] == "invalid_credentials"
    assert login(client, student.username, password).status_code == 200
    time.sleep(0.5)
    assert len(smtp.received) == 1  # one reset, one email


def test_one_reset_queues_exactly_one_job_with_the_outbox_id(client, teacher, student, klass):
    before = len(queued_messages())
    assert reset(client, teacher, student).status_code == 202
    ((mail_id, user_id, class_name, sealed),) = outbox()
    assert user_id == student.id and class_name == "Python 一班"
    jobs = queued_messages()[before:]
    assert [(m["task"], m["args"]) for m in jobs] == [("studyhub.school.send_credentials", [mail_id])]
    from studyhub.clients.mail import unseal

    assert unseal(sealed) not in jobs[0]["raw"]


def test_a_second_reset_replaces_the_email_still_waiting(client, superuser, student):
    reset(client, superuser, student)
    reset(client, superuser, student)
    assert len(outbox()) == 1  # the first password no longer works: its email is not sent


def test_a_user_in_no_class_gets_the_email_without_the_class_line(client, superuser, teacher, smtp, job_worker):
    assert reset(client, superuser, teacher).status_code == 202
    ((_recipients, message, _tls),) = smtp.wait_for(1)
    assert message["Subject"] == "您的 StudyHub 登录账号"
    text = message.get_body(("plain",)).get_content()
    assert "欢迎进入" not in text and "【" not in text
    assert "欢迎进入" not in message.get_body(("html",)).get_content()
    assert login(client, teacher.username, password_from(message)).status_code == 200


def test_who_may_reset_and_what_the_others_get(client, superuser, teacher, student, klass, make_user):
    stranger_teacher, other_student = make_user("teacher"), make_user("student")
    colleague = make_user("teacher")
    client.as_user(teacher).patch(
        f"/api/school/classes/{klass['id']}", json={"member": [teacher.id, student.id, colleague.id]}
    )
    deactivated = make_user("student", is_active=False)
    assert reset(client, stranger_teacher, student).status_code == 403  # shares no class
    assert reset(client, teacher, other_student).status_code == 403
    assert reset(client, teacher, colleague).status_code == 403  # a class member, but no student
    assert reset(client, teacher, teacher).status_code == 403
    assert reset(client, student, other_student).status_code == 404  # a private row
    assert reset(client, student, student).status_code == 403
    assert reset(client, teacher, deactivated).status_code == 404
    response = reset(client, superuser, deactivated)
    assert response.status_code == 409 and response.json()["code"] == "user_inactive"
    assert client.as_user(superuser).post("/api/users/users/987654/password/reset").status_code == 404
    assert client.post(f"/api/users/users/{student.id}/password/reset").status_code == 401
    assert outbox() == []
    assert login(client, student.username).status_code == 200  # nothing changed


def test_a_user_without_email_is_409_and_keeps_the_password(client, superuser, make_user):
    user = make_user("student", email="")
    token = token_for(user)
    response = reset(client, superuser, user)
    assert response.status_code == 409 and response.json()["code"] == "email_missing"
    assert outbox() == [] and me(client, user, token).status_code == 200


# --- the command line -----------------------------------------------------------------------


def cli(platform, *args, stdin=None):
    env = {**os.environ, **platform.env}
    return subprocess.run(
        [sys.executable, "-m", "studyhub.ops.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_set_password_command_sets_it_and_revokes_earlier_tokens(client, platform, student):
    token = token_for(student)
    result = cli(platform, "set-password", student.username.upper(), "--password", NEW_PASSWORD)
    assert result.returncode == 0, result.stderr
    assert NEW_PASSWORD not in result.stdout + result.stderr
    assert me(client, student, token).status_code == 401
    assert login(client, student.username, NEW_PASSWORD).status_code == 200


def test_set_password_command_prompts_twice_and_applies_the_rules(client, platform, student):
    mismatch = cli(platform, "set-password", student.username, stdin="one-password-1\nanother-pass-2\n")
    assert mismatch.returncode != 0
    short = cli(platform, "set-password", student.username, "--password", "1234567")
    assert short.returncode == 1 and short.stderr.strip() == "error: 密码至少 8 位"
    ghost = cli(platform, "set-password", "ghost", "--password", NEW_PASSWORD)
    assert ghost.returncode == 1 and "ghost" in ghost.stderr
    assert login(client, student.username).status_code == 200  # unchanged so far
    prompted = cli(platform, "set-password", student.username, stdin=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert prompted.returncode == 0, prompted.stderr
    assert NEW_PASSWORD not in prompted.stdout
    assert login(client, student.username, NEW_PASSWORD).status_code == 200
