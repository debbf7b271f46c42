"""The job system: the Celery app from settings, the embedded queue (concurrent processes, a
restart of `studyhub serve`), jobs queued only after the commit, the beat schedule from routes.yaml."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from conftest import BASE_ENV_KEYS, free_port

ROOT = Path(__file__).resolve().parents[2]


def test_beat_schedule_is_built_from_routes_yaml(platform):
    from jobs.celery_app import get_celery
    from studyhub.core.routing import load_routing

    schedule = get_celery().conf.beat_schedule
    jobs = load_routing().jobs
    assert {job.name for job in jobs} == set(schedule)
    for job in jobs:
        assert schedule[job.name] == {"task": job.task, "schedule": timedelta(seconds=job.seconds)}
    assert schedule["school-credentials-mail"]["schedule"] == timedelta(minutes=5)


def test_workers_import_every_module_in_jobs_tasks(platform, job_worker):
    from jobs.celery_app import get_celery

    modules = {p.stem for p in (ROOT / "jobs" / "tasks").glob("*.py") if not p.stem.startswith("_")}
    assert set(get_celery().conf.imports) == {f"jobs.tasks.{m}" for m in modules}
    registered = set(job_worker.app.tasks)
    assert {"studyhub.school.send_credentials", "studyhub.school.requeue_credentials_mail"} <= registered
    for job in get_celery().conf.beat_schedule.values():  # every scheduled task exists
        assert job["task"] in registered


def test_broker_follows_the_stack(platform):
    from jobs.celery_app import get_celery

    conf = get_celery().conf
    if platform.is_mysql:
        assert conf.broker_url.startswith("redis://")
        assert conf.broker_transport_options["global_keyprefix"] == os.environ["CACHE_KEY_PREFIX"]
    else:
        assert conf.broker_url == f"sqlite:///{platform.var_dir / 'queue.sqlite3'}"
        assert conf.broker_transport == "studyhub.clients.embedded_queue:Transport"


def test_a_job_is_queued_only_when_the_transaction_commits(platform):
    from mail_fixtures import queued_messages

    from studyhub.clients import queue as jobs
    from studyhub.core.db import session_scope

    before = len(queued_messages())
    with pytest.raises(RuntimeError):
        with session_scope() as session:
            jobs.enqueue(session, "studyhub.school.send_credentials", 41)
            raise RuntimeError("the request failed")
    assert len(queued_messages()) == before
    with session_scope() as session:
        jobs.enqueue(session, "studyhub.school.send_credentials", 42)
        assert len(queued_messages()) == before  # not before the commit
    assert [m["args"] for m in queued_messages()[before:]] == [[42]]


# --- the embedded queue with several processes ---------------------------------------------

CONSUMER = textwrap.dedent("""
    import json, sys, time
    from queue import Empty
    from kombu import Connection
    url, out = sys.argv[1], sys.argv[2]
    got, idle_since = [], time.monotonic()
    with Connection(url, transport="studyhub.clients.embedded_queue:Transport") as conn:
        queue = conn.SimpleQueue("race")
        while time.monotonic() - idle_since < 3:
            try:
                message = queue.get(timeout=0.2)
            except Empty:
                continue
            got.append(message.payload["n"])
            message.ack()
            idle_since = time.monotonic()
    open(out, "w").write(json.dumps(got))
""")

PUBLISHER = textwrap.dedent("""
    import sys
    from kombu import Connection
    url, start, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with Connection(url, transport="studyhub.clients.embedded_queue:Transport") as conn:
        queue = conn.SimpleQueue("race")
        for n in range(start, start + count):
            queue.put({"n": n})
""")


def test_the_embedded_queue_gives_each_job_to_exactly_one_of_several_processes(tmp_path):
    url = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    publishers = [subprocess.Popen([sys.executable, "-c", PUBLISHER, url, str(i * 150), "150"]) for i in range(2)]
    outs = [tmp_path / f"consumer{i}.json" for i in range(3)]
    consumers = [subprocess.Popen([sys.executable, "-c", CONSUMER, url, str(out)]) for out in outs]
    for proc in publishers + consumers:
        assert proc.wait(timeout=120) == 0
    received = [n for out in outs for n in json.loads(out.read_text())]
    assert sorted(received) == list(range(300))  # none lost, none twice
    assert sum(1 for out in outs if json.loads(out.read_text())) >= 2  # they really raced


# --- a restart of `studyhub serve` -------------------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _helpers(pid: int) -> list[int]:
    """serve's job worker and beat among its children (its server processes are children too)."""
    found = []
    for child in _children(pid):
        try:
            if b"celery" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except FileNotFoundError:
            pass
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (not yet reaped by init) is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Serve:
    """`studyhub serve` as a subprocess on the embedded defaults in a fresh directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if k not in BASE_ENV_KEYS + ("LOG_LEVEL",)}
        self.env.update({"STUDYHUB_VAR_DIR": str(directory / "var"), "JWT_SECRET": "restart-test-" * 6})
        self.proc: subprocess.Popen | None = None

    def studyhub(self, *args: str) -> str:
        done = subprocess.run(
            ["studyhub", *args], cwd=self.directory, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def start(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            ["studyhub", "serve", "--port", str(self.port), *args],
            cwd=self.directory,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self._healthy, 90, "studyhub serve to answer")

    def _healthy(self) -> bool:
        assert self.proc.poll() is None, "studyhub serve exited"
        try:
            return httpx.get(self.url("/api/school/health"), timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> list[int]:
        """SIGTERM, as a service manager stops it; returns the pids of the helpers it had."""
        children = _helpers(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        return children


@pytest.fixture
def serve(tmp_path):
    server = Serve(tmp_path)
    yield server
    if server.proc is not None and server.proc.poll() is None:
        for pid in _children(server.proc.pid):
            os.kill(pid, signal.SIGKILL)
        server.proc.kill()
        server.proc.wait()


def _outbox_attempts(var: Path) -> list[int]:
    import sqlite3

    with sqlite3.connect(var / "studyhub.sqlite3") as conn:
        return [row[0] for row in conn.execute("SELECT attempts FROM school_credentials_mail")]


def test_a_job_queued_while_no_worker_runs_is_done_after_serve_restarts(serve):
    """The embedded queue survives a restart; and serve's own (prefork) worker retries through it
    while SMTP is down, then delivers once when SMTP is back."""
    from mail_fixtures import SmtpServer

    var = serve.directory / "var"
    serve.start("--no-jobs")  # functions only: the job waits in var/queue.sqlite3
    assert _helpers(serve.proc.pid) == []
    serve.studyhub("createsuperuser", "--username", "admin", "--password", "admin-pass-1")
    headers = {"Authorization": f"Bearer {serve.studyhub('token', 'admin')}"}
    klass = httpx.post(serve.url("/api/school/classes"), json={"name": "重启班"}, headers=headers).json()
    created = httpx.post(
        serve.url("/api/school/students"),
        headers=headers,
        json={"username": "after_restart", "email": "ar@example.com", "classes": klass["id"]},
    )
    assert created.status_code == 201
    serve.stop()
    time.sleep(1)
    assert _outbox_attempts(var) == [0]  # nobody touched the job while serve was down

    smtp = SmtpServer(free_port())  # not started yet: SMTP is down when the worker comes up
    serve.env["SMTP_URL"] = f"smtp://127.0.0.1:{smtp.port}"
    serve.start()  # with the worker and the scheduler: fresh processes pick the job up
    try:
        helpers = _wait(
            lambda: _helpers(serve.proc.pid) if len(_helpers(serve.proc.pid)) == 2 else None,
            30,
            "the worker and beat subprocesses",
        )
        _wait(lambda: _outbox_attempts(var)[0] >= 2, 60, "the job to run and be retried")
        smtp.start()
        ((recipients, message, _tls),) = smtp.wait_for(1, timeout=60)
        assert recipients == ["ar@example.com"]
        assert "after_restart" in message.get_body(("plain",)).get_content()
        _wait(lambda: _outbox_attempts(var) == [], 10, "the outbox row to be deleted")
        time.sleep(1)
        assert len(smtp.received) == 1
        _wait(lambda: list(var.glob("celerybeat-schedule*")), 30, "the scheduler to start")
    finally:
        smtp.stop()

    serve.stop()
    _wait(lambda: not [pid for pid in helpers if _alive(pid)], 30, "worker and beat to stop with serve")


def test_a_group_wide_sigterm_stops_serve_and_its_jobs(serve):
    """Ctrl-C, `timeout` and systemd signal the whole process group at once. The worker and beat
    run in their own session, so serve stops them in order instead of Celery's pool children dying
    first and the worker hanging, orphaned, in its warm shutdown (as it did before)."""
    serve.proc = subprocess.Popen(
        ["studyhub", "serve", "--port", str(serve.port)],
        cwd=serve.directory,
        env=serve.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # a group of its own, like a terminal job
    _wait(serve._healthy, 90, "studyhub serve to answer")
    helpers = _wait(
        lambda: _helpers(serve.proc.pid) if len(_helpers(serve.proc.pid)) == 2 else None,
        30,
        "the worker and beat subprocesses",
    )
    # the worker's prefork pool is up: each helper has children of its own (the pool, for the worker)
    _wait(lambda: any(_children(pid) for pid in helpers), 30, "the worker's pool processes")
    os.killpg(serve.proc.pid, signal.SIGTERM)
    serve.proc.wait(timeout=30)
    _wait(lambda: not [pid for pid in helpers if _alive(pid)], 30, "worker and beat to stop with serve")
