"""``local/wsgi.py`` under the servers operators run it with (issue 13, Operating): gunicorn with
``infra/gunicorn/gunicorn.conf.py`` and uWSGI (PyPI's ``pyuwsgi``) with ``infra/uwsgi/uwsgi.ini``,
each the shipped 2 processes x 2 threads, on both stacks; and uWSGI's uwsgi-protocol socket
behind the real Nginx from ``studyhub nginx-config --uwsgi --static-root DIR``, serving a
frontend build at ``/`` with the SPA fallback while ``/api`` reaches the functions.

Every server is a subprocess in its own process group on a free port, stopped at the end
whatever happens; the schema and the superuser come from the CLI first (the WSGI module never
migrates). Importing the module opens no connection, so forked workers can't share one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import BASE_ENV_KEYS, MYSQL_URL, REDIS_URL, RUN_ID, free_port, missing, port_open, require_service
from test_frontdoor_nginx import _die_with_parent, _stop, _tail

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
UWSGI_INI = ROOT / "infra" / "uwsgi" / "uwsgi.ini"
GUNICORN_CONF = ROOT / "infra" / "gunicorn" / "gunicorn.conf.py"
PASSWORD = "wsgi-server-Passw0rd"
START_SECONDS = 60
# uWSGI binds its socket before the workers load the application (lazy-apps): ready once both have
UWSGI_READY = ("WSGI app 0 (mountpoint='') ready", 2)


@dataclass
class Site:
    """One stack's settings, database migrated and a superuser ``boss`` created through the CLI."""

    stack: str
    base: Path
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "studyhub.ops.cli", *args],
            env=self.env,
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


@pytest.fixture(scope="module", params=["embedded", "mysql"])
def site(request, tmp_path_factory) -> Iterator[Site]:
    stack = request.param
    base = tmp_path_factory.mktemp(f"wsgi-{stack}")
    env = {k: v for k, v in os.environ.items() if k not in BASE_ENV_KEYS}
    env.update(
        {
            "STUDYHUB_VAR_DIR": str(base / "var"),
            "JWT_SECRET": "wsgi-test-secret-" + uuid.uuid4().hex * 2,
            "CACHE_KEY_PREFIX": f"wsgi:{RUN_ID}:{uuid.uuid4().hex[:6]}:",
            "PYTHONUNBUFFERED": "1",
        }
    )
    admin = database = None
    if stack == "mysql":
        require_service("MariaDB", "127.0.0.1", 3306)
        require_service("Redis", "127.0.0.1", 6379)
        import sqlalchemy

        database = f"studyhub_wsgi_{RUN_ID}_{os.getpid()}"
        admin = sqlalchemy.create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        env.update(
            {
                "DATABASE_URL": f"{MYSQL_URL}/{database}?charset=utf8mb4",
                "REDIS_URL": REDIS_URL,
                "CELERY_BROKER_URL": REDIS_URL,
            }
        )
    site = Site(stack, base, env)
    try:
        site.cli("migrate")
        site.cli("createsuperuser", "--username", "boss", "--password", PASSWORD)
        yield site
    finally:
        if admin is not None:
            from studyhub.clients.cache import RedisCache

            RedisCache(REDIS_URL, env["CACHE_KEY_PREFIX"]).flush_prefix()
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{database}`")
            admin.dispose()


@contextmanager
def running(
    command: list[str], site: Site, log: Path, ready_port: int, ready_text: tuple[str, int] | None = None
) -> Iterator[subprocess.Popen]:
    """``command`` in its own process group until it listens on ``ready_port`` (and its log shows
    ``ready_text[0]`` ``ready_text[1]`` times); stopped after."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            env=site.env,
            cwd=site.base,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not port_open("127.0.0.1", ready_port, timeout=0.5) or (
            ready_text and log.read_text(errors="replace").count(ready_text[0]) < ready_text[1]
        ):
            if proc.poll() is not None:
                pytest.fail(f"{command[0]} exited with {proc.returncode}:\n{_tail(log)}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"{command[0]} not listening after {START_SECONDS}s:\n{_tail(log)}", pytrace=False)
            time.sleep(0.2)
        yield proc
    finally:
        _stop(proc)


def _server(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (pip install -e '.[dev]' installs gunicorn and pyuwsgi)")
    return path


def uwsgi_ini(site: Site, socket_line: str) -> Path:
    """The shipped uwsgi.ini with only its ``socket`` line changed (a free port, http or uwsgi)."""
    text = UWSGI_INI.read_text(encoding="utf-8")
    assert re.search(r"^socket = 127\.0\.0\.1:8000$", text, re.M), "the example binds 127.0.0.1:8000"
    path = site.base / f"uwsgi-{uuid.uuid4().hex[:6]}.ini"
    path.write_text(re.sub(r"^socket = .*$", socket_line, text, flags=re.M), encoding="utf-8")
    return path


def login(http: httpx.Client, site: Site) -> str:
    """The real login: a captcha image, its answer from the cache the server uses, the password."""
    key = str(uuid.uuid4())
    image = http.get(f"/api/users/image/verification/{key}")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG"), image.text
    answer = site.cli("captcha-answer", key)
    response = http.post(
        "/api/users/login", json={"username": "boss", "password": PASSWORD, "uuid": key, "verify": answer}
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def assert_login_and_authenticated_list(base_url: str, site: Site) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        token = login(http, site)
        anonymous = http.get("/api/users/users")
        assert anonymous.status_code == 401 and anonymous.json()["code"], anonymous.text
        listed = http.get("/api/users/users", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200, listed.text
        assert "boss" in [user["username"] for user in listed.json()["results"]]


def served_by_both_workers(base_url: str, log: Path, pid_pattern: str) -> set[str]:
    """Concurrent authenticated-free requests until two worker pids have answered (each opened
    its own connections: a shared socket would mix up the answers or fail)."""
    pids: set[str] = set()
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for _ in range(10):
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda _i: http.get("/api/users/area"), range(16)))
            assert all(answer.status_code == 200 and answer.json() == [] for answer in answers)
            pids = set(re.findall(pid_pattern, log.read_text(errors="replace")))
            if len(pids) >= 2:
                break
    return pids


def test_the_wsgi_module_opens_no_connection_when_imported(site):
    """A server that forks after importing (uWSGI without lazy-apps, gunicorn's preload_app)
    hands its workers whatever the import opened: it must be nothing."""
    probe = (
        "import os, local.wsgi\n"
        "links = []\n"
        "for fd in os.listdir('/proc/self/fd'):\n"
        "    try: links.append(os.readlink(f'/proc/self/fd/{fd}'))\n"
        "    except OSError: pass\n"
        "print(sorted(local.wsgi.application.gateways))\n"
        "print([link for link in links if link.startswith('socket:') or link.endswith('.sqlite3')])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=site.env, cwd=site.base, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    functions, connections = result.stdout.strip().splitlines()
    assert functions == "['', 'community', 'school', 'shopping', 'users', 'work']"
    assert connections == "[]"


def test_gunicorn_with_the_shipped_config_answers_login_and_an_authenticated_list(site):
    port = free_port()
    log = site.base / "gunicorn.log"
    command = [_server("gunicorn"), "-c", str(GUNICORN_CONF), "-b", f"127.0.0.1:{port}"]
    with running(command, site, log, port):
        assert_login_and_authenticated_list(f"http://127.0.0.1:{port}", site)
        booted = set(re.findall(r"Booting worker with pid: (\d+)", log.read_text()))
        assert len(booted) == 2, _tail(log)  # 2 processes
        assert "Using worker: gthread" in log.read_text()  # x 2 threads


def test_uwsgi_with_the_shipped_ini_answers_login_and_an_authenticated_list(site):
    port = free_port()
    log = site.base / "uwsgi-http.log"
    ini = uwsgi_ini(site, f"http-socket = 127.0.0.1:{port}")
    with running([_server("uwsgi"), "--ini", str(ini)], site, log, port, UWSGI_READY):
        assert_login_and_authenticated_list(f"http://127.0.0.1:{port}", site)
        text = log.read_text()
        assert "spawned uWSGI worker 2 (pid: " in text and "cores: 2)" in text, _tail(log)  # 2 x 2
        # lazy-apps: each worker loaded the application itself, after the fork
        assert len(re.findall(r"WSGI app 0 \(mountpoint=''\) ready", text)) == 2, _tail(log)
        pids = served_by_both_workers(f"http://127.0.0.1:{port}", log, r"\[pid: (\d+)\|app: 0\|req: \d+/\d+\]")
        assert len(pids) == 2, _tail(log)


@pytest.mark.nginx
def test_nginx_uwsgi_pass_serves_the_api_and_the_frontend_build(site, nginx_bin):
    """``studyhub nginx-config --uwsgi --static-root DIR``, accepted by ``nginx -t``: the build's
    index and a deep SPA route answer its index.html, hashed assets are cached for a year and
    index.html never, a missing asset is the JSON 404, and /api reaches the functions through
    uWSGI's uwsgi-protocol socket with the client's address and the request id."""
    uwsgi_port, nginx_port = free_port(), free_port()
    dist = site.base / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>StudyHub</title><div id=app></div>", encoding="utf-8")
    (dist / "assets" / "index-B2x9QzLk.js").write_text("console.log('app')", encoding="utf-8")
    (dist / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    prefix = site.base / "nginx"
    prefix.mkdir()
    from local.nginx import render_config
    from studyhub.core.routing import load_routing

    upstreams = {name: [f"127.0.0.1:{uwsgi_port}"] for name in load_routing().functions}
    conf = prefix / "nginx.conf"
    conf.write_text(
        render_config(
            upstreams,
            listen=f"127.0.0.1:{nginx_port}",
            prefix_dir=prefix,
            standalone=True,
            uwsgi=True,
            static_root=dist,
        ),
        encoding="utf-8",
    )
    text = conf.read_text()
    assert "uwsgi_pass studyhub_users;" in text and "proxy_pass" not in text
    check = subprocess.run([nginx_bin, "-t", "-c", str(conf), "-p", str(prefix)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr

    ini = uwsgi_ini(site, f"socket = 127.0.0.1:{uwsgi_port}")
    with (
        running([_server("uwsgi"), "--ini", str(ini)], site, site.base / "uwsgi-socket.log", uwsgi_port, UWSGI_READY),
        running([nginx_bin, "-c", str(conf), "-p", str(prefix)], site, prefix / "stdout.log", nginx_port),
    ):
        url = f"http://127.0.0.1:{nginx_port}"
        with httpx.Client(base_url=url, timeout=30) as http:
            for path in ("/", "/index.html", "/home/order/success", "/school/classes/3/students"):
                page = http.get(path)
                assert page.status_code == 200 and "<div id=app>" in page.text, (path, page.text)
                assert page.headers["content-type"].startswith("text/html")
                assert page.headers["cache-control"] == "no-cache", path
            asset = http.get("/assets/index-B2x9QzLk.js")
            assert asset.status_code == 200 and asset.text == "console.log('app')"
            assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert "cache-control" not in http.get("/favicon.ico").headers  # not hashed: not immutable
            for missing_asset in ("/assets/index-0ld.js", "/assets/", "/js/app.0123abcd.js"):
                gone = http.get(missing_asset)
                assert gone.status_code == 404 and gone.json()["code"] == "not_found", (missing_asset, gone.text)
            posted = http.post("/", content=b"x")
            assert posted.status_code == 405 and posted.json()["code"] == "method_not_allowed", posted.text
            # /api is the functions', never the SPA's index
            areas = http.get("/api/users/area")
            assert areas.status_code == 200 and areas.json() == [], (areas.status_code, areas.text)
            unknown = http.get("/api/no/such/route")
            assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
            assert json.loads(http.get("/api/").text)["docs"] == "/api/docs"
            asked = http.get("/api/users/area", headers={"X-Request-Id": "rid-through-uwsgi-1"})
            assert asked.headers["x-request-id"] == "rid-through-uwsgi-1"
        assert_login_and_authenticated_list(url, site)
        assert "rid=rid-through-uwsgi-1 upstream=127.0.0.1:" in (prefix / "access.log").read_text()
