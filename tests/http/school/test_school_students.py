"""API.md §3: the student list and registering a student — one transaction, a random password
sent by one queued email (real SMTP server, real worker), never in a response or a log line."""

from __future__ import annotations

import email
import logging
import re
import time
from email import policy

import pytest
from conftest import free_port, login
from mail_fixtures import SmtpServer, queued_messages

STUDENT_KEYS = {"id", "username", "email", "first_name", "classes", "age", "sex"}


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


class LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = f"{record.name} {record.getMessage()} {record.args!r} {getattr(record, 'data', '')}"
        if record.exc_info:
            line += logging.Formatter().formatException(record.exc_info)
        self.lines.append(line)


@pytest.fixture
def captured_logs(platform):
    """Every record of the `studyhub` logger (propagate=False) and of the root logger (Celery)."""
    handler = LogCapture()
    loggers = [logging.getLogger("studyhub"), logging.getLogger()]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def klass(client, teacher):
    response = client.as_user(teacher).post("/api/school/classes", json={"name": "Python 一班"})
    assert response.status_code == 201
    return response.json()


def register(client, teacher, klass, username="xiaoming", **extra):
    body = {"username": username, "email": f"{username}@example.com", "classes": klass["id"], **extra}
    return client.as_user(teacher).post("/api/school/students", json=body)


def outbox():
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.models.school import CredentialsMail

    with session_scope() as session:
        return [(m.id, m.user_id, m.attempts, m.last_error, m.secret) for m in session.scalars(select(CredentialsMail))]


def outbox_after_delivery(timeout: float = 10.0):
    """The outbox once the worker is done: it deletes the row just after the server's 250, so a
    test that saw the email arrive may look a moment too early."""
    deadline = time.monotonic() + timeout
    while outbox() and time.monotonic() < deadline:
        time.sleep(0.05)
    return outbox()


def sealed_password() -> str:
    from studyhub.clients.mail import unseal

    (row,) = outbox()
    return unseal(row[4])


def password_from(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"初始密码：(\S+)", text).group(1)


# --- the list ---------------------------------------------------------------------------------


def test_teacher_lists_students_filtered_by_class(client, teacher, make_user, klass):
    inside, outside = make_user("student"), make_user("student")
    make_user("teacher")
    api = client.as_user(teacher)
    api.patch(f"/api/school/classes/{klass['id']}", json={"member": [inside.id]})
    everyone = api.get("/api/school/students").json()
    assert everyone["count"] == 2
    assert [s["id"] for s in everyone["results"]] == [outside.id, inside.id]
    in_class = api.get(f"/api/school/students?classes={klass['id']}").json()
    assert [s["id"] for s in in_class["results"]] == [inside.id]
    assert in_class["results"][0]["classes"] == [klass["id"]] and in_class["results"][0]["groups"] == [2]
    assert "password" not in str(everyone)


def test_students_list_paginates(client, teacher, make_user):
    for _ in range(3):
        make_user("student")
    body = client.as_user(teacher).get("/api/school/students?limit=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2
    assert body["next"] == "/api/school/students?limit=2&offset=2"


def test_bad_class_filter_is_400(client, teacher):
    response = client.as_user(teacher).get("/api/school/students?classes=abc")
    assert response.status_code == 400 and "classes" in response.json()["errors"]


def test_students_cannot_list_or_register_students(client, student, klass):
    api = client.as_user(student)
    assert api.get("/api/school/students").status_code == 403
    assert register(client, student, klass, username="intruder").status_code == 403
    assert client.get("/api/school/students").status_code == 401


# --- registering --------------------------------------------------------------------------------


def test_registering_creates_the_student_in_the_class_and_queues_one_job_with_an_id(
    client, teacher, klass, captured_logs
):
    before = len(queued_messages())  # earlier tests may have left jobs in the stack's queue
    response = register(client, teacher, klass, first_name="小明")
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == STUDENT_KEYS
    assert body["username"] == "xiaoming" and body["email"] == "xiaoming@example.com"
    assert body["first_name"] == "小明" and body["classes"] == klass["id"]

    detail = client.as_user(teacher).get(f"/api/school/classes/{klass['id']}").json()
    assert [s["username"] for s in detail["memberDetail"]["students"]] == ["xiaoming"]
    assert detail["memberDetail"]["students"][0]["groups"] == [2]

    password = sealed_password()
    assert len(password) >= 10
    # the job carries the outbox row's id; the password is nowhere in the broker, response or logs
    ((mail_id, user_id, *_),) = outbox()
    jobs = queued_messages()[before:]
    assert [m["task"] for m in jobs] == ["studyhub.school.send_credentials"]
    assert [m["args"] for m in jobs] == [[mail_id]]
    assert password not in jobs[0]["raw"]
    assert password not in response.text
    assert captured_logs.lines and not [line for line in captured_logs.lines if password in line]


def test_each_student_gets_a_different_random_password(client, teacher, klass):
    from studyhub.clients.mail import unseal

    for name in ("s1", "s2", "s3"):
        assert register(client, teacher, klass, username=name).status_code == 201
    passwords = {unseal(row[4]) for row in outbox()}
    assert len(passwords) == 3 and all(len(p) >= 10 for p in passwords)


def test_taken_username_is_400_and_nothing_is_written(client, teacher, student, klass):
    before = len(queued_messages())
    response = register(client, teacher, klass, username=student.username)
    assert response.status_code == 400
    assert response.json()["code"] == "username_taken" and "username" in response.json()["errors"]
    assert outbox() == [] and len(queued_messages()) == before
    assert client.as_user(teacher).get(f"/api/school/classes/{klass['id']}").json()["member"] == []


@pytest.mark.parametrize(
    "change,field",
    [
        ({"classes": 987654}, "classes"),
        ({"classes": None}, "classes"),
        ({"email": "not-an-email"}, "email"),
        ({"email": None}, "email"),
        ({"username": ""}, "username"),
        ({"username": "has space"}, "username"),
    ],
)
def test_invalid_registrations_are_400(client, teacher, klass, change, field):
    body = {"username": "xiaoming", "email": "xm@example.com", "classes": klass["id"], **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = client.as_user(teacher).post("/api/school/students", json=body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert outbox() == []


def test_a_deleted_class_takes_no_students(client, teacher, klass):
    client.as_user(teacher).delete(f"/api/school/classes/{klass['id']}")
    response = register(client, teacher, klass)
    assert response.status_code == 400 and "classes" in response.json()["errors"]


def test_without_smtp_the_email_is_written_to_var_mail(client, teacher, klass, job_worker):
    from studyhub.core.config import get_settings

    assert register(client, teacher, klass).status_code == 201
    mail_dir = get_settings().var_dir / "mail"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (mail_dir.exists() and list(mail_dir.glob("*.eml"))):
        time.sleep(0.1)
    files = list(mail_dir.glob("*.eml"))
    assert len(files) >= 1
    messages = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    ours = [m for m in messages if m["To"] == "xiaoming@example.com"]
    assert len(ours) == 1 and "Python 一班" in ours[0]["Subject"]
    assert outbox_after_delivery() == []
    for f in files:
        f.unlink()


def test_the_student_gets_one_email_with_username_password_and_class_and_can_log_in(
    client, teacher, klass, smtp, job_worker, captured_logs
):
    from studyhub.core.config import get_settings

    response = register(client, teacher, klass)
    assert response.status_code == 201
    ((recipients, message, _tls),) = smtp.wait_for(1)
    assert recipients == ["xiaoming@example.com"] and message["To"] == "xiaoming@example.com"
    password = password_from(message)
    assert len(password) >= 10
    for part in (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()):
        assert "xiaoming" in part and password in part and "Python 一班" in part
    assert login(client, "xiaoming", password).status_code == 200

    time.sleep(1.5)  # a second delivery would show up by now
    assert len(smtp.received) == 1
    assert outbox_after_delivery() == []
    assert password not in response.text
    log_file = get_settings().log_file.read_text(encoding="utf-8")
    assert "credentials email sent" in log_file and password not in log_file
    assert any("credentials email sent" in line for line in captured_logs.lines)
    assert not [line for line in captured_logs.lines if password in line]


def test_smtp_outage_keeps_the_student_and_the_email_arrives_once_when_smtp_is_back(
    client, teacher, klass, smtp, job_worker, captured_logs
):
    smtp.stop()
    response = register(client, teacher, klass)
    assert response.status_code == 201
    api = client.as_user(teacher)
    assert [s["username"] for s in api.get("/api/school/students").json()["results"]] == ["xiaoming"]

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not outbox() or outbox()[0][2] < 2):
        time.sleep(0.1)
    ((_id, _user, attempts, last_error, _secret),) = outbox()
    assert attempts >= 2 and "Connection" in last_error  # tried, failed, retried

    smtp.start()
    ((recipients, message, _tls),) = smtp.wait_for(1, timeout=30)
    assert recipients == ["xiaoming@example.com"]
    password = password_from(message)
    time.sleep(1.5)
    assert len(smtp.received) == 1 and outbox_after_delivery() == []
    assert login(client, "xiaoming", password).status_code == 200
    assert any("retry" in line.lower() for line in captured_logs.lines)
    assert not [line for line in captured_logs.lines if password in line]


def test_a_failed_request_sends_nothing(client, teacher, klass, smtp, job_worker):
    assert register(client, teacher, klass, username="first").status_code == 201
    smtp.wait_for(1)
    assert register(client, teacher, klass, username="first").status_code == 400
    time.sleep(1.5)
    assert len(smtp.received) == 1


def test_a_job_for_an_email_already_sent_does_nothing(client, teacher, klass, smtp, job_worker):
    from studyhub.clients import queue as jobs

    register(client, teacher, klass)
    smtp.wait_for(1)
    jobs.send("studyhub.school.send_credentials", 1)  # a redelivered or duplicate job
    jobs.send("studyhub.school.send_credentials", 987654)
    time.sleep(1.5)
    assert len(smtp.received) == 1


def test_the_sweep_requeues_an_email_whose_job_was_lost(client, teacher, klass, smtp, request):
    from datetime import timedelta

    from sqlalchemy import update

    from jobs.celery_app import purge
    from studyhub.clients import queue as jobs
    from studyhub.core.db import session_scope
    from studyhub.models.base import utcnow
    from studyhub.models.school import CredentialsMail

    register(client, teacher, klass)  # no worker yet: the job waits in the broker...
    purge()  # ...and is lost
    with session_scope() as session:
        session.execute(update(CredentialsMail).values(next_attempt_at=utcnow() - timedelta(minutes=5)))
    request.getfixturevalue("job_worker")
    time.sleep(1)
    assert smtp.received == []
    jobs.send("studyhub.school.requeue_credentials_mail")
    ((recipients, _message, _tls),) = smtp.wait_for(1)
    assert recipients == ["xiaoming@example.com"] and outbox_after_delivery() == []


def test_a_broker_that_is_down_at_queue_time_loses_neither_the_student_nor_the_email(
    client, teacher, klass, monkeypatch
):
    from studyhub.clients import queue as jobs
    from studyhub.core import config

    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    config.reset()
    jobs.reset()
    started = time.monotonic()
    response = register(client, teacher, klass)
    assert response.status_code == 201  # committed before the queueing was tried
    assert time.monotonic() - started < 5
    assert [s["username"] for s in client.as_user(teacher).get("/api/school/students").json()["results"]] == [
        "xiaoming"
    ]
    assert len(outbox()) == 1  # still there for the sweep to queue again
    jobs.reset()
