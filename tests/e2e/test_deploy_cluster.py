"""Self-hosting with several processes (issue 7): ``studyhub serve --processes 2`` behind the real
Nginx it starts, driven only through ``/api`` on Nginx: a superuser made with the CLI logs in with
the captcha, creates a commodity, an address, a cart row and an order, gets the Alipay pay URL,
and Alipay's (test-signed) notification marks the order paid. The access log's ``upstream=``
field shows every function answered from both of its processes; a killed process loses no
request (Nginx retries on the other, and the process is started again on the same socket);
SIGTERM takes Nginx, the workers and the jobs down.

One cluster per stack, in its own var dir: ``embedded`` (SQLite, embedded cache and queue) and
``mysql`` (a database of its own on MariaDB, Redis for cache and jobs under a key prefix of its
own). Everything runs as subprocesses, killed at the end whatever happens (and on pytest's own
death: PR_SET_PDEATHSIG). Skipped without nginx, except under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from conftest import BASE_ENV_KEYS, MYSQL_URL, REDIS_URL, RUN_ID, free_port, require_service
from shopping_fixtures import (
    APP_ID,
    alipay_sign,
    notification,
    post_notify,
)
from test_frontdoor_nginx import BROWSER_IMG_ACCEPT, _die_with_parent, _stop, _tail

pytestmark = pytest.mark.nginx

PASSWORD = "cluster-Passw0rd-7"
PROCESSES = 2
ACCESS_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) .* upstream=(?P<upstream>\S+) '
)


@dataclass
class Cluster:
    stack: str
    url: str
    base: Path
    var_dir: Path
    env: dict[str, str]
    proc: subprocess.Popen
    out: Path

    @property
    def state(self) -> dict:
        return json.loads((self.var_dir / "cluster.json").read_text())

    @property
    def access_log(self) -> Path:
        return self.var_dir / "nginx" / "access.log"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "studyhub.ops.cli", *args],
            env=self.env,
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def captcha_answer(self, key: str) -> str | None:
        """What the users function stored for this captcha, read from the cache it uses."""
        from studyhub.clients.cache import EmbeddedCache, RedisCache
        from studyhub.domain.users.captcha import CAPTCHA_KEY

        prefix = self.env["CACHE_KEY_PREFIX"]
        cache = (
            RedisCache(self.env["REDIS_URL"], prefix)
            if self.stack == "mysql"
            else EmbeddedCache(str(self.var_dir / "cache"), prefix)
        )
        return cache.get(CAPTCHA_KEY.format(uuid=key))


def _clean_env() -> dict[str, str]:
    drop = set(BASE_ENV_KEYS) | {
        "MAX_BODY_BYTES",
        "AVATAR_MAX_BYTES",
        "LOG_FORMAT",
        "STUDYHUB_NGINX",
        "ALIPAY_APP_ID",
        "ALIPAY_APP_PRIVATE_KEY",
        "ALIPAY_PUBLIC_KEY",
        "ALIPAY_SANDBOX",
        "ALIPAY_RETURN_URL",
        "ALIPAY_NOTIFY_URL",
    }
    return {k: v for k, v in os.environ.items() if k not in drop}


@pytest.fixture(scope="module", params=["embedded", "mysql"])
def cluster(request, nginx_bin, rsa_keys, tmp_path_factory):
    stack = request.param
    base = tmp_path_factory.mktemp(f"cluster-{stack}")
    var_dir = base / "var"
    prefix = f"cluster:{RUN_ID}:{uuid.uuid4().hex[:6]}:"
    env = _clean_env()
    env.update(
        {
            "STUDYHUB_VAR_DIR": str(var_dir),
            "CACHE_KEY_PREFIX": prefix,
            "JWT_SECRET": "cluster-test-secret-" + uuid.uuid4().hex * 2,
            "PYTHONUNBUFFERED": "1",
            "ALIPAY_APP_ID": APP_ID,
            "ALIPAY_APP_PRIVATE_KEY": rsa_keys["app"][1],
            "ALIPAY_PUBLIC_KEY": rsa_keys["alipay"][2],
            "ALIPAY_RETURN_URL": "https://shop.example.com/home/order/success",
            "ALIPAY_NOTIFY_URL": "https://shop.example.com/api/shopping/payments/notify",
        }
    )
    database = admin = None
    if stack == "mysql":
        require_service("MariaDB", "127.0.0.1", 3306)
        require_service("Redis", "127.0.0.1", 6379)
        import sqlalchemy

        database = f"studyhub_cluster_{RUN_ID}_{os.getpid()}"
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
    port = free_port()
    out = base / "serve.out"
    proc = None
    try:
        with out.open("wb") as fh:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "studyhub.ops.cli",
                    "serve",
                    "--processes",
                    str(PROCESSES),
                    "--port",
                    str(port),
                    "--worker-port-base",
                    "0",
                    "--threads",
                    "4",
                ],
                env=env,
                cwd=base,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        running = Cluster(stack, f"http://127.0.0.1:{port}", base, var_dir, env, proc, out)
        _wait_all_healthy(running, timeout=120)  # first start migrates and loads ~3,400 areas
        yield running
    finally:
        if proc is not None:
            _stop(proc)
        if database:
            from studyhub.clients.cache import RedisCache

            RedisCache(REDIS_URL, prefix).flush_prefix()
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{database}`")
            admin.dispose()


def _wait_all_healthy(cluster: Cluster, timeout: float) -> None:
    from studyhub.core.routing import load_routing

    paths = [f"/api{fn.prefix}/health" for fn in load_routing().functions.values()]
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=cluster.url, timeout=5) as http:
        while time.monotonic() < deadline:
            if cluster.proc.poll() is not None:
                pytest.fail(
                    f"studyhub serve --processes exited with {cluster.proc.returncode}:\n{_tail(cluster.out)}",
                    pytrace=False,
                )
            try:
                if all(http.get(path).status_code == 200 for path in paths):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
    pytest.fail(f"the cluster is not healthy after {timeout:.0f}s:\n{_tail(cluster.out)}", pytrace=False)


def _access_lines(cluster: Cluster, expected: int, timeout: float = 3.0) -> list[dict]:
    """Nginx writes each line just after answering: wait until ``expected`` lines are there."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [m.groupdict() for m in map(ACCESS_LINE.search, cluster.access_log.read_text().splitlines()) if m]
        if len(lines) >= expected or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


# --- the tests (in this order per stack: the last one stops the cluster) -------------------------


def test_login_order_and_alipay_webhook_through_nginx_on_several_processes(cluster, rsa_keys):
    created = cluster.cli("createsuperuser", "--username", "boss", "--password", PASSWORD)
    assert created.returncode == 0, created.stderr

    with httpx.Client(base_url=cluster.url, timeout=15) as http:
        key = str(uuid.uuid4())
        captcha = http.get(f"/api/users/image/verification/{key}", headers={"Accept": BROWSER_IMG_ACCEPT})
        assert captcha.status_code == 200 and captcha.content.startswith(b"\x89PNG")
        answer = cluster.captcha_answer(key)
        assert answer
        login = http.post(
            "/api/users/login", json={"username": "boss", "password": PASSWORD, "uuid": key, "verify": answer}
        )
        assert login.status_code == 200, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['token']}"

        commodity = http.post(
            "/api/shopping/commodities",
            json={"name": "Python 编程", "price": "39.90", "stock": 10, "description": "入门"},
        )
        assert commodity.status_code == 201, commodity.text
        commodity_id = commodity.json()["id"]

        provinces = http.get("/api/users/area").json()
        province = next(p for p in provinces if p["name"] == "广东省")
        city = http.get(f"/api/users/area/{province['id']}").json()["subs"][0]
        district = http.get(f"/api/users/area/{city['id']}").json()["subs"][0]
        address = http.post(
            "/api/users/address",
            json={
                "province": province["id"],
                "city": city["id"],
                "district": district["id"],
                "place": "天河路 1 号",
                "receiver": "张三",
                "mobile": "13800138000",
            },
        )
        assert address.status_code == 201, address.text

        cart = http.post("/api/shopping/cart", json={"commodity": commodity_id, "number": 2})
        assert cart.status_code == 201, cart.text
        placed = http.post(
            "/api/shopping/orders", json={"cart": [cart.json()["id"]], "address": address.json()["id"], "pay_method": 1}
        )
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["status"] == 1 and order["total_amount"] == "79.80"

        pay = http.get(f"/api/shopping/payments/{order['order_id']}/pay")
        assert pay.status_code == 200, pay.text
        params = dict(parse_qsl(urlsplit(pay.json()["pay_url"]).query))
        assert params["app_id"] == APP_ID and order["order_id"] in params["biz_content"]

        signed = alipay_sign(notification(order, trade_no="2026112422001400000000000777"), rsa_keys["alipay"][0])
        notified = post_notify(http, signed)
        assert notified.status_code == 200 and notified.text == "success", notified.text

        assert http.get(f"/api/shopping/orders/{order['order_id']}").json()["status"] == 2
        payments = http.get("/api/shopping/payments").json()
        assert payments["count"] == 1
        assert payments["results"][0]["order"] == order["order_id"]
        assert payments["results"][0]["trade_id"] == "2026112422001400000000000777"
        stock = http.get(f"/api/shopping/commodities/{commodity_id}").json()
        assert (stock["stock"], stock["sales"]) == (8, 2)


def test_every_function_answers_from_each_of_its_processes(cluster):
    from studyhub.core.routing import load_routing

    functions = load_routing().functions
    before = len(_access_lines(cluster, 0, timeout=0))
    rounds = 2 * PROCESSES
    with httpx.Client(base_url=cluster.url, timeout=10) as http:
        for _ in range(rounds):
            for fn in functions.values():
                assert http.get(f"/api/{fn.prefix.strip('/')}/health").status_code == 200
    lines = _access_lines(cluster, before + rounds * len(functions))[before:]
    served_by: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        served_by[line["path"].split("/")[2]].add(line["upstream"])

    state = cluster.state
    for name, fn in functions.items():
        ports = {f"127.0.0.1:{w['port']}" for w in state["functions"][name]}
        pids = {w["pid"] for w in state["functions"][name]}
        assert len(ports) == len(pids) == PROCESSES, state["functions"][name]
        # Nginx's round robin sent this function's requests to every one of its processes
        assert served_by[fn.prefix.strip("/")] == ports, (name, served_by)
        for pid in pids:
            os.kill(pid, 0)  # a live process (raises if not)


def test_a_killed_worker_is_replaced_on_its_port_and_no_request_fails(cluster):
    for index in range(PROCESSES):  # each process of the function in turn
        before = {w["port"]: w["pid"] for w in cluster.state["functions"]["users"]}
        port, victim = list(before.items())[index]
        with httpx.Client(base_url=cluster.url, timeout=15) as http:
            assert http.get("/api/users/area/440000").status_code == 200
            os.kill(victim, signal.SIGKILL)
            # Nginx retries a request that failed on the dead process on the other one; new
            # connections to the dead one's port wait in its backlog (the parent holds the socket)
            # until the replacement accepts them
            statuses = [http.get("/api/users/area/440000").status_code for _ in range(20)]
        assert statuses == [200] * 20
        deadline = time.monotonic() + 10
        while cluster.state["functions"]["users"][index]["pid"] == victim and time.monotonic() < deadline:
            time.sleep(0.1)
        after = {w["port"]: w["pid"] for w in cluster.state["functions"]["users"]}
        assert set(after) == set(before) and after[port] != victim  # same port, a new process
        os.kill(after[port], 0)
    assert cluster.out.read_text().count("exited with status -9; starting it again") == PROCESSES


def test_sigterm_stops_nginx_the_workers_and_the_jobs(cluster):
    state = cluster.state
    children = [w["pid"] for group in state["functions"].values() for w in group] + [state["nginx"]["pid"]]
    listed = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(cluster.proc.pid)], capture_output=True, text=True
    ).stdout
    jobs = [int(line.split()[0]) for line in listed.splitlines() if "celery" in line]
    assert len(jobs) == 2, listed  # the job worker and beat, as plain `studyhub serve` runs them

    cluster.proc.send_signal(signal.SIGTERM)  # only the parent: it must stop the rest itself
    assert cluster.proc.wait(timeout=30) == 0, _tail(cluster.out)
    deadline = time.monotonic() + 10
    alive = children + jobs
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _running(pid)]
        time.sleep(0.1)
    assert not alive, f"still running after SIGTERM: {alive}\n{_tail(cluster.out)}"
    with pytest.raises(httpx.ConnectError):
        httpx.get(cluster.url + "/api/users/health", timeout=2)
    assert not (cluster.var_dir / "cluster.json").exists()


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"  # a zombie is gone, only not yet reaped
    except FileNotFoundError:
        return False


def test_without_nginx_the_cluster_refuses_to_start_with_a_clear_message(tmp_path):
    env = _clean_env()
    env.update({"STUDYHUB_VAR_DIR": str(tmp_path / "var"), "STUDYHUB_NGINX": str(tmp_path / "no-nginx-here")})
    result = subprocess.run(
        [sys.executable, "-m", "studyhub.ops.cli", "serve", "--nginx", "--processes", "2", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "nginx is not installed" in result.stderr and "apt-get install nginx" in result.stderr
    assert not (tmp_path / "var" / "studyhub.sqlite3").exists()  # refused before touching the database


def test_a_port_already_taken_is_refused_before_anything_starts(tmp_path):
    import socket

    env = _clean_env()
    env["STUDYHUB_VAR_DIR"] = str(tmp_path / "var")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "studyhub.ops.cli", "serve", "--processes", "2", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"can't listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert not (tmp_path / "var" / "studyhub.sqlite3").exists()
