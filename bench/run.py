"""The performance suite of issue 15: every hot path beside its floor, in one run, on this machine.

    python bench/run.py [--quick] [--mysql mysql+pymysql://root@127.0.0.1:3306] [--redis redis://127.0.0.1:6379/0]
                        [--processes N] [--no-embedded] [--no-uwsgi] [--no-waitress-loop] [--no-cold-start]
                        [--no-write]

Server scenarios run against ``studyhub serve`` in a subprocess (users, work, community and shopping;
no job worker) on MariaDB + Redis (a private database, dropped afterwards) with one process and
with ``--processes N`` (default: the CPU count, ``studyhub serve``'s own default); the full run
also serves the embedded stack (SQLite + embedded cache) both ways. On MariaDB the same functions
also run under ``studyhub serve`` with waitress's own loop as its server (the engine before the
epoll server; ``--no-waitress-loop`` skips it) and under uWSGI (``--processes N``, an HTTP/1.1
socket; ``--no-uwsgi`` skips it): the
difference is what ``studyhub serve``'s server (Python threads over epoll, waitress's parser)
costs per request beside a C one. Each scenario is driven by ``--clients``
(32) threads on keep-alive connections for a fixed window:

- **topics**: ``GET /api/work/topics?page=1&size=10`` as a student (a few thousand topics under a
  few labels, one of them an exam label);
- **article**: ``GET /api/community/articles/{id}`` (adds 1 to its page view);
- **area**: ``GET /api/users/area/440100``;
- **login**: ``POST /api/users/login``, each with a fresh captcha whose answer is put in the cache
  beforehand (as ``studyhub captcha-answer`` reads it);
- **order rush**: 100 buyers for a stock of 30 (bench/orders.py's arrangement), ``--clients`` at
  once, several rounds; checked: exactly 30 orders, never oversold, no 5xx; the deadlock retries
  during the rush counted from the server's log (``core.db``'s "transaction retry" warnings).

The **floor** of each request is measured in the same run: a raw PyMySQL loop, ``--clients``
threads with a connection each, issuing the very statements the route issued (captured once with
SQLAlchemy's ``before_cursor_execute`` through the front door in this process) and a ``COMMIT``,
and the very Redis commands it sent (captured at redis-py's ``execute_command`` and pipeline
``execute``: the caller's denylist and version ``MGET``, the area's ``GET``, a login's captcha
and rate-limit commands) on a raw redis-py connection; login adds the argon2 check. The order's
floor replays the rush's mix (of every 100 buyers, 30 replay a placed order's statements with a
fresh order id, 70 a refused one's), each rolled back so the stock row stays the contended lock;
the placed replay's cart DELETE finds its row gone (the captured order took it).

Reported per scenario: req/s, p50/p99 in ms, the server's CPU per request (utime + stime of the
server's process tree from ``/proc`` over the measured window; for the floor, the loop's own
process time) and the ratio to the floor. The floor is the median of ``FLOOR_WINDOWS`` (3)
windows, every window's req/s kept in the results: it varies more than the server does. Cold start (bench/cold_start.py's measurement, spawn to
first health answer, and to exit) of every function beside a bare Chalice app that imports only
SQLAlchemy Core and PyMySQL, and the effect of ``gc.freeze()`` (the same interpreter with
``gc.unfreeze()`` before exit). Logging: microseconds per request line, today's handlers beside a
one-scrub pipeline.

Writes ``bench/results/suite.json``, prints a markdown table and puts it in README.md between
``<!-- bench:suite -->`` markers. The full run takes a few minutes, ``--quick`` under one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import cold_start  # noqa: E402 - bench/cold_start.py, beside this file
import orders  # noqa: E402 - bench/orders.py

RESULTS = ROOT / "bench" / "results" / "suite.json"
README = ROOT / "README.md"
MARK_BEGIN, MARK_END = "<!-- bench:suite -->", "<!-- /bench:suite -->"
PASSWORD = "bench-password-1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
AREA_ID = 440100

# --- measuring ---------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    return orders.percentile(values, q) if values else float("nan")


def tree_cpu_seconds(root_pid: int) -> float:
    """utime + stime of ``root_pid`` and every descendant (workers, Nginx), from ``/proc``."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


def drive(work: Callable[[Any], bool], make_state: Callable[[], Any], clients: int, seconds: float) -> dict:
    """``clients`` threads call ``work(state)`` back to back for ``seconds`` (or until it returns
    False); latencies of the calls that started inside the window."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(index: int) -> None:
        state = make_state()
        barrier.wait()
        mine = latencies[index]
        while time.perf_counter() < stop_at[0]:
            started = time.perf_counter()
            try:
                more = work(state)
            except Exception:  # noqa: BLE001 - counted, the run goes on
                failures[index] += 1
                more = True
            mine.append((time.perf_counter() - started) * 1000)
            if not more:
                break
        close = getattr(state, "close", None)
        if close:
            close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + 3600
    barrier.wait()
    started = time.perf_counter()
    stop_at[0] = started + seconds
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    flat = [x for row in latencies for x in row]
    return {
        "requests": len(flat),
        "failures": sum(failures),
        "wall_s": round(wall, 2),
        "rps": round(len(flat) / wall, 1),
        "p50_ms": round(percentile(flat, 50), 2),
        "p99_ms": round(percentile(flat, 99), 2),
    }


class Http:
    """One keep-alive connection of one client thread; any answer but ``expect`` is a failure."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, *, token: str | None = None, body: dict | None = None) -> tuple[int, bytes]:
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # reconnects on the next request
            raise

    def close(self) -> None:
        self.conn.close()


# --- the server ----------------------------------------------------------------------------------------


class Server:
    command = [sys.executable, "-m", "studyhub.ops.cli"]

    def __init__(self, env: dict[str, str], var_dir: Path, processes: int) -> None:
        self.env = env
        self.port = orders.free_port()
        self.log_path = var_dir / f"serve-{processes}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        args = [*self.command, "serve", "--port", str(self.port), "--threads", "16"]
        for name in ("users", "work", "community", "shopping"):
            args += ["--function", name]
        args += ["--no-jobs", "--no-migrate"]
        args += ["--processes", str(processes)]  # N servers on the one port, as serve runs by default
        self.proc = subprocess.Popen(args, env=env, cwd=var_dir, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                ready = all(
                    Http(self.port).call("GET", f"/api/{group}/health")[0] == 200
                    for group in ("users", "work", "community", "shopping")
                )
                if ready:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"the server did not answer within 120 s; see {self.log_path}")

    def cpu(self) -> float:
        return tree_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class WaitressLoopServer(Server):
    """``studyhub serve`` with waitress's own loop as its server (bench/serve_waitress_loop.py): the
    engine it ran before the epoll server, and runs where there is no epoll."""

    command = [sys.executable, str(ROOT / "bench" / "serve_waitress_loop.py")]


class UwsgiServer(Server):
    """The same functions under uWSGI (``pip install pyuwsgi``; ``local.wsgi:application``, as
    ``infra/uwsgi/uwsgi.ini`` runs them) on an HTTP/1.1 socket, ``processes`` x 16 threads: what
    ``studyhub serve``'s server (local/wsgi_server.py, Python) costs beside a C one, in the same run. Not
    ``studyhub serve``'s shape: a uWSGI thread holds a keep-alive connection while it idles, so it
    runs behind Nginx (``studyhub nginx-config --uwsgi``), not facing clients."""

    def __init__(self, env: dict[str, str], var_dir: Path, processes: int) -> None:
        self.env = env
        self.port = orders.free_port()
        self.log_path = var_dir / f"uwsgi-{processes}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        args = [
            *(["uwsgi"] if shutil.which("uwsgi") else [sys.executable, "-m", "pyuwsgi"]),
            *("--module", "local.wsgi:application", "--chdir", str(ROOT), "--master", "--lazy-apps"),
            *("--need-app", "--single-interpreter", "--die-on-term", "--disable-logging", "--thunder-lock"),
            *("--processes", str(processes), "--threads", "16", "--http11-socket", f"127.0.0.1:{self.port}"),
            *("--buffer-size", "32768", "--post-buffering", "65536"),
        ]
        served = {**env, "STUDYHUB_FUNCTIONS": "users,work,community,shopping"}
        self.proc = subprocess.Popen(args, env=served, cwd=var_dir, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()


def uwsgi_available() -> str | None:
    """Why uWSGI can't run here, or None."""
    import importlib.util

    if shutil.which("uwsgi") or importlib.util.find_spec("pyuwsgi"):
        return None
    return "uWSGI is not installed (pip install pyuwsgi, a dev dependency)"


def measured(server: Server, run: Callable[[], dict]) -> dict:
    before = server.cpu()
    result = run()
    used = server.cpu() - before
    result["cpu_ms_per_req"] = round(used * 1000 / max(1, result["requests"]), 2)
    return result


# --- the data --------------------------------------------------------------------------------------------


def arrange(topics: int) -> dict[str, Any]:
    """Users, a few labels (one an exam label) with ``topics`` topics, an article."""
    from studyhub.core.db import session_scope
    from studyhub.core.security import issue_token
    from studyhub.domain.users.accounts import create_user
    from studyhub.models.community import Article
    from studyhub.models.users import STUDENT_GROUP_ID, TEACHER_GROUP_ID
    from studyhub.models.work import Label, Topic

    with session_scope() as session:
        teacher = create_user(session, username="bench-teacher", password=PASSWORD, group_ids=[TEACHER_GROUP_ID])
        student = create_user(session, username="bench-student", password=PASSWORD, group_ids=[STUDENT_GROUP_ID])
        session.flush()
        labels = [Label(name=name, user_id=teacher.id) for name in ("数学", "语文", "英语", "期末考试")]
        session.add_all(labels)
        session.flush()
        session.add_all(
            Topic(subject=f"题目 {i}", type=i % 5, score=2.0, answer="A", label_id=labels[i % 4].id, user_id=teacher.id)
            for i in range(topics)
        )
        article = Article(title="复习方法", content="正文" * 200, user_id=teacher.id)
        session.add(article)
        session.flush()
        return {
            "student": issue_token(student),
            "teacher": issue_token(teacher),
            "student_name": student.username,
            "article": article.id,
        }


def put_captchas(count: int) -> list[str]:
    """``count`` live captchas with the answer ``ABCD``, straight into the cache (no PNG drawn)."""
    from studyhub.clients.cache import get_cache
    from studyhub.domain.users.login import CAPTCHA_KEY

    cache = get_cache()
    uuids = [str(uuid.uuid4()) for _ in range(count)]
    for one in uuids:
        cache.set(CAPTCHA_KEY.format(uuid=one), "ABCD", 600)
    return uuids


# --- capturing a route's statements and replaying them raw ------------------------------------------------


# A captured Redis command (its arguments) or pipeline (its commands, and whether MULTI/EXEC), in
# place of a SQL statement in a captured list.
REDIS, REDIS_PIPELINE = "-- redis", "-- redis pipeline"


class Capture:
    """The statements and Redis commands a request issues, through the front door in this process."""

    def __init__(self) -> None:
        import redis
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        from local.frontdoor import FrontDoor

        self.door = FrontDoor(["users", "work", "community", "shopping"])
        self.statements: list[tuple[str, Any, bool]] | None = None
        event.listen(Engine, "before_cursor_execute", self._seen)
        capture, command, pipeline = self, redis.Redis.execute_command, redis.client.Pipeline.execute

        def execute_command(client: Any, *args: Any, **options: Any) -> Any:
            if capture.statements is not None:
                capture.statements.append((REDIS, args, False))
            return command(client, *args, **options)

        def execute(pipe: Any, *args: Any, **options: Any) -> Any:
            if capture.statements is not None:
                commands = [stacked[0] for stacked in pipe.command_stack]
                capture.statements.append((REDIS_PIPELINE, commands, pipe.transaction))
            return pipeline(pipe, *args, **options)

        redis.Redis.execute_command = execute_command  # type: ignore[method-assign]
        redis.client.Pipeline.execute = execute  # type: ignore[method-assign]

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if self.statements is not None:  # ``many``: an executemany (one multi-row INSERT on PyMySQL)
            self.statements.append((statement, parameters, many))

    def of(self, method: str, path: str, *, token: str | None = None, body: dict | None = None) -> list:
        headers = {"accept": "application/json", "content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        path, _, query = path.partition("?")
        self.door.route(method, path, query, headers, json.dumps(body).encode() if body else b"")  # warm
        self.statements = []
        answer = self.door.route(method, path, query, headers, json.dumps(body).encode() if body else b"")
        statements, self.statements = self.statements, None
        return [statements, answer.status]


def raw_connection(url: str) -> Any:
    import pymysql
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return pymysql.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
        database=parsed.database,
        charset="utf8mb4",
        autocommit=False,
    )


def raw_redis() -> Any:
    import redis

    return redis.Redis.from_url(os.environ["REDIS_URL"])


class Backends:
    """One floor client's raw connections: PyMySQL and redis-py."""

    def __init__(self, url: str) -> None:
        self.conn, self.redis = raw_connection(url), raw_redis()

    def close(self) -> None:
        self.conn.close()
        self.redis.close()


def replay(
    cursor: Any,
    statements: list[tuple[str, Any, bool]],
    values: dict[Any, Any] | None = None,
    redis: Any = None,
) -> list[int]:
    """Run captured statements on a PyMySQL cursor (and Redis commands on ``redis``), each
    parameter equal to a key of ``values`` replaced by its value; the row count of each statement
    (0 for a Redis command)."""

    def swap(parameters: Any) -> Any:
        if not values:
            return parameters
        if isinstance(parameters, dict):
            return {k: values.get(v, v) if isinstance(v, str) else v for k, v in parameters.items()}
        return [swap(one) for one in parameters]

    counts = []
    for statement, parameters, many in statements:
        if statement == REDIS:
            redis.execute_command(*parameters)
            counts.append(0)
        elif statement == REDIS_PIPELINE:
            pipe = redis.pipeline(transaction=many)
            for command in parameters:
                pipe.execute_command(*command)
            pipe.execute()
            counts.append(0)
        elif many:
            counts.append(cursor.executemany(statement, swap(parameters)))
        else:
            counts.append(cursor.execute(statement, swap(parameters)))
            cursor.fetchall()
    return counts


# The floor is measured in several windows and the median one reported: run to run it varied by
# up to 50 % on this machine (32 Python threads and MariaDB on 2 cores), with identical statements,
# which alone moved a ratio to the floor from 0.6 to 0.9.
FLOOR_WINDOWS = 3


def median_window(windows: list[dict]) -> dict:
    """The window with the median req/s, and every window's req/s beside it."""
    chosen = dict(sorted(windows, key=lambda window: window["rps"])[len(windows) // 2])
    chosen["rps_windows"] = [window["rps"] for window in windows]
    return chosen


def floor(
    url: str,
    statements: list[tuple[str, Any, bool]],
    clients: int,
    seconds: float,
    *,
    extra: Callable[[], Any] | None = None,
    rollback: bool = False,
) -> dict:
    """``clients`` PyMySQL (and Redis) connections replaying ``statements`` (then COMMIT, or ROLLBACK)."""

    def work(backends: Backends) -> bool:
        conn = backends.conn
        with conn.cursor() as cursor:
            replay(cursor, statements, redis=backends.redis)
        conn.rollback() if rollback else conn.commit()
        if extra:
            extra()
        return True

    windows = []
    for _ in range(FLOOR_WINDOWS):
        before = time.process_time()
        window = drive(work, lambda: Backends(url), clients, seconds)
        window["cpu_ms_per_req"] = round((time.process_time() - before) * 1000 / max(1, window["requests"]), 2)
        windows.append(window)
    result = median_window(windows)
    result["cpu_note"] = "the loop's own process time (PyMySQL and redis-py client side)"
    result["statements"] = sum(1 for statement, _, _ in statements if not statement.startswith(REDIS))
    result["redis_commands"] = len(statements) - result["statements"]
    return result


# --- scenarios ------------------------------------------------------------------------------------------


def server_scenarios(server: Server, data: dict, args: argparse.Namespace, *, rush: bool) -> dict[str, dict]:
    port, seconds, clients = server.port, args.seconds, args.clients
    topics_path = "/api/work/topics?page=1&size=10"
    out: dict[str, dict] = {}

    def reader(path: str, token: str | None) -> Callable[[Http], bool]:
        def work(conn: Http) -> bool:
            status, _ = conn.call("GET", path, token=token)
            if status != 200:
                raise RuntimeError(status)
            return True

        return work

    out["topics"] = measured(
        server, lambda: drive(reader(topics_path, data["student"]), lambda: Http(port), clients, seconds)
    )
    article = f"/api/community/articles/{data['article']}"
    out["article"] = measured(
        server, lambda: drive(reader(article, data["student"]), lambda: Http(port), clients, seconds)
    )
    area = f"/api/users/area/{AREA_ID}"
    out["area"] = measured(server, lambda: drive(reader(area, None), lambda: Http(port), clients, seconds))

    captchas = put_captchas(args.logins)
    lock = threading.Lock()

    def login(conn: Http) -> bool:
        with lock:
            if not captchas:
                return False
            one = captchas.pop()
        body = {"username": data["student_name"], "password": PASSWORD, "uuid": one, "verify": "ABCD"}
        status, raw = conn.call("POST", "/api/users/login", body=body)
        if status != 200:
            raise RuntimeError(status, raw[:200])
        return True

    out["login"] = measured(server, lambda: drive(login, lambda: Http(port), clients, seconds))
    if rush:
        out["order rush"] = measured(server, lambda: order_rush(server, args))
    return out


def order_rush(server: Server, args: argparse.Namespace) -> dict:
    """bench/orders.py's rush, ``args.rounds`` times, ``args.clients`` at once; checked."""
    shim = orders.Server.__new__(orders.Server)
    shim.port = server.port
    buyers = args._buyers
    results: list[tuple[int, str, float]] = []
    wall_total, violations, commodity = 0.0, [], None
    retries_before = deadlock_retries(server)
    for _ in range(args.rounds):
        commodity, cart_ids = orders.reset(commodity, args.stock, [(user_id, 1) for user_id, _, _ in buyers])
        jobs = [
            (token, {"cart": [cart_id], "address": address, "pay_method": 1})
            for (_, token, address), cart_id in zip(buyers, cart_ids, strict=True)
        ]
        wall, round_results = orders.fire(shim, jobs, clients=args.clients)
        wall_total += wall
        results.extend(round_results)
        summary = orders.summarise(wall, round_results)
        after = orders.stored(commodity)
        expected_status = {"201": args.stock, "400 insufficient_stock": args.buyers - args.stock}
        if after != {"stock": 0, "sales": args.stock, "orders": args.stock} or summary["statuses"] != expected_status:
            violations.append({"stored": after, "statuses": summary["statuses"]})
    latencies = [r[2] for r in results]
    return {
        "requests": len(results),
        "failures": sum(1 for r in results if r[0] >= 500),
        "wall_s": round(wall_total, 2),
        "rps": round(len(results) / wall_total, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "rounds": args.rounds,
        "oversold_or_wrong": violations,
        "deadlock_retries": deadlock_retries(server) - retries_before,
    }


def order_statements(capture: Capture, args: argparse.Namespace, stock: int) -> tuple[list, str | None]:
    """One order's statements through the front door, in this process: placed (``stock`` 10) or
    refused (``stock`` 0); with the placed order's id."""
    buyer = args._buyers[0]
    _commodity, (cart,) = orders.reset(None, stock, [(buyer[0], 1)])
    capture.statements = []
    headers = {"accept": "application/json", "content-type": "application/json", "authorization": f"Bearer {buyer[1]}"}
    body = json.dumps({"cart": [cart], "address": buyer[2], "pay_method": 1}).encode()
    answer = capture.door.route("POST", "/api/shopping/orders", "", headers, body)
    statements, capture.statements = capture.statements, None
    if answer.status != (201 if stock else 400):
        raise SystemExit(f"capturing an order (stock {stock}): {answer.status} {answer.body[:300]!r}")
    return statements, json.loads(answer.body)["order_id"] if stock else None


def order_floor(url: str, capture: Capture, args: argparse.Namespace) -> dict:
    """The rush's mix replayed raw: of every ``buyers`` orders, ``stock`` replay a placed order's
    statements (the stock row their contended lock, a fresh order id each), the rest a refused
    one's; each then rolls back (the stock stays, the next one finds it). A placed replay whose
    UPDATE of the stock matched no row, or whose INSERTs inserted nothing, counts as a failure."""
    import itertools

    placed, captured_id = order_statements(capture, args, 10)
    refused, _ = order_statements(capture, args, 0)
    writes = [
        i for i, (statement, _, _) in enumerate(placed) if statement.lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    fresh = itertools.count(1)
    mix = [i < args.stock for i in range(args.buyers)]

    class Buyer:
        def __init__(self) -> None:
            self.backends, self.turn = Backends(url), itertools.count()
            self.conn = self.backends.conn

        def close(self) -> None:
            self.backends.close()

    def work(buyer: Buyer) -> bool:
        place = mix[next(buyer.turn) % len(mix)]
        try:
            with buyer.conn.cursor() as cursor:
                if place:
                    counts = replay(cursor, placed, {captured_id: f"9{next(fresh):025d}"}, buyer.backends.redis)
                    if any(counts[i] < 1 for i in writes):
                        raise RuntimeError("a write of the placed order matched no row")
                else:
                    replay(cursor, refused, redis=buyer.backends.redis)
        finally:
            buyer.conn.rollback()
        return True

    windows = []
    for _ in range(FLOOR_WINDOWS):
        before = time.process_time()
        window = drive(work, Buyer, args.clients, args.seconds)
        window["cpu_ms_per_req"] = round((time.process_time() - before) * 1000 / max(1, window["requests"]), 2)
        windows.append(window)
    result = median_window(windows)
    result["cpu_note"] = "the loop's own process time (PyMySQL and redis-py client side)"
    result["statements"] = {"placed": len(placed), "refused": len(refused)}  # Redis commands included
    return result


def deadlock_retries(server: Server) -> int:
    """Transactions the server retried so far (``core.db``'s warning per retry, in its log file)."""
    path = Path(server.env.get("LOG_FILE", ""))
    if not path.is_file():
        return 0
    with path.open(encoding="utf-8", errors="replace") as log:
        return sum(1 for line in log if "transaction retry" in line)


def floors(url: str, data: dict, args: argparse.Namespace, capture: Capture) -> dict[str, dict]:
    from studyhub.core.security import hash_password, verify_password

    out: dict[str, dict] = {}
    seconds, clients = args.seconds, args.clients
    topics, _ = capture.of("GET", "/api/work/topics?page=1&size=10", token=data["student"])
    out["topics"] = floor(url, topics, clients, seconds)
    article, _ = capture.of("GET", f"/api/community/articles/{data['article']}", token=data["student"])
    out["article"] = floor(url, article, clients, seconds)
    area, _ = capture.of("GET", f"/api/users/area/{AREA_ID}")  # a Redis GET, captured
    out["area"] = floor(url, area, clients, seconds)
    login_uuid = put_captchas(1)[0]
    body = {"username": data["student_name"], "password": PASSWORD, "uuid": login_uuid, "verify": "ABCD"}
    capture.statements = []  # a captcha is single use: the measured request is the only one
    headers = {"accept": "application/json", "content-type": "application/json"}
    capture.door.route("POST", "/api/users/login", "", headers, json.dumps(body).encode())
    login, capture.statements = capture.statements, None
    hashed = hash_password(PASSWORD)
    out["login"] = floor(url, login, clients, seconds, extra=lambda: verify_password(PASSWORD, hashed))
    out["order rush"] = order_floor(url, capture, args)
    return out


# --- cold start and logging ---------------------------------------------------------------------------------


def cold_starts(runs: int) -> dict:
    """bench/cold_start.py's measurement: per function the health check and a real authenticated
    route on MariaDB + Redis, spawn -> answer -> exit and CPU, beside the bare Chalice + Core +
    PyMySQL floor."""
    return cold_start.suite(runs)


def logging_cost(records: int) -> dict[str, float]:
    """µs per request line through a file and a console handler (to /dev/null) sharing one
    formatter: ``setup_logging``'s pipeline today beside the one before issue 15 (a ScrubFilter
    on each handler and a scrub of the whole line in each handler's format: four scrubs)."""
    import logging

    from studyhub.core import logs

    class FilterEveryTime(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            message = record.getMessage()
            cleaned = logs.scrub(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
            return True

    class ScrubEveryFormat(logs.TextFormatter):
        def format(self, record: logging.LogRecord) -> str:
            return logs.scrub(logging.Formatter.format(self, record))

    fmt = "%(levelname)s %(asctime)s %(name)s %(message)s"
    with tempfile.TemporaryDirectory(prefix="studyhub-suite-logs-") as tmp, open(os.devnull, "w") as sink:

        def per_record(name: str, formatter: logging.Formatter, filtered: bool) -> float:
            logger = logging.getLogger(f"bench.suite.{name}")
            logger.propagate = False
            logger.handlers = [
                logging.FileHandler(Path(tmp) / f"{name}.log", encoding="utf-8"),
                logging.StreamHandler(sink),
            ]
            for handler in logger.handlers:
                handler.setFormatter(formatter)
                if filtered:
                    handler.addFilter(FilterEveryTime())
            logger.setLevel(logging.INFO)
            extra = {"request_id": "r1", "method": "GET", "path": "/work/topics", "status": 200}
            extra.update({"duration_ms": 3.2, "user_id": 7, "function": "work"})
            started = time.perf_counter()
            for _ in range(records):
                logger.info("request", extra=extra)
            elapsed = time.perf_counter() - started
            for handler in logger.handlers:
                handler.close()
            return round(elapsed / records * 1e6, 1)

        return {
            "before_us_per_record": per_record("before", ScrubEveryFormat(fmt), True),
            "now_us_per_record": per_record("now", logs.TextFormatter(fmt), False),
        }


# --- one stack ---------------------------------------------------------------------------------------------------


def stack_env(var_dir: Path, database_url: str | None, redis_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in orders.SETTINGS_ENV}
    env.update(
        {
            "STUDYHUB_VAR_DIR": str(var_dir),
            "JWT_SECRET": uuid.uuid4().hex * 2,
            "LOG_LEVEL": "WARNING",
            "LOG_FILE": str(var_dir / "logs" / "studyhub.log"),
            "CACHE_KEY_PREFIX": f"bench:{uuid.uuid4().hex[:8]}:",
            "RATE_LIMIT_CAPTCHA": "10000000/minute",
            "RATE_LIMIT_LOGIN": "10000000/minute",
            "PYTHONPATH": str(ROOT),
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def use_env(env: dict[str, str]) -> None:
    from studyhub.clients import cache, queue, search, storage
    from studyhub.core import config, db

    os.environ.clear()
    os.environ.update(env)
    for client in (config, db, cache, storage, search, queue):
        client.reset()


def run_stack(name: str, args: argparse.Namespace, processes: list[int]) -> dict:
    var_dir = Path(tempfile.mkdtemp(prefix=f"studyhub-suite-{name}-"))
    database = admin = None
    url = None
    if name == "mariadb":
        import sqlalchemy

        database = f"studyhub_bench_{uuid.uuid4().hex[:8]}"
        admin = sqlalchemy.create_engine(args.mysql, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        url = f"{args.mysql}/{database}?charset=utf8mb4"
    env = stack_env(var_dir, url, args.redis if url else None)
    saved = dict(os.environ)
    try:
        use_env(env)
        subprocess.run(
            [sys.executable, "-m", "studyhub.ops.cli", "seed"], env=env, cwd=var_dir, check=True, capture_output=True
        )
        data = arrange(args.topics)
        args._buyers = orders.make_buyers(args.buyers)
        out: dict[str, Any] = {"database": name, "runs": {}}
        if url:
            capture = Capture()
            out["floor"] = floors(url, data, args, capture)
        for count in processes:
            server = Server(env, var_dir, count)
            try:
                out["runs"][f"processes={count}"] = server_scenarios(server, data, args, rush=True)
            finally:
                server.stop()
        if url and args.waitress_loop:
            count = processes[-1]
            server = WaitressLoopServer(env, var_dir, count)
            try:
                out["runs"][f"waitress loop processes={count}"] = server_scenarios(server, data, args, rush=True)
            finally:
                server.stop()
        if url and args.uwsgi:
            count = processes[-1]
            if why := uwsgi_available():
                print(f"(uwsgi processes={count} not run: {why})")
            else:
                server = UwsgiServer(env, var_dir, count)
                try:
                    out["runs"][f"uwsgi processes={count}"] = server_scenarios(server, data, args, rush=True)
                finally:
                    server.stop()
        return out
    finally:
        from studyhub.clients.cache import get_cache
        from studyhub.core import db

        if redis_url_used := env.get("REDIS_URL"):
            try:  # the run's keys (caller versions live a day, captchas 10 minutes): a shared Redis
                get_cache().flush_prefix()
            except Exception as error:  # noqa: BLE001 - leftover keys are not worth failing the run
                print(f"(cache keys under {env['CACHE_KEY_PREFIX']} on {redis_url_used} left: {error})")
        db.reset()
        os.environ.clear()
        os.environ.update(saved)
        if database and admin is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{database}`")
            admin.dispose()
        shutil.rmtree(var_dir, ignore_errors=True)


# --- the table ------------------------------------------------------------------------------------------------------


def table(report: dict) -> str:
    lines = [
        "| stack | scenario | req/s | p50 ms | p99 ms | server CPU ms/req | floor req/s | floor p50 ms | ratio to floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for stack in report["stacks"]:
        floors_ = stack.get("floor", {})
        for run, scenarios in stack["runs"].items():
            for scenario, r in scenarios.items():
                f = floors_.get(scenario)
                ratio = f"{r['rps'] / f['rps']:.2f}×" if f and f["rps"] else "–"
                lines.append(
                    f"| {stack['database']} {run} | {scenario} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f}"
                    f" | {r['cpu_ms_per_req']:.2f} | {f['rps']:.0f} | {f['p50_ms']:.1f} | {ratio} |"
                    if f
                    else f"| {stack['database']} {run} | {scenario} | {r['rps']:.0f} | {r['p50_ms']:.1f}"
                    f" | {r['p99_ms']:.1f} | {r['cpu_ms_per_req']:.2f} | – | – | – |"
                )
    for stack in report["stacks"]:
        for run, scenarios in stack["runs"].items():
            rush = scenarios.get("order rush")
            if rush and "deadlock_retries" in rush:
                lines.append(
                    f"\nOrder rush, {stack['database']} {run}: {rush['deadlock_retries']} deadlock retries in the server"
                    f" log, {len(rush['oversold_or_wrong'])} wrong rounds of {rush['rounds']}, {rush['failures']} 5xx."
                )
    cold = report.get("cold_start")
    if cold and "results" in cold:
        lines += ["", *cold_start.markdown(cold)]
    logging_ = report.get("logging")
    if logging_:
        lines += [
            "",
            f"Logging, µs per request line (file + console handlers): four scrubs (before issue 15)"
            f" {logging_['before_us_per_record']}, one scrub (now) {logging_['now_us_per_record']}.",
        ]
    return "\n".join(lines)


def write_readme(text: str, report: dict) -> None:
    block = (
        f"{MARK_BEGIN}\nMeasured {report['measured_at']} with `python bench/run.py{' --quick' if report['quick'] else ''}`"
        f" ({report['machine']['cpus']} CPUs, Python {report['machine']['python']}, {report['clients']} clients):\n\n"
        f"{text}\n{MARK_END}"
    )
    readme = README.read_text(encoding="utf-8")
    if MARK_BEGIN in readme and MARK_END in readme:
        head, rest = readme.split(MARK_BEGIN, 1)
        readme = head + block + rest.split(MARK_END, 1)[1]
    else:
        readme = (
            readme.rstrip("\n")
            + "\n\n## Performance\n\n`python bench/run.py [--quick]` (issue 15)."
            + "\n\n"
            + block
            + "\n"
        )
    README.write_text(readme, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short windows, MariaDB only (one process and --processes N): about a minute",
    )
    parser.add_argument("--mysql", default=os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306"))
    parser.add_argument("--redis", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="the multi-process run's count")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=None, help="window per scenario (8; --quick 2)")
    parser.add_argument("--topics", type=int, default=3000)
    parser.add_argument("--buyers", type=int, default=100)
    parser.add_argument("--stock", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=None, help="order rush rounds (5; --quick 2)")
    parser.add_argument("--no-embedded", action="store_true")
    parser.add_argument(
        "--no-uwsgi", dest="uwsgi", action="store_false", help="skip the same functions under uWSGI (MariaDB only)"
    )
    parser.add_argument(
        "--no-waitress-loop",
        dest="waitress_loop",
        action="store_false",
        help="skip studyhub serve on waitress's own loop, the engine before the epoll server (MariaDB only)",
    )
    parser.add_argument("--no-cold-start", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="neither suite.json nor README.md")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (2.0 if args.quick else 8.0)
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.logins = 100000
    multi = [] if args.processes < 2 else [args.processes]

    load = os.getloadavg()
    stacks = [run_stack("mariadb", args, [1, *multi])]
    if not args.quick and not args.no_embedded:
        stacks.append(run_stack("embedded", args, [1, *multi]))
    report: dict[str, Any] = {
        "what": __doc__.split("\n\n")[1],
        "measured_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "quick": args.quick,
        "clients": args.clients,
        "seconds_per_scenario": args.seconds,
        "machine": {
            "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}",
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load],
            "load_generator": "threads on keep-alive http.client connections, in this process",
        },
        "stacks": stacks,
    }
    if not args.no_cold_start:
        report["cold_start"] = cold_starts(1 if args.quick else 5)
    report["logging"] = logging_cost(5000 if args.quick else 20000)
    text = table(report)
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        write_readme(text, report)
        print(f"\nwritten to {RESULTS.relative_to(ROOT)} and README.md")
    bad = [
        (s["database"], run, name)
        for s in stacks
        for run, scenarios in [*s["runs"].items(), ("floor", s.get("floor", {}))]
        for name, r in scenarios.items()
        if r.get("failures") or r.get("oversold_or_wrong")
    ]
    if bad:
        print(f"failures or a wrong rush: {bad}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
