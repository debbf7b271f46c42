"""The order rush through the running server: orders per second and latency percentiles.

``studyhub serve`` runs as a subprocess on a free port (waitress, 16 threads, the users and
shopping functions, no job worker), on the embedded defaults (SQLite in a temporary var dir)
and, with ``--mysql``, on MariaDB (a temporary database, dropped afterwards). The bench process
arranges the data directly in the same database (buyers, addresses, one commodity, cart rows)
and then acts only through HTTP, one connection per request, all buyers released at once:

- **rush**: ``--buyers`` (100) buyers for a stock of ``--stock`` (30), ``--rounds`` (5) times:
  exactly ``stock`` orders must succeed, the rest answer ``400 insufficient_stock``, the stock
  ends at 0 and sales at ``stock`` (checked: a violation makes the exit status 1).
- **sustained**: ``--orders`` (600) orders with enough stock for all, ``--clients`` (32)
  concurrent clients issuing them back to back: the throughput when every request places an order.

Reported per stack and scenario: orders/s (successful orders over wall time), requests/s, and
p50/p95/p99/max latency of the requests in milliseconds.

    python bench/orders.py [--mysql mysql+pymysql://root@127.0.0.1:3306] [--buyers 100] [--stock 30]
                           [--rounds 5] [--orders 600] [--clients 32] [--no-write]

Writes ``bench/results/orders.json`` and prints a summary. It is not a test: run it when asked.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "orders.json"
SETTINGS_ENV = (
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
    "LOG_LEVEL",
    "ORDER_PAY_TIMEOUT_SECONDS",
)
GUANGDONG, GUANGZHOU, TIANHE = 440000, 440100, 440106


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class Server:
    """``studyhub serve`` in a subprocess, with the given settings."""

    def __init__(self, env: dict[str, str], var_dir: Path) -> None:
        self.port = free_port()
        self.log = open(var_dir / "serve.log", "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "studyhub.ops.cli",
                "serve",
                "--port",
                str(self.port),
                "--threads",
                "16",
                "--function",
                "users",
                "--function",
                "shopping",
                "--no-jobs",
            ],
            env=env,
            cwd=var_dir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"studyhub serve exited with {self.proc.returncode}; see {var_dir / 'serve.log'}")
            try:
                status, _ = self.request("GET", "/api/shopping/health")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("studyhub serve did not answer within 120 s")

    def request(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Accept": "application/json"}
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            if token:
                headers["Authorization"] = f"Bearer {token}"
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


# --- arranging data in the server's database (this process uses the same settings) ---------------


def make_buyers(count: int) -> list[tuple[int, str, int]]:
    from studyhub.core.db import session_scope
    from studyhub.core.security import hash_password, issue_token
    from studyhub.models.users import Address, User

    password = hash_password(uuid.uuid4().hex)
    with session_scope() as session:
        users = [User(username=f"bench-buyer-{i}", password=password, email="") for i in range(count)]
        session.add_all(users)
        session.flush()
        addresses = [
            Address(
                user_id=u.id,
                province_id=GUANGDONG,
                city_id=GUANGZHOU,
                district_id=TIANHE,
                place="天河路 1 号",
                receiver="买家",
                mobile="13800138000",
            )
            for u in users
        ]
        session.add_all(addresses)
        session.flush()
        return [(u.id, issue_token(u), a.id) for u, a in zip(users, addresses, strict=True)]


def reset(commodity_id: int | None, stock: int, carts: list[tuple[int, int]]) -> tuple[int, list[int]]:
    """Empty orders and carts, set the commodity's stock, insert one cart row per (user, number)."""
    from decimal import Decimal

    from sqlalchemy import delete

    from studyhub.core.db import session_scope
    from studyhub.models.shopping import Commodity, Order, OrderGoods, ShoppingCart

    with session_scope() as session:
        for model in (OrderGoods, Order, ShoppingCart):
            session.execute(delete(model))
        if commodity_id is None:
            commodity = Commodity(name="限量复习资料", price=Decimal("19.90"), stock=stock, sales=0, description="")
            session.add(commodity)
            session.flush()
        else:
            commodity = session.get(Commodity, commodity_id)
            commodity.stock, commodity.sales = stock, 0
        rows = [ShoppingCart(user_id=user_id, commodity_id=commodity.id, number=number) for user_id, number in carts]
        session.add_all(rows)
        session.flush()
        return commodity.id, [row.id for row in rows]


def stored(commodity_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from studyhub.core.db import session_scope
    from studyhub.models.shopping import Commodity, Order

    with session_scope() as session:
        commodity = session.get(Commodity, commodity_id)
        orders = session.scalar(select(func.count()).select_from(Order))
        return {"stock": commodity.stock, "sales": commodity.sales, "orders": orders}


# --- the load ---------------------------------------------------------------------------------------


def fire(server: Server, jobs: list[tuple[str, dict]], clients: int) -> tuple[float, list[tuple[int, str, float]]]:
    """Send ``jobs`` ((token, body) orders) from ``clients`` threads, released together."""
    results: list[tuple[int, str, float]] = []
    lock = threading.Lock()
    queue = list(reversed(jobs))
    barrier = threading.Barrier(clients + 1)

    def worker() -> None:
        barrier.wait()
        while True:
            with lock:
                if not queue:
                    return
                token, body = queue.pop()
            started = time.perf_counter()
            status, raw = server.request("POST", "/api/shopping/orders", body, token)
            elapsed = (time.perf_counter() - started) * 1000
            code = "" if status == 201 else json.loads(raw or b"{}").get("code", "")
            with lock:
                results.append((status, code, elapsed))

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results


def summarise(wall: float, results: list[tuple[int, str, float]]) -> dict:
    latencies = [r[2] for r in results]
    ok = sum(1 for r in results if r[0] == 201)
    statuses: dict[str, int] = {}
    for status, code, _ in results:
        key = f"{status} {code}".strip()
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "requests": len(results),
        "orders": ok,
        "wall_s": round(wall, 3),
        "orders_per_s": round(ok / wall, 1),
        "requests_per_s": round(len(results) / wall, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "statuses": statuses,
    }


def run_stack(name: str, args, mysql_url: str | None) -> dict:
    var_dir = Path(tempfile.mkdtemp(prefix=f"studyhub-bench-orders-{name}-"))
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    env.update(
        {
            "STUDYHUB_VAR_DIR": str(var_dir),
            "JWT_SECRET": uuid.uuid4().hex * 2,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    database = None
    if mysql_url:
        import sqlalchemy

        database = f"studyhub_bench_{uuid.uuid4().hex[:8]}"
        admin = sqlalchemy.create_engine(mysql_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        env["DATABASE_URL"] = f"{mysql_url}/{database}?charset=utf8mb4"
    os.environ.clear()
    os.environ.update(env)
    from studyhub.core import config, db

    config.reset()
    db.reset()
    server = Server(env, var_dir)
    try:
        buyers = make_buyers(max(args.buyers, args.clients))
        rush_rounds = []
        violations = []
        for _ in range(args.rounds):
            cid, cart_ids = reset(
                None if not rush_rounds else rush_rounds[-1]["commodity"],
                args.stock,
                [(user_id, 1) for user_id, _, _ in buyers[: args.buyers]],
            )
            jobs = [
                (token, {"cart": [cart_id], "address": address, "pay_method": 1})
                for (_, token, address), cart_id in zip(buyers[: args.buyers], cart_ids, strict=True)
            ]
            wall, results = fire(server, jobs, clients=len(jobs))
            summary = summarise(wall, results)
            after = stored(cid)
            expected = {"stock": 0, "sales": args.stock, "orders": args.stock}
            if after != expected or summary["statuses"] != {
                "201": args.stock,
                "400 insufficient_stock": args.buyers - args.stock,
            }:
                violations.append({"stored": after, "statuses": summary["statuses"]})
            rush_rounds.append({**summary, "commodity": cid, "stored": after})
        rush = {
            "buyers": args.buyers,
            "stock": args.stock,
            "rounds": len(rush_rounds),
            "orders_per_s_median": round(statistics.median(r["orders_per_s"] for r in rush_rounds), 1),
            "requests_per_s_median": round(statistics.median(r["requests_per_s"] for r in rush_rounds), 1),
            "p99_ms_median": round(statistics.median(r["p99_ms"] for r in rush_rounds), 1),
            "oversold": bool(violations),
            "violations": violations,
            "per_round": [{k: v for k, v in r.items() if k != "commodity"} for r in rush_rounds],
        }
        # sustained: every request places an order (one commodity per order: no row contention)
        clients = buyers[: args.clients]
        reset(rush_rounds[-1]["commodity"], 0, [])
        from studyhub.core.db import session_scope
        from studyhub.models.shopping import Commodity, ShoppingCart

        with session_scope() as session:
            extra = []
            for index in range(args.orders):
                user_id, token, address = clients[index % len(clients)]
                commodity = Commodity(name=f"练习册 {index}", price=19, stock=1, sales=0, description="")
                session.add(commodity)
                extra.append((commodity, user_id, token, address))
            session.flush()
            rows = [ShoppingCart(user_id=user_id, commodity_id=c.id, number=1) for c, user_id, _, _ in extra]
            session.add_all(rows)
            session.flush()
            jobs = [
                (token, {"cart": [row.id], "address": address, "pay_method": 1})
                for row, (_, _, token, address) in zip(rows, extra, strict=True)
            ]
        wall, results = fire(server, jobs, clients=args.clients)
        sustained = {"orders_requested": args.orders, "clients": args.clients, **summarise(wall, results)}
        return {"database": "mariadb" if mysql_url else "sqlite", "rush": rush, "sustained": sustained}
    finally:
        server.stop()
        db.reset()
        if database:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{database}`")
            admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mysql", help="also run on MariaDB/MySQL at this server URL (no database name)")
    parser.add_argument("--buyers", type=int, default=100)
    parser.add_argument("--stock", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    saved = dict(os.environ)
    stacks = {}
    try:
        stacks["embedded"] = run_stack("embedded", args, None)
        if args.mysql:
            stacks["mysql"] = run_stack("mysql", args, args.mysql)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    report = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "server": "studyhub serve (waitress, 16 threads; users + shopping functions; no job worker)",
        "stacks": stacks,
    }
    for name, stack in stacks.items():
        rush, sustained = stack["rush"], stack["sustained"]
        print(
            f"{name:9s} rush {rush['buyers']} buyers / stock {rush['stock']} x{rush['rounds']}: "
            f"{rush['orders_per_s_median']} orders/s, {rush['requests_per_s_median']} req/s, "
            f"p99 {rush['p99_ms_median']} ms, oversold={rush['oversold']}"
        )
        print(
            f"{name:9s} sustained {sustained['orders']} orders, {sustained['clients']} clients: "
            f"{sustained['orders_per_s']} orders/s, p50 {sustained['p50_ms']} ms, p99 {sustained['p99_ms']} ms"
        )
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        print(f"written {RESULTS.relative_to(ROOT)}")
    failed = any(s["rush"]["oversold"] or s["sustained"]["orders"] != args.orders for s in stacks.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
