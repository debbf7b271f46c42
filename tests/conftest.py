"""Shared fixtures: the two stacks every database test runs on, an HTTP client through the
front door, factories, and the real services (MariaDB, Redis, moto's S3 server).

``stack`` is parametrized: ``embedded`` (SQLite + the embedded cache, files on disk) and
``mysql`` (MariaDB + Redis). Under ``CI=true`` a missing MariaDB or Redis fails the run; on a
developer machine those tests are skipped with the reason.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

# The groups' fixtures live in plain modules beside this file, registered here as plugins so
# every test sees them by name; test modules import only their helper functions.
pytest_plugins = [
    "work_fixtures",
    "homework_fixtures",
    "shopping_fixtures",
    "alipay_gateway",
    "community_fixtures",
    "console_fixtures",
    "log_fixtures",
]
# The search behaviour tests are imported by the module of each backend: rewrite their asserts too.
pytest.register_assert_rewrite("work_search_behaviour")

MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"
RUN_ID = uuid.uuid4().hex[:8]

# Precomputed once: hashing with argon2 in every factory call would dominate the test time.
DEFAULT_PASSWORD = "correct-horse-1"


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Every skip goes through missing(); nothing else calls pytest.skip or skipif. Two kinds of absence:
# - installable (MariaDB, Redis, Nginx, Galera, docker-compose: scripts/test.sh installs or starts them):
#   a skip with the reason on a developer machine, a failure under CI=true, since CI can have them.
# - not installable here (an Elasticsearch cluster, a FastDFS server: no package, no Docker engine):
#   failing would make CI unpassable, so it stays a skip, but never a silent one: the reason starts
#   with NOT_RUN and every run, CI's included, ends with a "NOT RUN" section naming each such test and
#   why (pytest_terminal_summary below), whatever -r option was given.
# A test about one stack is marked mysql_only/embedded_only and deselected on the other, not skipped.
NOT_RUN = "NOT RUN"


def missing(message: str, *, installable: bool = True) -> NoReturn:
    """Something the tests need is absent: see the rule above."""
    if not installable:
        pytest.skip(f"{NOT_RUN}: {message}")
    if IN_CI:
        pytest.fail(f"{message}; under CI=true this is a failure, not a skip", pytrace=False)
    pytest.skip(message)


def not_run_tests(stats: dict[str, list]) -> list[tuple[str, str]]:
    """``(test id, reason)`` of the tests skipped by ``missing(..., installable=False)``."""
    found = []
    for test in stats.get("skipped", []):
        if isinstance(test.longrepr, tuple):  # (path, line, "Skipped: <reason>")
            reason = str(test.longrepr[2]).removeprefix("Skipped: ")
            if reason.startswith(NOT_RUN):
                found.append((test.nodeid, reason))
    return found


def require_service(name: str, host: str, port: int) -> None:
    if not port_open(host, port):
        missing(f"{name} is not reachable on {host}:{port} (see README: starting the services)")


def reset_clients() -> None:
    """Forget every per-process client so the next use reads the current environment."""
    from studyhub.clients import alipay, cache, mail, queue, search, storage
    from studyhub.core import config, db

    for client in (config, db, cache, storage, search, queue, mail, alipay):
        client.reset()


@dataclass
class Stack:
    name: str
    env: dict[str, str]
    var_dir: Path

    @property
    def is_mysql(self) -> bool:
        return self.name == "mysql"


_test_counter = itertools.count()


def _apply_env(monkeypatch_env: dict[str, str]) -> dict[str, str | None]:
    saved = {k: os.environ.get(k) for k in monkeypatch_env}
    os.environ.update(monkeypatch_env)
    return saved


def _restore_env(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


BASE_ENV_KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE_URL",
    "MEDIA_URL",
    "CELERY_BROKER_URL",
    "SMTP_URL",
    "ELASTICSEARCH_URL",
    "JWT_SECRET",
    "STUDYHUB_VAR_DIR",
    "CACHE_KEY_PREFIX",
    "LOG_FILE",
    "RATE_LIMIT_CAPTCHA",
    "RATE_LIMIT_LOGIN",
)


@pytest.fixture(scope="session", params=["embedded", "mysql"])
def stack(request, tmp_path_factory):
    """One full configuration of the platform, migrated and seeded with reference data."""
    var_dir = tmp_path_factory.mktemp(f"var-{request.param}")
    env = {
        "STUDYHUB_VAR_DIR": str(var_dir),
        "JWT_SECRET": "test-secret-of-at-least-64-bytes-for-hs512-" + RUN_ID * 4,
        "CACHE_KEY_PREFIX": f"test:{RUN_ID}:",
        "LOG_FILE": str(var_dir / "logs" / "studyhub.log"),
        # Tests log in many times from one address; the rate-limit tests set strict limits themselves.
        "RATE_LIMIT_CAPTCHA": "100000/minute",
        "RATE_LIMIT_LOGIN": "100000/minute",
    }
    database = None
    if request.param == "mysql":
        require_service("MariaDB", "127.0.0.1", 3306)
        require_service("Redis", "127.0.0.1", 6379)
        import sqlalchemy

        database = f"studyhub_test_{RUN_ID}_{os.getpid()}"
        admin = sqlalchemy.create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        env["DATABASE_URL"] = f"{MYSQL_URL}/{database}?charset=utf8mb4"
        env["REDIS_URL"] = REDIS_URL
        env["CELERY_BROKER_URL"] = REDIS_URL  # jobs through Redis too, keys under CACHE_KEY_PREFIX
    saved = {k: os.environ.get(k) for k in BASE_ENV_KEYS}
    for key in BASE_ENV_KEYS:
        os.environ.pop(key, None)
    os.environ.update(env)
    reset_clients()
    from studyhub.core.logs import setup_logging

    setup_logging(force=True)  # the log file lives in this stack's var dir
    from local.serve import prepare

    prepare()
    yield Stack(request.param, env, var_dir)
    reset_clients()
    _restore_env(saved)
    if database:
        from studyhub.clients.cache import RedisCache

        RedisCache(REDIS_URL, f"test:{RUN_ID}:").flush_prefix()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{database}`")
        admin.dispose()


STACK_ONLY_MARKERS = {"mysql_only": "mysql", "embedded_only": "embedded"}


def pytest_collection_modifyitems(config, items):
    """A test about one stack (``@pytest.mark.mysql_only``/``embedded_only``) is not generated for
    the other: deselected, so it neither passes for nothing nor needs a skip outside ``missing()``."""
    kept, dropped = [], []
    for item in items:
        wanted = {stack for marker, stack in STACK_ONLY_MARKERS.items() if item.get_closest_marker(marker)}
        params = getattr(item, "callspec", None)
        # the stack of the test: the `stack` fixture, or the served platform of the console tests
        on_stack = (params.params.get("stack") or params.params.get("console_server")) if params else None
        (dropped if wanted and on_stack and on_stack not in wanted else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


REFERENCE_TABLES = {"groups", "areas", "alembic_version"}


def wipe_database() -> None:
    """Delete every row but the reference data (tests commit for real, through HTTP)."""
    from sqlalchemy import text

    from studyhub.core.db import get_engine
    from studyhub.models import load_all

    engine = get_engine()
    tables = [t for t in reversed(load_all().sorted_tables) if t.name not in REFERENCE_TABLES]
    with engine.begin() as conn:
        if engine.dialect.name == "mysql":
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in tables:
            conn.execute(table.delete())
        if engine.dialect.name == "mysql":
            conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))


@pytest.fixture
def platform(stack):
    """A clean platform for one test: empty tables (bar reference data) and a fresh cache space."""
    prefix = f"test:{RUN_ID}:{next(_test_counter)}:"
    os.environ["CACHE_KEY_PREFIX"] = prefix
    reset_clients()
    wipe_database()
    import shutil

    shutil.rmtree(stack.var_dir / "media", ignore_errors=True)  # stored files belong to one test
    yield stack
    if stack.is_mysql:
        from studyhub.clients.cache import get_cache

        get_cache().flush_prefix()


class ApiClient:
    """Talks HTTP to the front door in-process (WSGI), as a frontend would through ``/api``."""

    def __init__(self, app, remote_addr: str = "127.0.0.1") -> None:
        import httpx

        self.app = app
        transport = httpx.WSGITransport(app=app, remote_addr=remote_addr)
        self.http = httpx.Client(transport=transport, base_url="http://testserver")
        self.token: str | None = None

    def from_address(self, remote_addr: str) -> ApiClient:
        """The same front door, reached from another socket peer (the WSGI ``REMOTE_ADDR``)."""
        return ApiClient(self.app, remote_addr)

    def _headers(self, headers, token):
        out = {"Accept": "application/json"}
        token = token if token is not None else self.token
        if token:
            out["Authorization"] = f"Bearer {token}"
        out.update(headers or {})
        return out

    def request(self, method, url, *, token=None, headers=None, **kwargs):
        return self.http.request(method, url, headers=self._headers(headers, token), **kwargs)

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def put(self, url, **kw):
        return self.request("PUT", url, **kw)

    def patch(self, url, **kw):
        return self.request("PATCH", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)

    def as_user(self, user) -> ApiClient:
        clone = ApiClient.__new__(ApiClient)
        clone.app, clone.http = self.app, self.http
        clone.token = token_for(user)
        return clone


_front_door = None


@pytest.fixture
def client(platform) -> ApiClient:
    global _front_door
    if _front_door is None:
        from local.frontdoor import FrontDoor

        _front_door = FrontDoor()
    return ApiClient(_front_door)


# --- measured numbers shown at the end of the run ------------------------------------------

SUMMARY_LINES: list[str] = []


def report(line: str) -> None:
    """A measured figure worth seeing in CI output (printed in pytest's terminal summary)."""
    SUMMARY_LINES.append(line)


def pytest_terminal_summary(terminalreporter):
    if SUMMARY_LINES:
        terminalreporter.section("measured")
        for line in SUMMARY_LINES:
            terminalreporter.write_line(line)
    not_run = not_run_tests(terminalreporter.stats)
    if not_run:
        terminalreporter.section(f"{NOT_RUN}: {len(not_run)} tests need a server that cannot be installed here")
        by_reason: dict[str, list[str]] = {}
        for nodeid, reason in not_run:
            by_reason.setdefault(reason, []).append(nodeid)
        for reason, nodeids in by_reason.items():
            terminalreporter.write_line(f"{reason} ({len(nodeids)} tests):", yellow=True, bold=True)
            for nodeid in nodeids:
                terminalreporter.write_line(f"    {nodeid}")


# --- factories -------------------------------------------------------------------------------


def store(row):
    """Insert one ORM row in its own committed transaction and return it loaded."""
    from studyhub.core.db import session_scope

    with session_scope() as session:
        session.add(row)
        session.flush()
        session.refresh(row)
    return row


_hash_cache: dict[str, str] = {}


def password_hash(password: str) -> str:
    if password not in _hash_cache:
        from studyhub.core.security import hash_password

        _hash_cache[password] = hash_password(password)
    return _hash_cache[password]


def token_for(user) -> str:
    from studyhub.core.security import issue_token

    return issue_token(user)


_names = itertools.count(1)


@pytest.fixture
def make_user(platform):
    """``make_user(role="teacher"|"student"|"superuser"|None, username=..., password=...)``."""
    from studyhub.core.db import session_scope
    from studyhub.models.users import STUDENT_GROUP_ID, TEACHER_GROUP_ID, Group, User

    def factory(
        role: str | None = None,
        *,
        username: str | None = None,
        password: str = DEFAULT_PASSWORD,
        email: str | None = None,
        is_active: bool = True,
    ):
        username = username or f"{role or 'user'}{next(_names)}"
        with session_scope() as session:
            groups = []
            if role == "teacher":
                groups = [session.get(Group, TEACHER_GROUP_ID)]
            elif role == "student":
                groups = [session.get(Group, STUDENT_GROUP_ID)]
            user = User(
                username=username,
                password=password_hash(password),
                email=email if email is not None else f"{username}@example.com",
                is_superuser=role == "superuser",
                is_active=is_active,
                groups=groups,
            )
            session.add(user)
            session.flush()
            session.refresh(user)
            _ = user.groups
        return user

    return factory


@pytest.fixture
def superuser(make_user):
    return make_user("superuser", username="root")


@pytest.fixture
def teacher(make_user):
    return make_user("teacher", username="teacher")


@pytest.fixture
def student(make_user):
    return make_user("student", username="student")


def captcha_answer(uuid_: str) -> str:
    from studyhub.clients.cache import get_cache
    from studyhub.domain.users.captcha import CAPTCHA_KEY

    return get_cache().get(CAPTCHA_KEY.format(uuid=uuid_))


def login(client: ApiClient, username: str, password: str = DEFAULT_PASSWORD):
    """A full login as the frontend does it: fetch a captcha, read it, post the form."""
    key = str(uuid.uuid4())
    image = client.get(f"/api/users/image/verification/{key}", headers={"Accept": "image/png"})
    assert image.status_code == 200, image.text
    return client.post(
        "/api/users/login",
        json={"username": username, "password": password, "uuid": key, "verify": captcha_answer(key)},
    )


# --- Nginx (Debian's nginx-light) for the front-door tests ---------------------------------

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)


@pytest.fixture(scope="session")
def nginx_bin() -> str:
    if NGINX is None:
        missing("nginx is not installed (Debian: apt-get install nginx-light; scripts/test.sh does it)")
    return NGINX


# --- moto's S3 server ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server():
    """moto's real HTTP server (not the in-process mock): boto3 talks to it over a socket."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    yield f"http://127.0.0.1:{port}"
    server.stop()


# --- a real Celery worker --------------------------------------------------------------------


@pytest.fixture
def job_worker(platform):
    """A real Celery worker (Celery's test worker: a thread, solo pool) consuming the current
    stack's broker until the test ends: the embedded SQLite queue under the stack's var dir, or
    Redis (mysql stack) with keys under this test's CACHE_KEY_PREFIX. Jobs left by earlier tests
    are purged first. Queue with ``jobs.enqueue``/``jobs.send`` as the code does; poll for effects."""
    from celery.contrib.testing.worker import start_worker

    from jobs.celery_app import get_celery, purge

    purge()
    with start_worker(
        get_celery(), pool="solo", perform_ping_check=False, loglevel="INFO", shutdown_timeout=30
    ) as worker:
        yield worker
